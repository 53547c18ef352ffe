"""`POST /api/v1/helpers/{id}/vetting/`: a coordinator records the checks that set a helper's
vetting level, or suspends and reinstates a helper. Only the coordinators of the helper's circle
may; refused or bad requests change nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from helpers.models import Helper, VettingCheck
from members.models import AuditEvent
from tests.conftest import Personas
from tests.factories import HelperFactory, MemberFactory, body_with
from tests.helpers.conftest import assert_error, row_counts, vetting_url

pytestmark = pytest.mark.django_db

ClientFor = Callable[[Any], APIClient]

ISSUED = "2023-05-17"


def enhanced(**changes: Any) -> dict[str, Any]:
    """Every check done, with an enhanced DBS; keyword arguments replace fields."""
    body: dict[str, Any] = {
        "identity_checked": True,
        "references_checked": True,
        "dbs_level": "enhanced",
        "dbs_certificate_number": "001234567890",
        "dbs_issue_date": ISSUED,
        "original_seen_by": "Cora Coordinator",
    }
    body.update(changes)
    return body


def level_of(helper: Helper) -> str:
    helper.refresh_from_db()
    return helper.vetting_level


# --- Levels -------------------------------------------------------------------------------------


def test_full_checks_with_enhanced_dbs_make_helper_enhanced(
    personas: Personas, client_for: ClientFor
) -> None:
    hana = personas.hana_helper

    response = client_for(personas.cora).post(vetting_url(hana.pk), enhanced(), format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == hana.pk
    assert body["member_id"] == personas.hana.pk
    assert body["vetting_level"] == "enhanced"
    assert body["vetting"]["dbs_level"] == "enhanced"
    assert body["vetting"]["dbs_certificate_number"] == "001234567890"
    assert body["vetting"]["dbs_issue_date"] == ISSUED
    assert body["vetting"]["original_seen_by"] == "Cora Coordinator"
    assert level_of(hana) == "enhanced"
    check = VettingCheck.objects.get(helper=hana)
    assert check.circle == personas.southwark
    assert check.recorded_by == personas.cora.user
    assert check.resulting_level == "enhanced"
    assert check.dbs_certificate_number == "001234567890"
    assert str(check.dbs_issue_date) == ISSUED


def test_full_checks_with_basic_dbs_make_helper_basic(
    personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk), enhanced(dbs_level="basic"), format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["vetting_level"] == "basic"
    assert level_of(personas.hana_helper) == "basic"


@pytest.mark.parametrize(("identity", "references"), [(True, False), (False, True), (False, False)])
def test_enhanced_dbs_alone_is_no_vetting(
    personas: Personas, client_for: ClientFor, identity: bool, references: bool
) -> None:
    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk),
        enhanced(identity_checked=identity, references_checked=references),
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["vetting_level"] == "none"
    assert level_of(personas.hana_helper) == "none"
    # The check is still on file, so the next coordinator sees what was done.
    assert VettingCheck.objects.get().resulting_level == "none"


def test_no_dbs_is_level_none_and_keeps_no_certificate_details(
    personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk),
        enhanced(dbs_level="none"),
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["vetting_level"] == "none"
    check = VettingCheck.objects.get()
    assert check.dbs_level == "none"
    assert check.dbs_certificate_number == ""
    assert check.dbs_issue_date is None
    assert check.original_seen_by == ""
    vetting = response.json()["vetting"]
    assert vetting["dbs_certificate_number"] == ""
    assert vetting["dbs_issue_date"] is None
    assert vetting["original_seen_by"] == ""


def test_no_dbs_needs_no_certificate_details(personas: Personas, client_for: ClientFor) -> None:
    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk),
        {"identity_checked": True, "references_checked": True, "dbs_level": "none"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["vetting_level"] == "none"


def test_certificate_number_may_be_typed_with_spaces(
    personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk),
        enhanced(dbs_certificate_number=" 0012 3456 7890 "),
        format="json",
    )

    assert response.status_code == 200, response.content
    assert VettingCheck.objects.get().dbs_certificate_number == "001234567890"


def test_issue_date_today_is_accepted(personas: Personas, client_for: ClientFor) -> None:
    today = timezone.localdate().isoformat()

    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk), enhanced(dbs_issue_date=today), format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["vetting"]["dbs_issue_date"] == today


def test_later_check_replaces_the_level_downwards_too(
    personas: Personas, client_for: ClientFor
) -> None:
    client = client_for(personas.cora)
    url = vetting_url(personas.hana_helper.pk)

    assert client.post(url, enhanced(), format="json").json()["vetting_level"] == "enhanced"
    downgraded = client.post(url, enhanced(dbs_level="basic"), format="json")
    assert downgraded.json()["vetting_level"] == "basic"
    references_lapsed = client.post(url, enhanced(references_checked=False), format="json")

    assert references_lapsed.status_code == 200, references_lapsed.content
    assert references_lapsed.json()["vetting_level"] == "none"
    assert references_lapsed.json()["vetting"]["references_checked"] is False
    assert level_of(personas.hana_helper) == "none"
    # Every check is kept; none is edited.
    assert list(VettingCheck.objects.order_by("id").values_list("resulting_level", flat=True)) == [
        "enhanced",
        "basic",
        "none",
    ]
    moves = [
        (event.data["from"], event.data["to"])
        for event in AuditEvent.objects.filter(action="helper.vetted").order_by("id")
    ]
    assert moves == [("none", "enhanced"), ("enhanced", "basic"), ("basic", "none")]


def test_vetting_writes_audit_row_with_levels(personas: Personas, client_for: ClientFor) -> None:
    client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk), enhanced(dbs_level="basic"), format="json"
    )

    event = AuditEvent.objects.get(action="helper.vetted")
    assert event.circle == personas.southwark
    assert event.actor == personas.cora.user
    assert event.actor_member == personas.cora
    assert event.member == personas.hana
    assert event.data["from"] == "none"
    assert event.data["to"] == "basic"
    assert event.data["dbs_level"] == "basic"
    # The audit log is read more widely than the check: no certificate number in it.
    assert "001234567890" not in str(event.data)


# --- Bad vetting input: 400 naming the field, nothing changed ----------------------------------

# Stands for tomorrow's date, worked out when the test runs (not when it is collected).
FUTURE = "<tomorrow>"


def tomorrow_if_asked(value: Any) -> Any:
    return (timezone.localdate() + timedelta(days=1)).isoformat() if value == FUTURE else value


# "001234567890" written in digits that Python's `\d` matches but no certificate carries.
FULL_WIDTH_DIGITS = "".join(chr(0xFF10 + int(d)) for d in "001234567890")
ARABIC_INDIC_DIGITS = "".join(chr(0x0660 + int(d)) for d in "001234567890")

BAD_VETTING: dict[str, tuple[dict[str, Any], str]] = {
    "certificate 11 digits": ({"dbs_certificate_number": "12345678901"}, "dbs_certificate_number"),
    "certificate 13 digits": (
        {"dbs_certificate_number": "1234567890123"},
        "dbs_certificate_number",
    ),
    "certificate with letters": (
        {"dbs_certificate_number": "12345678901A"},
        "dbs_certificate_number",
    ),
    "certificate with dashes": (
        {"dbs_certificate_number": "1234-5678-9012"},
        "dbs_certificate_number",
    ),
    "certificate in full-width digits": (
        {"dbs_certificate_number": FULL_WIDTH_DIGITS},
        "dbs_certificate_number",
    ),
    "certificate in Arabic-Indic digits": (
        {"dbs_certificate_number": ARABIC_INDIC_DIGITS},
        "dbs_certificate_number",
    ),
    "certificate missing": ({"dbs_certificate_number": None}, "dbs_certificate_number"),
    "certificate blank": ({"dbs_certificate_number": ""}, "dbs_certificate_number"),
    "certificate far too long": ({"dbs_certificate_number": "1" * 21}, "dbs_certificate_number"),
    "certificate a number": ({"dbs_certificate_number": 1234567890}, "dbs_certificate_number"),
    "issue date missing": ({"dbs_issue_date": None}, "dbs_issue_date"),
    "issue date in the future": ({"dbs_issue_date": FUTURE}, "dbs_issue_date"),
    "issue date malformed": ({"dbs_issue_date": "17/05/2023"}, "dbs_issue_date"),
    "issue date impossible": ({"dbs_issue_date": "2023-02-30"}, "dbs_issue_date"),
    "seen by missing": ({"original_seen_by": None}, "original_seen_by"),
    "seen by blank": ({"original_seen_by": "   "}, "original_seen_by"),
    "dbs level gold": ({"dbs_level": "gold"}, "dbs_level"),
    "dbs level missing": ({"dbs_level": None}, "dbs_level"),
    "identity missing": ({"identity_checked": None}, "identity_checked"),
    "identity a word": ({"identity_checked": "probably"}, "identity_checked"),
    "references missing": ({"references_checked": None}, "references_checked"),
    "certificate contents": (
        {"certificate_text": "Enhanced certificate: no information held"},
        "certificate_text",
    ),
    "scan of the certificate": (
        {"certificate_image": "data:image/png;base64,AAAA"},
        "certificate_image",
    ),
    "level set directly": ({"vetting_level": "enhanced"}, "vetting_level"),
}


@pytest.mark.parametrize(("changes", "field"), BAD_VETTING.values(), ids=BAD_VETTING.keys())
def test_vetting_rejects_bad_input_and_changes_nothing(
    personas: Personas, client_for: ClientFor, changes: dict[str, Any], field: str
) -> None:
    hana = personas.hana_helper
    Helper.objects.filter(pk=hana.pk).update(vetting_level="basic")
    # None means "left out" (tomorrow_if_asked passes it through).
    body = body_with(enhanced(), **{name: tomorrow_if_asked(v) for name, v in changes.items()})
    before = row_counts()

    response = client_for(personas.cora).post(vetting_url(hana.pk), body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field, response.json()
    assert response.json()["detail"]
    assert level_of(hana) == "basic"
    assert row_counts() == before


def test_certificate_contents_refused_as_unknown_field(
    personas: Personas, client_for: ClientFor
) -> None:
    before = row_counts()

    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk),
        enhanced(certificate_text="Police records of convictions: none recorded"),
        format="json",
    )

    assert_error(response, 400, "unknown_field", "certificate_text")
    assert row_counts() == before


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"dbs_certificate_number": "12345"}, "invalid"),
        ({"dbs_issue_date": FUTURE}, "invalid"),
        ({"dbs_level": "gold"}, "invalid_choice"),
    ],
)
def test_vetting_error_codes_are_stable(
    personas: Personas, client_for: ClientFor, changes: dict[str, Any], code: str
) -> None:
    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk),
        enhanced(**{name: tomorrow_if_asked(value) for name, value in changes.items()}),
        format="json",
    )

    assert response.status_code == 400, response.content
    assert response.json()["code"] == code


@pytest.mark.parametrize("missing", ["dbs_issue_date", "original_seen_by"])
def test_vetting_missing_dbs_detail_is_required(
    personas: Personas, client_for: ClientFor, missing: str
) -> None:
    body = enhanced()
    del body[missing]

    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk), body, format="json"
    )

    assert_error(response, 400, "required", missing)


@pytest.mark.parametrize(
    "raw",
    ['{"identity_checked": true,', "[]", '"enhanced"', "{}"],
    ids=["malformed", "list", "string", "empty"],
)
def test_vetting_rejects_unusable_body(personas: Personas, client_for: ClientFor, raw: str) -> None:
    before = row_counts()

    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk), data=raw, content_type="application/json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"malformed_json", "invalid_body", "required"}
    assert row_counts() == before


# --- Suspension --------------------------------------------------------------------------------


def test_suspending_a_helper_records_the_reason(personas: Personas, client_for: ClientFor) -> None:
    hana = personas.hana_helper

    response = client_for(personas.cora).post(
        vetting_url(hana.pk),
        {"suspended": True, "reason": "  Complaint from a member, under review  "},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["suspended"] is True
    assert response.json()["suspended_reason"] == "Complaint from a member, under review"
    hana.refresh_from_db()
    assert hana.suspended is True
    event = AuditEvent.objects.get(action="helper.suspended")
    assert event.actor == personas.cora.user
    assert event.member == personas.hana
    assert event.reason == "Complaint from a member, under review"
    # A suspension is not a vetting check.
    assert not VettingCheck.objects.exists()


def test_suspending_twice_is_conflict(personas: Personas, client_for: ClientFor) -> None:
    client = client_for(personas.cora)
    url = vetting_url(personas.hana_helper.pk)
    suspended = client.post(url, {"suspended": True, "reason": "Complaint"}, format="json")
    assert suspended.status_code == 200, suspended.content
    before = row_counts()

    response = client.post(url, {"suspended": True, "reason": "Another"}, format="json")

    assert_error(response, 409, "already_suspended")
    assert row_counts() == before
    personas.hana_helper.refresh_from_db()
    assert personas.hana_helper.suspended_reason == "Complaint"


def test_reinstating_a_suspended_helper(personas: Personas, client_for: ClientFor) -> None:
    client = client_for(personas.cora)
    url = vetting_url(personas.hana_helper.pk)
    client.post(url, {"suspended": True, "reason": "Complaint"}, format="json")

    response = client.post(
        url, {"suspended": False, "reason": "Complaint not upheld"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["suspended"] is False
    assert response.json()["suspended_reason"] == ""
    event = AuditEvent.objects.get(action="helper.reinstated")
    assert event.reason == "Complaint not upheld"
    assert event.actor == personas.cora.user
    assert event.member == personas.hana


def test_reinstating_a_helper_who_is_not_suspended_is_conflict(
    personas: Personas, client_for: ClientFor
) -> None:
    before = row_counts()

    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk),
        {"suspended": False, "reason": "Just in case"},
        format="json",
    )

    assert_error(response, 409, "not_suspended")
    assert row_counts() == before


def test_suspension_keeps_the_vetting_level(personas: Personas, client_for: ClientFor) -> None:
    client = client_for(personas.cora)
    url = vetting_url(personas.hana_helper.pk)
    client.post(url, enhanced(), format="json")

    response = client.post(url, {"suspended": True, "reason": "On holiday"}, format="json")

    assert response.json()["vetting_level"] == "enhanced"
    assert response.json()["suspended"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"suspended": True}, "reason"),
        ({"suspended": True, "reason": ""}, "reason"),
        ({"suspended": True, "reason": "   "}, "reason"),
        ({"suspended": True, "reason": None}, "reason"),
        ({"suspended": True, "reason": "x" * 501}, "reason"),
        ({"suspended": False}, "reason"),
        ({"suspended": "perhaps", "reason": "Complaint"}, "suspended"),
        ({"suspended": None, "reason": "Complaint"}, "suspended"),
        ({"suspended": True, "reason": "Complaint", "dbs_level": "none"}, "dbs_level"),
    ],
    ids=[
        "reason missing",
        "reason empty",
        "reason blank",
        "reason null",
        "reason too long",
        "reinstate without reason",
        "suspended a word",
        "suspended null",
        "mixed with vetting",
    ],
)
def test_suspension_rejects_bad_input_and_changes_nothing(
    personas: Personas, client_for: ClientFor, body: dict[str, Any], field: str
) -> None:
    before = row_counts()

    response = client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk), body, format="json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field, response.json()
    assert row_counts() == before
    personas.hana_helper.refresh_from_db()
    assert personas.hana_helper.suspended is False


# --- Who may vet ---------------------------------------------------------------------------------

VETTING_AND_SUSPENSION = [enhanced(), {"suspended": True, "reason": "Complaint"}]


@pytest.mark.parametrize("body", VETTING_AND_SUSPENSION, ids=["vetting", "suspension"])
def test_anonymous_cannot_vet(
    personas: Personas, client_for: ClientFor, body: dict[str, Any]
) -> None:
    before = row_counts()

    response = client_for(None).post(vetting_url(personas.hana_helper.pk), body, format="json")

    assert_error(response, 401, "not_authenticated")
    assert row_counts() == before


@pytest.mark.parametrize("who", ["hana", "alice", "bob", "otto"])
@pytest.mark.parametrize("body", VETTING_AND_SUSPENSION, ids=["vetting", "suspension"])
def test_only_coordinators_vet(
    personas: Personas, client_for: ClientFor, who: str, body: dict[str, Any]
) -> None:
    # Hana may not vet herself, nor may an operator: vetting is the coordinators' job.
    before = row_counts()

    response = client_for(getattr(personas, who)).post(
        vetting_url(personas.hana_helper.pk), body, format="json"
    )

    assert_error(response, 403, "forbidden")
    assert row_counts() == before
    assert level_of(personas.hana_helper) == "none"


def test_refused_caller_learns_nothing_from_bad_input(
    personas: Personas, client_for: ClientFor
) -> None:
    # Permission is decided before the body is read, so a member cannot probe the rules.
    response = client_for(personas.alice).post(
        vetting_url(personas.hana_helper.pk), enhanced(dbs_level="gold"), format="json"
    )

    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize("who", ["clara", "sam"])
@pytest.mark.parametrize("body", VETTING_AND_SUSPENSION, ids=["vetting", "suspension"])
def test_another_circles_people_cannot_find_helper_to_vet(
    personas: Personas, client_for: ClientFor, who: str, body: dict[str, Any]
) -> None:
    before = row_counts()

    response = client_for(getattr(personas, who)).post(
        vetting_url(personas.hana_helper.pk), body, format="json"
    )

    assert_error(response, 404, "helper_not_found")
    assert row_counts() == before


def test_coordinator_cannot_vet_another_circles_helper(
    personas: Personas, client_for: ClientFor
) -> None:
    suffolk_helper = HelperFactory(
        member=MemberFactory(circle=personas.suffolk, roles=["helper"], postcode="IP4 1AA")
    )

    response = client_for(personas.cora).post(
        vetting_url(suffolk_helper.pk), enhanced(), format="json"
    )

    assert_error(response, 404, "helper_not_found")
    assert level_of(suffolk_helper) == "none"
    # ...while that circle's own coordinator can.
    own = client_for(personas.clara).post(vetting_url(suffolk_helper.pk), enhanced(), format="json")
    assert own.status_code == 200, own.content
    assert own.json()["vetting_level"] == "enhanced"


@pytest.mark.parametrize("helper_id", [999999, 2**63, 10**30])
def test_vetting_unknown_helper_is_not_found(
    personas: Personas, client_for: ClientFor, helper_id: int
) -> None:
    response = client_for(personas.cora).post(vetting_url(helper_id), enhanced(), format="json")

    assert_error(response, 404, "helper_not_found")


def test_vetting_endpoint_takes_only_post(personas: Personas, client_for: ClientFor) -> None:
    response = client_for(personas.cora).get(vetting_url(personas.hana_helper.pk))

    assert_error(response, 405, "method_not_allowed")


# --- Nobody vets themselves --------------------------------------------------------------------


def cora_as_helper(personas: Personas, client_for: ClientFor) -> int:
    """Cora, a coordinator, also signs up to help; her profile's id."""
    response = client_for(personas.cora).post(
        "/api/v1/circles/southwark/helpers/",
        {"kind": "volunteer", "skills": ["paperwork"], "travel_radius_km": 2},
        format="json",
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


@pytest.mark.parametrize(
    "body",
    [enhanced(), {"suspended": True, "reason": "Testing"}],
    ids=["vetting", "suspension"],
)
def test_coordinator_cannot_vet_or_suspend_herself(
    personas: Personas, client_for: ClientFor, body: dict[str, Any]
) -> None:
    # Vetting is a second pair of eyes: a coordinator who also helps is vetted by another one.
    helper_id = cora_as_helper(personas, client_for)
    before = row_counts()

    response = client_for(personas.cora).post(vetting_url(helper_id), body, format="json")

    assert_error(response, 403, "own_vetting")
    assert row_counts() == before
    assert Helper.objects.get(pk=helper_id).vetting_level == "none"


def test_coordinator_cannot_reinstate_herself(personas: Personas, client_for: ClientFor) -> None:
    helper_id = cora_as_helper(personas, client_for)
    other = MemberFactory(circle=personas.southwark, roles=["coordinator"])
    suspended = client_for(other).post(
        vetting_url(helper_id), {"suspended": True, "reason": "Complaint"}, format="json"
    )
    assert suspended.status_code == 200, suspended.content
    before = row_counts()

    response = client_for(personas.cora).post(
        vetting_url(helper_id), {"suspended": False, "reason": "All fine"}, format="json"
    )

    assert_error(response, 403, "own_vetting")
    assert row_counts() == before
    assert Helper.objects.get(pk=helper_id).suspended is True


def test_another_coordinator_vets_a_coordinator_who_helps(
    personas: Personas, client_for: ClientFor
) -> None:
    helper_id = cora_as_helper(personas, client_for)
    other = MemberFactory(circle=personas.southwark, roles=["coordinator"])

    response = client_for(other).post(vetting_url(helper_id), enhanced(), format="json")

    assert response.status_code == 200, response.content
    assert response.json()["vetting_level"] == "enhanced"
    # Cora still sees her own profile, as any helper does.
    assert client_for(personas.cora).get(f"/api/v1/helpers/{helper_id}/").status_code == 200


# --- Two coordinators at once (PostgreSQL: SQLite serialises writers) ------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_leave_the_level_of_the_later_one(
    personas: Personas, client_for: ClientFor
) -> None:
    second = MemberFactory(circle=personas.southwark, roles=["coordinator"])
    url = vetting_url(personas.hana_helper.pk)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def record(who: Any, body: dict[str, Any]) -> None:
        try:
            barrier.wait()
            statuses.append(client_for(who).post(url, body, format="json").status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=record, args=(personas.cora, enhanced())),
        threading.Thread(target=record, args=(second, enhanced(dbs_level="basic"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200, 200]
    latest = VettingCheck.objects.order_by("-recorded_at", "-id").first()
    assert latest is not None
    assert level_of(personas.hana_helper) == latest.resulting_level
    # The audit rows chain: the second saw the level the first had set.
    moves = [
        (e.data["from"], e.data["to"])
        for e in AuditEvent.objects.filter(action="helper.vetted").order_by("id")
    ]
    assert moves[0][0] == "none"
    assert moves[1][0] == moves[0][1]
    assert moves[1][1] == latest.resulting_level
