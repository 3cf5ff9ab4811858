"""Log file set-up, masking of secrets in log records, and recent warnings in memory."""

from __future__ import annotations

import collections
import logging
import logging.handlers
import re
import sys
import threading
from pathlib import Path

from vaultgui.services.paths import AppPaths

logger = logging.getLogger(__name__)

#: Name of the log file inside ``AppPaths.log_dir``, as ``AppPaths.log_file`` has it.
LOG_FILE_NAME = "vaultgui.log"
MAX_LOG_BYTES = 2_000_000
LOG_BACKUP_COUNT = 5
#: Text that replaces every secret.
MASK = "***"

# Registered values shorter than this are ignored: masking every occurrence of
# a two-letter string would garble the log, and a keyed value such as
# ``password=ab`` is masked by the patterns anyway.
MIN_SECRET_LENGTH = 4
_MAX_REGISTERED_SECRETS = 500
_RECENT_RECORDS = 100
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"
# Marks the handlers that configure_logging added, so a second call finds them.
_HANDLER_MARK = "_vaultgui_handler"

# A key that names a secret, followed by ``:`` or ``=`` and its value. The value
# is a quoted string or runs to the next space, quote, comma, ampersand,
# semicolon or closing bracket. An Authorization value keeps its scheme word
# (``Bearer``, ``Basic``) inside the masked part.
_SECRET_KEYS = (
    r"password|passwd|session_?id|authorization|proxy-authorization"
    r"|(?:(?:access|api|refresh|id)_?)?token|client_secret"
)
_KEYED_VALUE = re.compile(
    rf"""(?P<key>\b(?:{_SECRET_KEYS})\b["']?\s*[:=]\s*)
    (?:"(?P<double>[^"]*)"
      |'(?P<single>[^']*)'
      |(?P<bare>(?:(?:bearer|basic)\s+)?[^\s"',&;)}}\]]+))""",
    re.IGNORECASE | re.VERBOSE,
)
_BEARER_TOKEN = re.compile(r"\b(?P<scheme>bearer\s+)(?!\*\*\*)[^\s\"',;)}\]]+", re.I)
# Vault API tokens start with this prefix.
_VAULT_API_TOKEN = re.compile(r"\bveeva-vault-[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
# Vault session ids are long hexadecimal strings. Execution ids are UUIDs with
# hyphens, so they stay readable.
_LONG_HEX = re.compile(r"\b[0-9A-Fa-f]{32,}\b")

_secrets_lock = threading.Lock()
# Insertion-ordered, so the oldest value is dropped first when the set is full.
_registered: dict[str, None] = {}


def register_secret(value: str) -> None:
    """Mask every later occurrence of ``value`` in log records and in :func:`redact`.

    Call it with a password or session id as soon as the app has one. Values
    shorter than :data:`MIN_SECRET_LENGTH` characters are ignored. The newest
    500 values are kept.
    """
    if len(value) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        _registered.pop(value, None)
        _registered[value] = None
        while len(_registered) > _MAX_REGISTERED_SECRETS:
            del _registered[next(iter(_registered))]


def forget_secrets() -> None:
    """Drop every value passed to :func:`register_secret`."""
    with _secrets_lock:
        _registered.clear()


def redact(text: str) -> str:
    """Mask passwords, session ids, tokens and registered values in ``text``.

    Masked values become ``***``. Calling it again on its result changes nothing.
    """
    with _secrets_lock:
        # Longest first, so a secret that contains another is masked whole.
        registered = sorted(_registered, key=len, reverse=True)
    for secret in registered:
        text = text.replace(secret, MASK)
    text = _KEYED_VALUE.sub(_mask_keyed_value, text)
    text = _BEARER_TOKEN.sub(lambda match: match.group("scheme") + MASK, text)
    text = _VAULT_API_TOKEN.sub(MASK, text)
    return _LONG_HEX.sub(MASK, text)


def _mask_keyed_value(match: re.Match[str]) -> str:
    key = match.group("key")
    if match.group("double") is not None:
        return f'{key}"{MASK}"'
    if match.group("single") is not None:
        return f"{key}'{MASK}'"
    return key + MASK


class RedactingFilter(logging.Filter):
    """Handler filter that masks secrets in a record's message, traceback and stack.

    It formats the message with its arguments and stores the masked result in
    ``record.msg`` with no arguments left. It also stores the masked traceback
    in ``record.exc_text`` and clears ``exc_info``, so no formatter can print
    the original exception text. Records are shared between handlers, so
    handlers that run after this filter also get the masked record. The filter
    never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(_message_of(record))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _EXCEPTION_FORMATTER.formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_EXCEPTION_FORMATTER = logging.Formatter()


def _message_of(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError) as error:
        # Formatting would fail again in the handler, which then prints the
        # raw arguments to stderr, so the arguments are dropped here.
        return f"{record.msg} (log arguments could not be formatted: {error})"


class _RecentRecordsHandler(logging.Handler):
    """Keeps the last warnings and errors as single masked lines."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._lines: collections.deque[str] = collections.deque(maxlen=_RECENT_RECORDS)
        self._time_formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        time = self._time_formatter.formatTime(record)
        line = f"{time} {record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_text:
            # The last traceback line names the exception type and its message.
            line = f"{line} ({record.exc_text.strip().splitlines()[-1]})"
        self._lines.append(line)

    def lines(self, limit: int) -> list[str]:
        self.acquire()
        try:
            return list(self._lines)[-limit:] if limit > 0 else []
        finally:
            self.release()


_recent = _RecentRecordsHandler()


def recent_errors(limit: int = 20) -> list[str]:
    """Return up to ``limit`` of the newest WARNING and higher log lines, oldest first.

    The lines are masked like the log file and hold the last line of any
    traceback. The list is empty until :func:`configure_logging` has run.
    """
    return _recent.lines(limit)


def configure_logging(paths: AppPaths, *, level: int = logging.INFO) -> Path:
    """Send the root logger's records to a rotating log file in ``paths.log_dir``.

    The file rotates at about 2 MB and keeps 5 older files, in UTF-8. Every
    handler added here carries a :class:`RedactingFilter`. A second call only
    sets ``level`` and adds no handler. When the folder or the file cannot be
    opened, records go to stderr instead (if the process has one) and a warning
    names the error. Returns ``paths.log_file``, even when it could not be opened.
    """
    root = logging.getLogger()
    root.setLevel(level)
    if any(getattr(handler, _HANDLER_MARK, False) for handler in root.handlers):
        return paths.log_file

    _add_handler(root, _recent)
    failure: OSError | None = None
    try:
        handler: logging.Handler = _open_log_file(paths.log_file)
    except OSError as error:
        failure = error
        # A windowed Windows build has no stderr, so its records are only kept
        # in memory for recent_errors().
        handler = (
            logging.StreamHandler(sys.stderr)
            if sys.stderr is not None
            else logging.NullHandler()
        )
    _add_handler(root, handler, logging.Formatter(_LOG_FORMAT))
    if failure is not None:
        logger.warning(
            "Cannot write the log file %s, so the log goes to the console: %s",
            paths.log_file,
            failure,
        )
    return paths.log_file


def _open_log_file(path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    return logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUP_COUNT, encoding="utf-8"
    )


def _add_handler(
    root: logging.Logger,
    handler: logging.Handler,
    formatter: logging.Formatter | None = None,
) -> None:
    if formatter is not None:
        handler.setFormatter(formatter)
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)


def remove_log_handlers() -> None:
    """Detach and close the handlers that :func:`configure_logging` added.

    Recent lines are kept. A later :func:`configure_logging` starts over, which
    lets a test or a script point the log at another folder.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            if handler is not _recent:
                handler.close()
