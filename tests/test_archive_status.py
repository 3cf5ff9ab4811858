"""The archive-status table: labels, cancel rules and documented results."""

from __future__ import annotations

import pytest

from vaultgui.services.archive_status import (
    Expected,
    is_settled,
    matches_expected,
    status_info,
)

CANCELLABLE = {
    "IMPORT_IN_QUEUE": Expected.NO_STATUS,
    "IMPORT_IN_PROGRESS": Expected.ERROR_STATE,
    "REMOVAL_IN_QUEUE": Expected.ERROR_STATE,
    "REMOVAL_IN_PROGRESS": Expected.ERROR_STATE,
}


@pytest.mark.parametrize(("value", "expected"), CANCELLABLE.items())
def test_cancellable_statuses(value: str, expected: Expected) -> None:
    info = status_info(value)

    assert info.cancellable
    assert info.after_cancel is expected
    assert info.cancel_effect
    assert not info.cancel_blocked_reason


@pytest.mark.parametrize(
    "value", ["IMPORT_IN_PROGRESS", "REMOVAL_IN_QUEUE", "REMOVAL_IN_PROGRESS"]
)
def test_error_results_say_remove_first(value: str) -> None:
    assert "removed from the archive before it can be imported again" in (
        status_info(value).cancel_effect
    )


@pytest.mark.parametrize("value", ["IMPORT_SUCCEEDED", "ERROR", "", None])
def test_known_statuses_not_cancellable(value: str | None) -> None:
    info = status_info(value)

    assert info.known
    assert not info.cancellable
    assert info.cancel_blocked_reason


def test_empty_status_reads_no_archive_status() -> None:
    assert status_info(None).display == "No archive status"


def test_display_shows_raw_value() -> None:
    assert status_info("IMPORT_IN_PROGRESS").display == (
        "Import in progress (IMPORT_IN_PROGRESS)"
    )


def test_unknown_status_kept_as_is() -> None:
    info = status_info("IMPORT_PAUSED")

    assert not info.known
    assert not info.cancellable
    assert info.display == "Unknown status (IMPORT_PAUSED)"


def test_lower_case_value_is_unknown() -> None:
    assert not status_info("import_in_progress").cancellable


@pytest.mark.parametrize(
    ("expected", "value", "result"),
    [
        (Expected.NO_STATUS, "", True),
        (Expected.NO_STATUS, None, True),
        (Expected.NO_STATUS, "ERROR", False),
        (Expected.ERROR_STATE, "ERROR", True),
        (Expected.ERROR_STATE, "IMPORT_SUCCEEDED", False),
    ],
)
def test_matches_expected(expected: Expected, value: str | None, result: bool) -> None:
    assert matches_expected(expected, value) is result


@pytest.mark.parametrize(
    ("value", "settled"),
    [("IMPORT_IN_PROGRESS", False), ("ERROR", True), ("", True), ("ODD", True)],
)
def test_is_settled(value: str, settled: bool) -> None:
    assert is_settled(value) is settled
