"""The log file: masked secrets, rotation, repeated set-up and the stderr fallback."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from vaultgui.services.logsetup import (
    LOG_FILE_NAME,
    MAX_LOG_BYTES,
    RedactingFilter,
    configure_logging,
    forget_secrets,
    recent_errors,
    redact,
    register_secret,
    remove_log_handlers,
)
from vaultgui.services.paths import AppPaths

PASSWORD = "Plum-Orchard-42!"
SESSION_ID = "9F" * 64  # 128 hexadecimal characters, like a Vault session id
HEADER_VALUE = "opaque-Kx7Qv2-header-value"
BEARER_TOKEN = "eyJhbGciOi.sso-payload.sig_Zw4"
API_TOKEN = "veeva-vault-Q29uZmlkZW50aWFs.tk_88"

log = logging.getLogger("tests.logsetup")


@pytest.fixture(autouse=True)
def clean_logging() -> Iterator[None]:
    """Leave the root logger and the registered secrets as the test found them."""
    root = logging.getLogger()
    level = root.level
    yield
    remove_log_handlers()
    forget_secrets()
    root.setLevel(level)


def flush_handlers() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def log_text(log_file: Path) -> str:
    flush_handlers()
    return log_file.read_text(encoding="utf-8")


def test_configure_returns_log_file(paths: AppPaths) -> None:
    assert configure_logging(paths) == paths.log_dir / LOG_FILE_NAME


def test_log_file_name_matches_paths(paths: AppPaths) -> None:
    assert paths.log_file.name == LOG_FILE_NAME


def test_log_file_masks_secrets(paths: AppPaths) -> None:
    log_file = configure_logging(paths)
    register_secret(PASSWORD)
    log.info("Sign-in form: username=alex.morgan password=%s", PASSWORD)
    log.info("The user typed %s into the search field", PASSWORD)
    log.info("Signed in, session %s", SESSION_ID)
    log.info("Sent header Authorization: %s to Vault", HEADER_VALUE)
    log.info("SSO returned Bearer %s for the user", BEARER_TOKEN)
    log.info("Loaded API token %s from the keychain", API_TOKEN)
    try:
        raise RuntimeError(f"Vault rejected session {SESSION_ID}")
    except RuntimeError:
        log.exception("Lookup of submission 00S000000000101 failed")

    text = log_text(log_file)

    assert PASSWORD not in text
    assert SESSION_ID not in text
    assert HEADER_VALUE not in text
    assert BEARER_TOKEN not in text
    assert API_TOKEN not in text
    assert "Sign-in form: username=alex.morgan password=***" in text
    assert "The user typed *** into the search field" in text
    assert "Signed in, session ***" in text
    assert "Sent header Authorization: *** to Vault" in text
    assert "SSO returned Bearer *** for the user" in text
    assert "Loaded API token *** from the keychain" in text
    assert "Lookup of submission 00S000000000101 failed" in text
    assert "RuntimeError: Vault rejected session ***" in text
    assert "Traceback (most recent call last)" in text


def test_chained_exception_masked(paths: AppPaths) -> None:
    log_file = configure_logging(paths)
    try:
        try:
            raise KeyError(f"sessionId={SESSION_ID[:40]}")
        except KeyError as error:
            raise ValueError("the reply could not be read") from error
    except ValueError:
        log.error("Reply check failed", exc_info=True)

    text = log_text(log_file)

    assert SESSION_ID[:40] not in text
    assert "sessionId=***" in text
    assert "ValueError: the reply could not be read" in text


def test_stack_info_masked(paths: AppPaths) -> None:
    log_file = configure_logging(paths)
    token = API_TOKEN  # appears in this frame's source line below
    log.warning("Token check with %s", token, stack_info=True)

    text = log_text(log_file)

    assert API_TOKEN not in text
    assert "Stack (most recent call last)" in text


def test_filter_bad_arguments_kept() -> None:
    record = log.makeRecord(
        log.name, logging.INFO, __file__, 1, "Two values %s %s", ("one",), None
    )

    RedactingFilter().filter(record)

    assert record.getMessage().startswith("Two values %s %s (log arguments could")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=Hunter2&next=1", "password=***&next=1"),
        ('{"password": "a b c", "user": "x"}', '{"password": "***", "user": "x"}'),
        ("sessionId: 1a2b-not-hex-xyz", "sessionId: ***"),
        ("{'session_id': 'abc123'}", "{'session_id': '***'}"),
        ("Authorization: Bearer abc.def", "Authorization: ***"),
        ("Proxy-Authorization: Basic dXNlcjpw", "Proxy-Authorization: ***"),
        ("got bearer abc.def here", "got bearer *** here"),
        ("token veeva-vault-ABC_def.1 end", "token *** end"),
        (f"id {'ab' * 16}", "id ***"),
        ("execution id 01e28d8a-773a-489b-8f6e-34d3bb42e449", None),
        ("hex of 31 chars " + "a" * 31, None),
        ("The password is not correct", None),
    ],
)
def test_redact_cases(text: str, expected: str | None) -> None:
    assert redact(text) == (text if expected is None else expected)


def test_redact_twice_unchanged() -> None:
    once = redact(f"password={PASSWORD} Authorization: {SESSION_ID} Bearer x")
    assert redact(once) == once


def test_register_secret_ignores_short_values() -> None:
    register_secret("abc")
    assert redact("abc abc") == "abc abc"


def test_register_secret_masks_longest_first() -> None:
    register_secret("Orchard")
    register_secret("Plum-Orchard")
    assert redact("typed Plum-Orchard") == "typed ***"


def test_filter_on_other_handler() -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    handler.addFilter(RedactingFilter())
    other = logging.getLogger("tests.logsetup.other")
    other.addHandler(handler)
    try:
        other.warning("Header Authorization: %s", HEADER_VALUE)
    finally:
        other.removeHandler(handler)
    assert records[0].getMessage() == "Header Authorization: ***"


def test_recent_errors_keeps_warnings(paths: AppPaths) -> None:
    configure_logging(paths)
    log.info("routine line 6c1e")
    log.warning("warning line 6c1e with password=%s", PASSWORD)

    lines = recent_errors()

    assert any("warning line 6c1e with password=***" in line for line in lines)
    assert not any("routine line 6c1e" in line for line in lines)
    assert not any(PASSWORD in line for line in lines)


def test_recent_errors_names_exception(paths: AppPaths) -> None:
    configure_logging(paths)
    try:
        raise OSError("disk full 7d2f")
    except OSError:
        log.exception("Saving the history failed")

    assert recent_errors(limit=1)[0].endswith("(OSError: disk full 7d2f)")


def test_recent_errors_limit(paths: AppPaths) -> None:
    configure_logging(paths)
    for number in range(5):
        log.error("numbered error %d", number)

    lines = recent_errors(limit=2)

    assert len(lines) == 2
    assert lines[-1].endswith("numbered error 4")


def test_configure_twice_adds_no_handler(paths: AppPaths) -> None:
    configure_logging(paths)
    count = len(logging.getLogger().handlers)

    configure_logging(paths)

    assert len(logging.getLogger().handlers) == count


def test_configure_twice_writes_once(paths: AppPaths) -> None:
    log_file = configure_logging(paths)
    configure_logging(paths)
    log.info("single line 41aa")

    assert log_text(log_file).count("single line 41aa") == 1


def test_configure_twice_sets_level(paths: AppPaths) -> None:
    configure_logging(paths)
    configure_logging(paths, level=logging.DEBUG)
    assert logging.getLogger().level == logging.DEBUG


def test_log_rotates(paths: AppPaths) -> None:
    log_file = configure_logging(paths)
    line = "x" * 10_000
    # About 13 MB, enough to fill the file and all five backups.
    for _ in range(1_300):
        log.info(line)
    flush_handlers()

    files = sorted(paths.log_dir.iterdir())

    assert [path.name for path in files] == [
        LOG_FILE_NAME,
        *(f"{LOG_FILE_NAME}.{number}" for number in range(1, 6)),
    ]
    assert all(path.stat().st_size <= MAX_LOG_BYTES for path in files)
    assert log_file.stat().st_size > 0


def test_log_dir_under_file_falls_back(
    paths: AppPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    broken = replace(paths, log_dir=blocker / "log")

    configure_logging(broken)
    log.warning("after fallback 93be")

    stderr = capsys.readouterr().err
    assert "Cannot write the log file" in stderr
    assert "after fallback 93be" in stderr
    assert not (blocker / "log").exists()


def test_fallback_warning_in_recent_errors(paths: AppPaths, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")

    configure_logging(replace(paths, log_dir=blocker / "log"))

    assert "Cannot write the log file" in recent_errors(limit=1)[0]


def test_read_only_log_dir_falls_back(
    paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    paths.log_dir.mkdir(parents=True)
    paths.log_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(paths.log_dir, os.W_OK):
            pytest.skip("this user can write to read-only folders (root)")
        configure_logging(paths)
    finally:
        paths.log_dir.chmod(stat.S_IRWXU)

    assert "Cannot write the log file" in capsys.readouterr().err
