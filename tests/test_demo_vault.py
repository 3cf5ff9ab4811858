"""Tests of the demo Vault over real HTTP on 127.0.0.1."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoVault

TIMEOUT = 5.0
CLIENT_ID = "demopharma-vault-rim-client-tests"
NAME_0008 = "0008 - Sponsor's 100% Q3\\2025 Response"


@pytest.fixture
def vault() -> Iterator[DemoVault]:
    with DemoVault() as demo:
        yield demo


@pytest.fixture
def session_id(vault: DemoVault) -> str:
    return sign_in(vault)


def api(vault: DemoVault, path: str, version: str = "v25.2") -> str:
    return f"{vault.address}/api/{version}/{path}"


def auth_headers(session_id: str) -> dict[str, str]:
    return {"Authorization": session_id, "X-VaultAPI-ClientID": CLIENT_ID}


def sign_in(vault: DemoVault, username: str = DEMO_USERNAME) -> str:
    body = post_auth(vault, username, DEMO_PASSWORD)
    session_id: str = body["sessionId"]
    return session_id


def post_auth(vault: DemoVault, username: str, password: str) -> dict[str, Any]:
    form = {"username": username, "password": password}
    reply = requests.post(api(vault, "auth"), data=form, timeout=TIMEOUT)
    body: dict[str, Any] = reply.json()
    return body


def get_record(
    vault: DemoVault, session_id: str, submission_id: str
) -> requests.Response:
    url = api(vault, f"vobjects/submission__v/{submission_id}")
    return requests.get(url, headers=auth_headers(session_id), timeout=TIMEOUT)


def run_query(vault: DemoVault, session_id: str, vql: str) -> dict[str, Any]:
    reply = requests.post(
        api(vault, "query"),
        data={"q": vql},
        headers=auth_headers(session_id),
        timeout=TIMEOUT,
    )
    body: dict[str, Any] = reply.json()
    return body


def post_cancel(
    vault: DemoVault,
    session_id: str,
    submission_id: str,
    *,
    timeout: float = TIMEOUT,
    query: str = "?cancel=true",
) -> requests.Response:
    url = api(vault, f"vobjects/submission__v/{submission_id}/actions/import{query}")
    return requests.post(url, headers=auth_headers(session_id), timeout=timeout)


def error_type(body: dict[str, Any]) -> str:
    errors: list[dict[str, str]] = body["errors"]
    return errors[0]["type"]


def wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# Versions and sign-in


def test_versions_list_newest(vault: DemoVault) -> None:
    body = requests.get(f"{vault.address}/api/", timeout=TIMEOUT).json()
    assert body["values"]["v25.2"] == f"{vault.address}/api/v25.2"


def test_versions_list_oldest(vault: DemoVault) -> None:
    body = requests.get(f"{vault.address}/api/", timeout=TIMEOUT).json()
    assert "v23.1" in body["values"]


def test_auth_success_status(vault: DemoVault) -> None:
    body = post_auth(vault, DEMO_USERNAME, DEMO_PASSWORD)
    assert body["responseStatus"] == "SUCCESS"


def test_auth_session_id_format(vault: DemoVault) -> None:
    body = post_auth(vault, DEMO_USERNAME, DEMO_PASSWORD)
    assert re.fullmatch(r"[0-9a-f]{128}", body["sessionId"])


def test_auth_user_id_is_int(vault: DemoVault) -> None:
    body = post_auth(vault, DEMO_USERNAME, DEMO_PASSWORD)
    assert isinstance(body["userId"], int)


def test_auth_vault_id(vault: DemoVault) -> None:
    body = post_auth(vault, DEMO_USERNAME, DEMO_PASSWORD)
    assert body["vaultId"] == 1001


def test_auth_vault_ids_demo_entry(vault: DemoVault) -> None:
    body = post_auth(vault, DEMO_USERNAME, DEMO_PASSWORD)
    expected = {"id": 1001, "name": vault.vault_name, "url": f"{vault.address}/api"}
    assert body["vaultIds"][0] == expected


def test_auth_vault_ids_sandbox_entry(vault: DemoVault) -> None:
    body = post_auth(vault, DEMO_USERNAME, DEMO_PASSWORD)
    assert body["vaultIds"][1]["id"] == 1002


def test_auth_sessions_differ(vault: DemoVault) -> None:
    assert sign_in(vault) != sign_in(vault)


@pytest.mark.parametrize(
    ("username", "password", "expected_type"),
    [
        ("locked.user@demo-pharma.com", DEMO_PASSWORD, "USER_LOCKED_OUT"),
        ("inactive.user@demo-pharma.com", DEMO_PASSWORD, "INACTIVE_USER"),
        ("expired.password@demo-pharma.com", "anything", "PASSWORD_CHANGE_REQUIRED"),
        (DEMO_USERNAME, "", "NO_PASSWORD_PROVIDED"),
        (DEMO_USERNAME, "wrong-password", "USERNAME_OR_PASSWORD_INCORRECT"),
        ("nobody@demo-pharma.com", DEMO_PASSWORD, "USERNAME_OR_PASSWORD_INCORRECT"),
    ],
)
def test_auth_failure_types(
    vault: DemoVault, username: str, password: str, expected_type: str
) -> None:
    body = post_auth(vault, username, password)
    assert body["responseStatus"] == "FAILURE"
    assert error_type(body) == expected_type
    assert body["errorType"] == "AUTHENTICATION_FAILED"
    assert "sessionId" not in body


def test_auth_missing_password_field(vault: DemoVault) -> None:
    reply = requests.post(
        api(vault, "auth"), data={"username": DEMO_USERNAME}, timeout=TIMEOUT
    )
    assert error_type(reply.json()) == "NO_PASSWORD_PROVIDED"


def test_auth_sandbox_user_vault_id(vault: DemoVault) -> None:
    body = post_auth(vault, "sandbox.only@demo-pharma.com", DEMO_PASSWORD)
    assert body["vaultId"] == 1002


def test_auth_sandbox_session_works(vault: DemoVault) -> None:
    session_id = sign_in(vault, "sandbox.only@demo-pharma.com")
    reply = get_record(vault, session_id, "00S000000000101")
    assert reply.json()["responseStatus"] == "SUCCESS"


def test_auth_older_version_accepted(vault: DemoVault) -> None:
    form = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
    reply = requests.post(api(vault, "auth", "v23.1"), data=form, timeout=TIMEOUT)
    assert reply.json()["responseStatus"] == "SUCCESS"


# Sessions


def test_session_missing_rejected(vault: DemoVault) -> None:
    url = api(vault, "vobjects/submission__v/00S000000000101")
    body = requests.get(url, timeout=TIMEOUT).json()
    assert error_type(body) == "INVALID_SESSION_ID"


def test_session_unknown_rejected(vault: DemoVault) -> None:
    body = get_record(vault, "0" * 128, "00S000000000101").json()
    assert error_type(body) == "INVALID_SESSION_ID"


def test_session_raw_accepted(vault: DemoVault, session_id: str) -> None:
    body = get_record(vault, session_id, "00S000000000101").json()
    assert body["responseStatus"] == "SUCCESS"


def test_session_bearer_accepted(vault: DemoVault, session_id: str) -> None:
    body = get_record(vault, f"Bearer {session_id}", "00S000000000101").json()
    assert body["responseStatus"] == "SUCCESS"


def test_session_expire_sessions(vault: DemoVault, session_id: str) -> None:
    vault.expire_sessions()
    body = get_record(vault, session_id, "00S000000000101").json()
    assert error_type(body) == "INVALID_SESSION_ID"


def test_session_idle_expiry() -> None:
    with DemoVault(session_idle_seconds=0.2) as demo:
        session_id = sign_in(demo)
        time.sleep(0.4)
        body = get_record(demo, session_id, "00S000000000101").json()
    assert error_type(body) == "INVALID_SESSION_ID"


def test_session_use_resets_idle_time() -> None:
    with DemoVault(session_idle_seconds=0.4) as demo:
        session_id = sign_in(demo)
        for _ in range(3):
            time.sleep(0.2)
            get_record(demo, session_id, "00S000000000101")
        body = get_record(demo, session_id, "00S000000000101").json()
    assert body["responseStatus"] == "SUCCESS"


def test_session_delete_invalidates(vault: DemoVault, session_id: str) -> None:
    reply = requests.delete(
        api(vault, "session"), headers=auth_headers(session_id), timeout=TIMEOUT
    )
    assert reply.json() == {"responseStatus": "SUCCESS"}
    body = get_record(vault, session_id, "00S000000000101").json()
    assert error_type(body) == "INVALID_SESSION_ID"


def test_keep_alive_success(vault: DemoVault, session_id: str) -> None:
    reply = requests.post(
        api(vault, "keep-alive"), headers=auth_headers(session_id), timeout=TIMEOUT
    )
    assert reply.json()["responseStatus"] == "SUCCESS"


def test_users_me_fields(vault: DemoVault, session_id: str) -> None:
    reply = requests.get(
        api(vault, "objects/users/me"), headers=auth_headers(session_id), timeout=5
    )
    user = reply.json()["users"][0]["user"]
    assert user["user_name__v"] == DEMO_USERNAME
    assert isinstance(user["id"], int)
    assert user["user_first_name__v"] == "Alex"
    assert user["user_last_name__v"] == "Morgan"
    assert user["user_email__v"] == DEMO_USERNAME


# Routing


def test_unknown_path_malformed_url(vault: DemoVault, session_id: str) -> None:
    reply = requests.get(
        api(vault, "no/such/thing"), headers=auth_headers(session_id), timeout=5
    )
    assert error_type(reply.json()) == "MALFORMED_URL"


def test_bad_version_malformed_url(vault: DemoVault) -> None:
    form = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
    reply = requests.post(api(vault, "auth", "latest"), data=form, timeout=TIMEOUT)
    assert error_type(reply.json()) == "MALFORMED_URL"


def test_wrong_method_not_supported(vault: DemoVault, session_id: str) -> None:
    reply = requests.get(
        api(vault, "query"), headers=auth_headers(session_id), timeout=TIMEOUT
    )
    assert error_type(reply.json()) == "METHOD_NOT_SUPPORTED"


# Retrieve Object Record


def test_record_shape(vault: DemoVault, session_id: str) -> None:
    body = get_record(vault, session_id, "00S000000000101").json()
    data = body["data"]
    assert body["responseDetails"]["object"]["name"] == "submission__v"
    metadata_url = "/api/v25.2/metadata/vobjects/submission__v"
    assert body["responseDetails"]["object"]["url"] == metadata_url
    assert data["id"] == "00S000000000101"
    assert data["name__v"] == "0001 - Initial Marketing Application"
    assert data["archive_status__v"] == "IMPORT_IN_PROGRESS"
    assert data["application__v"] == "00A000000000201"
    assert data["status__v"] == ["active__v"]
    assert "dossier_status__v" in data


def test_record_dates_iso_utc(vault: DemoVault, session_id: str) -> None:
    data = get_record(vault, session_id, "00S000000000101").json()["data"]
    iso_utc = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"
    assert re.fullmatch(iso_utc, data["created_date__v"])
    assert re.fullmatch(iso_utc, data["modified_date__v"])


def test_record_null_status(vault: DemoVault, session_id: str) -> None:
    data = get_record(vault, session_id, "00S000000000106").json()["data"]
    assert data["archive_status__v"] is None


def test_record_unknown_id(vault: DemoVault, session_id: str) -> None:
    body = get_record(vault, session_id, "00S999999999999").json()
    assert body["responseStatus"] == "FAILURE"
    assert error_type(body) == "INVALID_DATA"
    assert "00S999999999999" in body["errors"][0]["message"]


def test_record_added_submission(vault: DemoVault, session_id: str) -> None:
    vault.add_submission("00S000000000900", "0900 - Added", "IMPORT_IN_QUEUE")
    data = get_record(vault, session_id, "00S000000000900").json()["data"]
    assert data["archive_status__v"] == "IMPORT_IN_QUEUE"


def test_set_status_empty_is_null(vault: DemoVault, session_id: str) -> None:
    vault.set_status("00S000000000105", "")
    data = get_record(vault, session_id, "00S000000000105").json()["data"]
    assert data["archive_status__v"] is None
    assert vault.get_status("00S000000000105") == ""


def test_instances_have_own_data() -> None:
    with DemoVault() as first, DemoVault() as second:
        first.set_status("00S000000000101", "ERROR")
        assert second.get_status("00S000000000101") == "IMPORT_IN_PROGRESS"


# VQL


def test_query_by_id(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault,
        session_id,
        "SELECT id, name__v, archive_status__v FROM submission__v "
        "WHERE id = '00S000000000105'",
    )
    assert body["data"] == [
        {
            "id": "00S000000000105",
            "name__v": "0005 - Safety Update",
            "archive_status__v": "IMPORT_SUCCEEDED",
        }
    ]


def test_query_response_details(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault, session_id, "SELECT id FROM submission__v WHERE id = '00S000000000105'"
    )
    expected = {"pagesize": 1000, "pageoffset": 0, "size": 1, "total": 1}
    assert body["responseDetails"] == expected


def test_query_null_status(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault,
        session_id,
        "SELECT archive_status__v FROM submission__v WHERE id = '00S000000000106'",
    )
    assert body["data"] == [{"archive_status__v": None}]


@pytest.mark.parametrize(
    "literal",
    [
        r"0008 - Sponsor\'s 100\% Q3\\2025 Response",
        r"0008 - Sponsor''s 100% Q3\\2025 Response",
        r"0008 - Sponsor\'s 100% Q3\\2025 Response",
    ],
)
def test_query_name_0008_escapes(
    vault: DemoVault, session_id: str, literal: str
) -> None:
    body = run_query(
        vault, session_id, f"SELECT id FROM submission__v WHERE name__v = '{literal}'"
    )
    assert body["data"] == [{"id": "00S000000000108"}]


def test_query_name_0008_returned_raw(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault,
        session_id,
        "SELECT name__v FROM submission__v WHERE id = '00S000000000108'",
    )
    assert body["data"][0]["name__v"] == NAME_0008


@pytest.mark.parametrize(
    ("name", "literal"),
    [
        ('Say "hi"', r"Say \"hi\""),
        ("Star * here", r"Star \* here"),
        ("Line\nbreak", r"Line\nbreak"),
        ("Tab\there", r"Tab\there"),
        ("Return\rhere", r"Return\rhere"),
        ("Back\\slash", r"Back\\slash"),
        ("Quote's", r"Quote''s"),
    ],
)
def test_query_each_escape(
    vault: DemoVault, session_id: str, name: str, literal: str
) -> None:
    vault.add_submission("00S000000000901", name, "")
    body = run_query(
        vault, session_id, f"SELECT id FROM submission__v WHERE name__v = '{literal}'"
    )
    assert body["data"] == [{"id": "00S000000000901"}]


def test_query_unknown_escape_rejected(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault, session_id, r"SELECT id FROM submission__v WHERE name__v = 'a\qb'"
    )
    assert error_type(body) == "INCORRECT_QUERY_SYNTAX_ERROR"


def test_query_unclosed_string_rejected(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault, session_id, "SELECT id FROM submission__v WHERE name__v = 'open"
    )
    assert error_type(body) == "INCORRECT_QUERY_SYNTAX_ERROR"


def test_query_values_case_sensitive(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault,
        session_id,
        "SELECT id FROM submission__v WHERE name__v = '0005 - SAFETY UPDATE'",
    )
    assert body["data"] == []


def test_query_caseinsensitive(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault,
        session_id,
        "select id from submission__v "
        "where caseinsensitive(name__v) = '0005 - SAFETY UPDATE'",
    )
    assert body["data"] == [{"id": "00S000000000105"}]


def test_query_duplicate_name_two_rows(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault,
        session_id,
        "SELECT id, application__v FROM submission__v "
        "WHERE name__v = '0010 - Amendment'",
    )
    ids = sorted(row["id"] for row in body["data"])
    assert ids == ["00S000000000110", "00S000000000111"]
    assert body["responseDetails"]["total"] == 2


def test_query_and_narrows_duplicate(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault,
        session_id,
        "SELECT id FROM submission__v WHERE name__v = '0010 - Amendment' "
        "AND application__v = '00A000000000202'",
    )
    assert body["data"] == [{"id": "00S000000000111"}]


def test_query_application_name(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault,
        session_id,
        "SELECT id, application__vr.name__v FROM submission__v "
        "WHERE id = '00S000000000103'",
    )
    row = body["data"][0]
    assert row["application__vr.name__v"] == "DP-204 Investigational New Drug (US)"


def test_query_application_object(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault,
        session_id,
        "SELECT name__v FROM application__v WHERE id = '00A000000000201'",
    )
    assert body["data"] == [{"name__v": "DP-101 Marketing Authorisation (EU)"}]


def test_query_order_and_limit(vault: DemoVault, session_id: str) -> None:
    body = run_query(
        vault, session_id, "SELECT id FROM submission__v ORDER BY id DESC LIMIT 2"
    )
    assert body["data"] == [{"id": "00S000000000113"}, {"id": "00S000000000112"}]


def test_query_syntax_error(vault: DemoVault, session_id: str) -> None:
    body = run_query(vault, session_id, "SELECT FROM submission__v WHERE")
    assert body["responseStatus"] == "FAILURE"
    assert error_type(body) == "INCORRECT_QUERY_SYNTAX_ERROR"


def test_query_unknown_field(vault: DemoVault, session_id: str) -> None:
    body = run_query(vault, session_id, "SELECT colour__c FROM submission__v")
    assert error_type(body) == "INVALID_DATA"


def test_query_upper_case_field_rejected(vault: DemoVault, session_id: str) -> None:
    body = run_query(vault, session_id, "SELECT ID FROM submission__v")
    assert error_type(body) == "INVALID_DATA"


def test_query_unknown_object(vault: DemoVault, session_id: str) -> None:
    body = run_query(vault, session_id, "SELECT id FROM product__v")
    assert error_type(body) == "INVALID_DATA"


def test_query_missing_q(vault: DemoVault, session_id: str) -> None:
    reply = requests.post(
        api(vault, "query"), headers=auth_headers(session_id), timeout=TIMEOUT
    )
    assert error_type(reply.json()) == "PARAMETER_REQUIRED"


def test_query_q_in_query_string(vault: DemoVault, session_id: str) -> None:
    reply = requests.post(
        api(vault, "query"),
        params={"q": "SELECT id FROM submission__v WHERE id = '00S000000000101'"},
        headers=auth_headers(session_id),
        timeout=TIMEOUT,
    )
    assert reply.json()["data"] == [{"id": "00S000000000101"}]


# Cancel Submission


@pytest.mark.parametrize(
    ("submission_id", "expected_status"),
    [
        ("00S000000000102", ""),  # IMPORT_IN_QUEUE
        ("00S000000000101", "ERROR"),  # IMPORT_IN_PROGRESS
        ("00S000000000104", "ERROR"),  # REMOVAL_IN_QUEUE
        ("00S000000000103", "ERROR"),  # REMOVAL_IN_PROGRESS
    ],
)
def test_cancel_transitions(
    vault: DemoVault, session_id: str, submission_id: str, expected_status: str
) -> None:
    reply = post_cancel(vault, session_id, submission_id)
    assert reply.json() == {"responseStatus": "SUCCESS"}
    assert vault.get_status(submission_id) == expected_status


def test_cancel_queued_import_reads_null(vault: DemoVault, session_id: str) -> None:
    post_cancel(vault, session_id, "00S000000000102")
    data = get_record(vault, session_id, "00S000000000102").json()["data"]
    assert data["archive_status__v"] is None


def test_cancel_updates_modified_date(vault: DemoVault, session_id: str) -> None:
    before = get_record(vault, session_id, "00S000000000101").json()["data"]
    post_cancel(vault, session_id, "00S000000000101")
    after = get_record(vault, session_id, "00S000000000101").json()["data"]
    assert after["modified_date__v"] > before["modified_date__v"]


@pytest.mark.parametrize(
    ("submission_id", "archive_status"),
    [
        ("00S000000000105", "IMPORT_SUCCEEDED"),
        ("00S000000000106", ""),
        ("00S000000000107", "ERROR"),
        ("00S000000000109", "IMPORT_PAUSED"),
    ],
)
def test_cancel_rejected_statuses(
    vault: DemoVault, session_id: str, submission_id: str, archive_status: str
) -> None:
    body = post_cancel(vault, session_id, submission_id).json()
    assert body["responseStatus"] == "FAILURE"
    assert error_type(body) == "OPERATION_NOT_ALLOWED"
    assert (archive_status or "null") in body["errors"][0]["message"]
    assert vault.get_status(submission_id) == archive_status


def test_cancel_unknown_id(vault: DemoVault, session_id: str) -> None:
    body = post_cancel(vault, session_id, "00S999999999999").json()
    assert error_type(body) == "INVALID_DATA"


def test_cancel_without_flag(vault: DemoVault, session_id: str) -> None:
    body = post_cancel(vault, session_id, "00S000000000101", query="").json()
    assert error_type(body) == "PARAMETER_REQUIRED"
    assert vault.get_status("00S000000000101") == "IMPORT_IN_PROGRESS"


def test_cancel_needs_session(vault: DemoVault) -> None:
    body = post_cancel(vault, "", "00S000000000101").json()
    assert error_type(body) == "INVALID_SESSION_ID"
    assert vault.get_status("00S000000000101") == "IMPORT_IN_PROGRESS"


def test_cancel_count_per_submission(vault: DemoVault, session_id: str) -> None:
    post_cancel(vault, session_id, "00S000000000101")
    post_cancel(vault, session_id, "00S000000000101")  # rejected: now ERROR
    post_cancel(vault, session_id, "00S000000000102")
    post_cancel(vault, session_id, "00S000000000103", query="")
    assert vault.cancel_count("00S000000000101") == 2
    assert vault.cancel_count() == 3


def test_cancel_count_cleared(vault: DemoVault, session_id: str) -> None:
    post_cancel(vault, session_id, "00S000000000101")
    vault.clear_requests()
    assert vault.cancel_count() == 0


def test_cancel_settle_delay() -> None:
    with DemoVault(cancel_settle_seconds=0.4) as demo:
        reply = post_cancel(demo, sign_in(demo), "00S000000000101")
        assert reply.json() == {"responseStatus": "SUCCESS"}
        assert demo.get_status("00S000000000101") == "IMPORT_IN_PROGRESS"
        time.sleep(0.6)
        assert demo.get_status("00S000000000101") == "ERROR"


# Timer


def test_timer_import_reaches_succeeded() -> None:
    with DemoVault(advance_seconds=0.3) as demo:
        assert demo.get_status("00S000000000112") == "IMPORT_IN_QUEUE"
        assert wait_for(lambda: demo.get_status("00S000000000112") != "IMPORT_IN_QUEUE")
        assert demo.get_status("00S000000000112") == "IMPORT_IN_PROGRESS"
        succeeded = "IMPORT_SUCCEEDED"
        assert wait_for(lambda: demo.get_status("00S000000000112") == succeeded)


def test_timer_removal_reaches_null() -> None:
    with DemoVault(advance_seconds=0.2) as demo:
        in_progress = "REMOVAL_IN_PROGRESS"
        assert wait_for(lambda: demo.get_status("00S000000000113") == in_progress)
        assert wait_for(lambda: demo.get_status("00S000000000113") == "")


def test_timer_leaves_other_submissions() -> None:
    with DemoVault(advance_seconds=0.1) as demo:
        time.sleep(0.5)
        assert demo.get_status("00S000000000102") == "IMPORT_IN_QUEUE"


def test_timer_off_by_default(vault: DemoVault) -> None:
    time.sleep(0.3)
    assert vault.get_status("00S000000000112") == "IMPORT_IN_QUEUE"


def test_timer_stops_after_cancel() -> None:
    with DemoVault(advance_seconds=0.3, cancel_settle_seconds=0.6) as demo:
        session_id = sign_in(demo)
        demo.set_status("00S000000000112", "IMPORT_IN_QUEUE")  # restarts its timer
        post_cancel(demo, session_id, "00S000000000112")
        time.sleep(0.4)
        assert demo.get_status("00S000000000112") == "IMPORT_IN_QUEUE"
        assert wait_for(lambda: demo.get_status("00S000000000112") == "")
        time.sleep(0.3)
        assert demo.get_status("00S000000000112") == ""


# Headers and recording


def test_headers_with_session(vault: DemoVault, session_id: str) -> None:
    headers = get_record(vault, session_id, "00S000000000101").headers
    assert headers["Content-Type"] == "application/json;charset=UTF-8"
    assert uuid.UUID(headers["X-VaultAPI-ExecutionId"])
    assert headers["X-VaultAPI-BurstLimit"] == "2000"
    assert int(headers["X-VaultAPI-BurstLimitRemaining"]) < 2000
    assert headers["X-VaultAPI-Status"] == "SUCCESS"
    assert headers["X-VaultAPI-VaultId"] == "1001"
    assert headers["X-VaultAPI-UserId"].isdigit()


def test_headers_truncated_session_id(vault: DemoVault, session_id: str) -> None:
    truncated = get_record(vault, session_id, "00S000000000101").headers[
        "X-VaultAPI-TruncatedSessionId"
    ]
    assert session_id.startswith(truncated)
    assert 0 < len(truncated) < len(session_id)


def test_headers_without_session(vault: DemoVault) -> None:
    headers = get_record(vault, "", "00S000000000101").headers
    assert headers["X-VaultAPI-Status"] == "FAILURE"
    assert "X-VaultAPI-UserId" not in headers
    assert "X-VaultAPI-TruncatedSessionId" not in headers


def test_headers_execution_id_fresh(vault: DemoVault, session_id: str) -> None:
    first = get_record(vault, session_id, "00S000000000101").headers
    second = get_record(vault, session_id, "00S000000000101").headers
    first_id = first["X-VaultAPI-ExecutionId"]
    assert first_id != second["X-VaultAPI-ExecutionId"]


def test_headers_burst_counts_down(vault: DemoVault, session_id: str) -> None:
    first = get_record(vault, session_id, "00S000000000101").headers
    second = get_record(vault, session_id, "00S000000000101").headers
    remaining = int(first["X-VaultAPI-BurstLimitRemaining"])
    assert int(second["X-VaultAPI-BurstLimitRemaining"]) == remaining - 1


def test_recorded_client_id(vault: DemoVault, session_id: str) -> None:
    get_record(vault, session_id, "00S000000000101")
    recorded = vault.requests[-1]
    assert recorded.headers["X-VaultAPI-ClientID"] == CLIENT_ID
    assert recorded.method == "GET"
    assert recorded.path == "/api/v25.2/vobjects/submission__v/00S000000000101"


def test_recorded_without_authorization(vault: DemoVault, session_id: str) -> None:
    get_record(vault, session_id, "00S000000000101")
    names = {name.lower() for name in vault.requests[-1].headers}
    assert "authorization" not in names


def test_recorded_without_password(vault: DemoVault) -> None:
    post_auth(vault, DEMO_USERNAME, DEMO_PASSWORD)
    recorded = vault.requests[-1]
    assert recorded.form == {"username": DEMO_USERNAME}
    assert DEMO_PASSWORD not in repr(recorded)


def test_recorded_query_string(vault: DemoVault, session_id: str) -> None:
    post_cancel(vault, session_id, "00S000000000101")
    assert vault.requests[-1].query == {"cancel": "true"}


# Faults


def test_fault_failure_on_cancel(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("cancel", "failure", error_type="RACE_CONDITION")
    body = post_cancel(vault, session_id, "00S000000000101").json()
    assert error_type(body) == "RACE_CONDITION"
    assert vault.get_status("00S000000000101") == "IMPORT_IN_PROGRESS"
    assert vault.cancel_count("00S000000000101") == 1


def test_fault_failure_default_type(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("record", "failure", message="Try again later.")
    body = get_record(vault, session_id, "00S000000000101").json()
    assert error_type(body) == "OPERATION_NOT_ALLOWED"
    assert body["errors"][0]["message"] == "Try again later."


def test_fault_exception(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("query", "exception")
    body = run_query(vault, session_id, "SELECT id FROM submission__v")
    assert body["responseStatus"] == "EXCEPTION"
    assert error_type(body) == "UNEXPECTED_ERROR"


def test_fault_session_expired(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("record", "session_expired")
    first = get_record(vault, session_id, "00S000000000101").json()
    assert error_type(first) == "INVALID_SESSION_ID"
    second = get_record(vault, session_id, "00S000000000101").json()
    assert error_type(second) == "INVALID_SESSION_ID"


def test_fault_html(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("cancel", "html")
    reply = post_cancel(vault, session_id, "00S000000000101")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert vault.get_status("00S000000000101") == "IMPORT_IN_PROGRESS"


def test_fault_http_status(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("record", "http_status", status=503)
    reply = get_record(vault, session_id, "00S000000000101")
    assert reply.status_code == 503
    assert reply.headers["Content-Type"].startswith("text/html")


def test_fault_http_status_default(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("record", "http_status")
    assert get_record(vault, session_id, "00S000000000101").status_code == 502


def test_fault_http_status_applied(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("cancel", "http_status", status=504, apply=True)
    reply = post_cancel(vault, session_id, "00S000000000101")
    assert reply.status_code == 504
    assert vault.get_status("00S000000000101") == "ERROR"


def test_fault_invalid_json(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("record", "invalid_json")
    reply = get_record(vault, session_id, "00S000000000101")
    assert reply.headers["Content-Type"] == "application/json;charset=UTF-8"
    with pytest.raises(requests.JSONDecodeError):
        reply.json()


def test_fault_truncated_json(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("record", "truncated_json")
    reply = get_record(vault, session_id, "00S000000000101")
    assert reply.text.startswith('{"responseStatus": "SUCCESS"')
    with pytest.raises(requests.JSONDecodeError):
        reply.json()


def test_fault_stall_delays_reply(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("record", "stall", seconds=0.3)
    started = time.monotonic()
    body = get_record(vault, session_id, "00S000000000101").json()
    assert time.monotonic() - started >= 0.3
    assert body["responseStatus"] == "SUCCESS"


def test_fault_stall_applies_after_timeout(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("cancel", "stall", seconds=0.5)
    with pytest.raises(requests.Timeout):
        post_cancel(vault, session_id, "00S000000000101", timeout=0.2)
    assert vault.get_status("00S000000000101") == "IMPORT_IN_PROGRESS"
    assert wait_for(lambda: vault.get_status("00S000000000101") == "ERROR")


def test_fault_apply_then_stall(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("cancel", "apply_then_stall", seconds=1.0)
    with pytest.raises(requests.Timeout):
        post_cancel(vault, session_id, "00S000000000101", timeout=0.3)
    assert vault.get_status("00S000000000101") == "ERROR"


def test_fault_reset_not_applied(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("cancel", "reset")
    with pytest.raises(requests.ConnectionError):
        post_cancel(vault, session_id, "00S000000000101")
    assert vault.get_status("00S000000000101") == "IMPORT_IN_PROGRESS"
    assert vault.cancel_count("00S000000000101") == 1


def test_fault_reset_applied(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("cancel", "reset", apply=True)
    with pytest.raises(requests.ConnectionError):
        post_cancel(vault, session_id, "00S000000000101")
    assert vault.get_status("00S000000000101") == "ERROR"


def test_fault_throttle(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("record", "throttle", delay_ms=200)
    started = time.monotonic()
    reply = get_record(vault, session_id, "00S000000000101")
    assert time.monotonic() - started >= 0.2
    assert reply.headers["X-VaultAPI-ResponseDelay"] == "200"
    assert int(reply.headers["X-VaultAPI-BurstLimitRemaining"]) < 10
    assert reply.json()["responseStatus"] == "SUCCESS"


def test_fault_count_consumed(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("record", "exception", count=2)
    statuses = [
        get_record(vault, session_id, "00S000000000101").json()["responseStatus"]
        for _ in range(3)
    ]
    assert statuses == ["EXCEPTION", "EXCEPTION", "SUCCESS"]


def test_fault_other_route_untouched(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("cancel", "exception")
    body = get_record(vault, session_id, "00S000000000101").json()
    assert body["responseStatus"] == "SUCCESS"


def test_fault_any_route(vault: DemoVault) -> None:
    vault.inject_fault("any", "exception")
    body = requests.get(f"{vault.address}/api/", timeout=TIMEOUT).json()
    assert body["responseStatus"] == "EXCEPTION"


def test_fault_auth_route(vault: DemoVault) -> None:
    vault.inject_fault("auth", "failure", error_type="API_LIMIT_EXCEEDED")
    body = post_auth(vault, DEMO_USERNAME, DEMO_PASSWORD)
    assert error_type(body) == "API_LIMIT_EXCEEDED"


def test_fault_session_route(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("session", "exception")
    reply = requests.delete(
        api(vault, "session"), headers=auth_headers(session_id), timeout=TIMEOUT
    )
    assert reply.json()["responseStatus"] == "EXCEPTION"


def test_fault_cleared(vault: DemoVault, session_id: str) -> None:
    vault.inject_fault("record", "exception")
    vault.clear_faults()
    body = get_record(vault, session_id, "00S000000000101").json()
    assert body["responseStatus"] == "SUCCESS"


def test_fault_unknown_kind_rejected(vault: DemoVault) -> None:
    with pytest.raises(ValueError, match="kind"):
        vault.inject_fault("record", "explode")


def test_fault_unknown_route_rejected(vault: DemoVault) -> None:
    with pytest.raises(ValueError, match="route"):
        vault.inject_fault("documents", "exception")


def test_fault_unknown_param_rejected(vault: DemoVault) -> None:
    with pytest.raises(ValueError, match="seconds"):
        vault.inject_fault("record", "reset", seconds=1.0)


def test_fault_bad_param_type_rejected(vault: DemoVault) -> None:
    with pytest.raises(ValueError, match="status"):
        vault.inject_fault("record", "http_status", status="503")


# Stopping


def test_stop_returns_while_stalled() -> None:
    demo = DemoVault().start()
    session_id = sign_in(demo)
    demo.inject_fault("record", "stall", seconds=30.0)
    outcome: list[BaseException] = []

    def fetch() -> None:
        try:
            get_record(demo, session_id, "00S000000000101")
        except requests.RequestException as error:
            outcome.append(error)

    worker = threading.Thread(target=fetch)
    worker.start()
    assert wait_for(lambda: len(demo.requests) == 2)
    started = time.monotonic()
    demo.stop()
    assert time.monotonic() - started < 1.0
    worker.join(timeout=3.0)
    assert not worker.is_alive()
    assert len(outcome) == 1


def test_stop_twice(vault: DemoVault) -> None:
    vault.stop()
    vault.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{vault.address}/api/", timeout=TIMEOUT)


def test_address_format(vault: DemoVault) -> None:
    assert vault.address == f"http://127.0.0.1:{vault.port}"
