"""Run blocking service calls off the UI thread and await them from qasync."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def run_in_thread(
    func: Callable[[], T], *, name: str = "vault-call"
) -> asyncio.Future[T]:
    """Start ``func`` on a daemon thread and return a future for its result.

    A daemon thread rather than an executor, because a call that hangs must not
    keep the process alive after the user quits. Cancelling the returned future
    only stops the wait: the call itself runs to its end and its result is
    dropped.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver_result(result: T) -> None:
        if not future.done():
            future.set_result(result)

    def deliver_error(error: BaseException) -> None:
        if not future.done():
            future.set_exception(error)

    def work() -> None:
        try:
            result = func()
        except BaseException as error:  # re-raised in the awaiting task
            post(deliver_error, error)
        else:
            post(deliver_result, result)

    def post(callback: Callable[..., None], value: object) -> None:
        try:
            loop.call_soon_threadsafe(callback, value)
        except RuntimeError:
            log.debug("Result of %s arrived after the event loop closed", name)

    threading.Thread(target=work, name=name, daemon=True).start()
    return future


class Generation:
    """A counter that marks whether a finished call's result is still wanted.

    Each new user action calls :meth:`next`. A result that comes back with an
    older number belongs to an abandoned action, so it must not overwrite the
    screen.
    """

    def __init__(self) -> None:
        self._value = 0

    def next(self) -> int:
        """Start a new action and return its number."""
        self._value += 1
        return self._value

    def is_current(self, value: int) -> bool:
        """Return whether ``value`` belongs to the newest action."""
        return value == self._value


def spawn(coro: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
    """Schedule ``coro`` on the running loop and log it if it fails.

    A task that ends with an exception no one awaits would otherwise vanish
    silently. Cancellation is a normal outcome and is not logged.
    """
    task = asyncio.ensure_future(coro)
    task.set_name(name)
    task.add_done_callback(_report_failure)
    _running_tasks.add(task)
    task.add_done_callback(_running_tasks.discard)
    return task


_running_tasks: set[asyncio.Task[None]] = set()


def _report_failure(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        # The exception hook logs the traceback and shows the error box.
        sys.excepthook(type(error), error, error.__traceback__)


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the loop's unfinished tasks, let them clean up, then close it."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)
