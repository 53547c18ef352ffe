"""Staff two-factor through the API: a token for staff with two-factor on only with a current
code (`otp`), none for staff without it where it is required, members never asked, django-axes
still counting; and a coordinator's reset of another's two-factor."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from members.models import AuditEvent
from members.selectors import TWO_FACTOR_RESET
from tests.api.checks import assert_error
from tests.conftest import Personas
from tests.factories import PASSWORD
from tests.two_factor import next_code, set_up_two_factor

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def ask(api: APIClient, email: str, **extra: str):
    return api.post(TOKEN_URL, {"email": email, "password": PASSWORD, **extra}, format="json")


def reset_url(member_id: int) -> str:
    return f"/api/v1/members/{member_id}/two-factor/reset/"


def test_staff_with_two_factor_on_must_give_a_code(personas: Personas, api: APIClient) -> None:
    set_up_two_factor(personas.cora.user)
    assert_error(ask(api, "cora@example.org"), 400, "otp_required", "otp")
    assert_error(ask(api, "cora@example.org", otp=""), 400, "otp_required", "otp")
    assert not Token.objects.filter(user=personas.cora.user).exists()


def test_a_wrong_code_is_otp_invalid(personas: Personas, api: APIClient) -> None:
    device, _codes = set_up_two_factor(personas.cora.user)
    wrong = "000000" if next_code(device) != "000000" else "111111"
    assert_error(ask(api, "cora@example.org", otp=wrong), 400, "otp_invalid", "otp")
    assert not Token.objects.filter(user=personas.cora.user).exists()


def test_the_current_code_gives_a_token(personas: Personas, api: APIClient) -> None:
    device, _codes = set_up_two_factor(personas.cora.user)
    response = ask(api, "cora@example.org", otp=next_code(device))
    assert response.status_code == 200, response.content
    assert response.json()["token"] == Token.objects.get(user=personas.cora.user).key


def test_a_code_already_used_is_refused(personas: Personas, api: APIClient) -> None:
    device, _codes = set_up_two_factor(personas.otto.user)
    code = next_code(device)
    assert ask(api, "otto@example.org", otp=code).status_code == 200
    assert_error(ask(api, "otto@example.org", otp=code), 400, "otp_invalid", "otp")


def test_a_recovery_code_works_once(personas: Personas, api: APIClient) -> None:
    _device, codes = set_up_two_factor(personas.cora.user)
    assert len(codes) == 10
    assert ask(api, "cora@example.org", otp=codes[0].upper()).status_code == 200
    assert_error(ask(api, "cora@example.org", otp=codes[0]), 400, "otp_invalid", "otp")
    # After a wrong code the recovery codes wait a moment (django_otp's throttling).
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        assert ask(api, "cora@example.org", otp=codes[1]).status_code == 200


def test_wrong_codes_count_towards_the_lockout(personas: Personas, api: APIClient, settings):
    device, _codes = set_up_two_factor(personas.cora.user)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert_error(ask(api, "cora@example.org", otp="abcdefgh"), 400, "otp_invalid", "otp")
    # The last failure allowed is the one that locks, as for wrong passwords.
    assert_error(ask(api, "cora@example.org", otp="abcdefgh"), 429, "too_many_attempts")
    assert AccessAttempt.objects.filter(username="cora@example.org").exists()
    # Locked out now, even with the right password and code.
    assert_error(ask(api, "cora@example.org", otp=next_code(device)), 429, "too_many_attempts")


def test_wrong_password_is_still_invalid_credentials_before_any_code(
    personas: Personas, api: APIClient
) -> None:
    set_up_two_factor(personas.cora.user)
    response = api.post(
        TOKEN_URL,
        {"email": "cora@example.org", "password": "wrong", "otp": "123456"},
        format="json",
    )
    assert_error(response, 400, "invalid_credentials")


def test_optional_mode_staff_without_two_factor_get_a_token(
    personas: Personas, api: APIClient
) -> None:
    assert ask(api, "otto@example.org").status_code == 200


def test_required_mode_staff_without_two_factor_are_told_to_set_it_up(
    personas: Personas, api: APIClient, settings
) -> None:
    settings.STAFF_TWO_FACTOR = "required"
    response = ask(api, "otto@example.org", otp="123456")
    assert_error(response, 400, "otp_required", "otp")
    assert "Set it up on the website first" in response.json()["detail"]
    assert not Token.objects.filter(user=personas.otto.user).exists()


def test_required_mode_staff_with_two_factor_get_a_token_with_a_code(
    personas: Personas, api: APIClient, settings
) -> None:
    settings.STAFF_TWO_FACTOR = "required"
    device, _codes = set_up_two_factor(personas.otto.user)
    assert_error(ask(api, "otto@example.org"), 400, "otp_required", "otp")
    assert ask(api, "otto@example.org", otp=next_code(device)).status_code == 200


@pytest.mark.parametrize("email", ["alice@example.org", "hana@example.org", "sam@example.org"])
def test_members_and_helpers_are_never_asked(
    personas: Personas, api: APIClient, settings, email: str
) -> None:
    settings.STAFF_TWO_FACTOR = "required"
    assert ask(api, email).status_code == 200


def test_required_mode_a_staff_token_from_before_no_longer_signs_in(
    personas: Personas, api: APIClient, settings
) -> None:
    """A token issued while two-factor was optional, to staff who never set it up, stops
    working once it is required; one issued with a code goes on working."""
    assert ask(api, "otto@example.org").status_code == 200
    old = Token.objects.get(user=personas.otto.user).key
    settings.STAFF_TWO_FACTOR = "required"
    api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    refused = api.get("/api/v1/circles/southwark/members/?q=Alice")
    assert_error(refused, 401, "two_factor_required")
    set_up_two_factor(personas.otto.user)
    assert api.get("/api/v1/circles/southwark/members/?q=Alice").status_code == 200


def test_required_mode_a_staff_session_without_a_code_reaches_no_api(
    personas: Personas, api: APIClient, settings
) -> None:
    """Signed in on the pages with the password alone (sent on to set up two-factor), staff
    cannot use the API through that session instead; members can, and never give a code."""
    settings.STAFF_TWO_FACTOR = "required"
    api.force_login(personas.otto.user)
    assert_error(api.get("/api/v1/circles/southwark/members/?q=Alice"), 401, "two_factor_required")
    assert_error(api.get("/api/v1/me/"), 401, "two_factor_required")
    member = APIClient()
    member.force_login(personas.alice.user)
    assert member.get("/api/v1/me/").status_code == 200
    settings.STAFF_TWO_FACTOR = "optional"
    assert api.get("/api/v1/circles/southwark/members/?q=Alice").status_code == 200


# --- Reset by another coordinator --------------------------------------------------------------


@pytest.fixture
def southwark_coordinators(personas: Personas):
    """A second coordinator in Southwark, Cody, with two-factor on; Otto has it on too."""
    from members.models import RoleName
    from tests.factories import MemberFactory, UserFactory

    cody = MemberFactory(
        circle=personas.southwark,
        user=UserFactory(email="cody@example.org", full_name="Cody Coordinator"),
        roles=[RoleName.COORDINATOR],
    )
    set_up_two_factor(cody.user)
    set_up_two_factor(personas.otto.user)
    return cody


def test_a_coordinator_resets_an_operators_two_factor_audited(
    personas: Personas, client_for, southwark_coordinators
) -> None:
    Token.objects.create(user=personas.otto.user)
    response = client_for(personas.cora).post(
        reset_url(personas.otto.pk), {"reason": "Lost her phone on the bus"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"member_id": personas.otto.pk, "two_factor": False}
    assert not TOTPDevice.objects.filter(user=personas.otto.user).exists()
    assert not StaticDevice.objects.filter(user=personas.otto.user).exists()
    # Her old API token went with the app it was issued with.
    assert not Token.objects.filter(user=personas.otto.user).exists()
    event = AuditEvent.objects.get(action=TWO_FACTOR_RESET)
    assert (event.actor, event.member, event.reason) == (
        personas.cora.user,
        personas.otto,
        "Lost her phone on the bus",
    )
    assert event.circle == personas.southwark
    assert event.data == {"had_two_factor": True}


def test_a_coordinator_cannot_reset_their_own(
    personas: Personas, client_for, southwark_coordinators
) -> None:
    cody = southwark_coordinators
    response = client_for(cody).post(reset_url(cody.pk), {"reason": "Mine"}, format="json")
    assert_error(response, 403, "own_record")
    assert TOTPDevice.objects.filter(user=cody.user, confirmed=True).exists()
    assert not AuditEvent.objects.filter(action=TWO_FACTOR_RESET).exists()


def test_another_coordinator_resets_a_coordinators_two_factor(
    personas: Personas, client_for, southwark_coordinators
) -> None:
    cody = southwark_coordinators
    response = client_for(personas.cora).post(
        reset_url(cody.pk), {"reason": "New phone"}, format="json"
    )
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=cody.user).exists()


def test_another_circles_coordinator_gets_404(
    personas: Personas, client_for, southwark_coordinators
) -> None:
    response = client_for(personas.clara).post(
        reset_url(personas.otto.pk), {"reason": "x"}, format="json"
    )
    assert_error(response, 404, "member_not_found")
    assert TOTPDevice.objects.filter(user=personas.otto.user).exists()


def test_an_operator_cannot_reset(personas: Personas, client_for, southwark_coordinators) -> None:
    cody = southwark_coordinators
    response = client_for(personas.otto).post(reset_url(cody.pk), {"reason": "x"}, format="json")
    assert_error(response, 403, "forbidden")
    assert TOTPDevice.objects.filter(user=cody.user).exists()


def test_a_members_two_factor_is_not_staffs_to_reset(personas: Personas, client_for) -> None:
    response = client_for(personas.cora).post(
        reset_url(personas.alice.pk), {"reason": "x"}, format="json"
    )
    assert_error(response, 409, "not_staff")


def test_a_reset_needs_a_reason(personas: Personas, client_for, southwark_coordinators) -> None:
    response = client_for(personas.cora).post(reset_url(personas.otto.pk), {}, format="json")
    assert_error(response, 400, "required", "reason")
    response = client_for(personas.cora).post(
        reset_url(personas.otto.pk), {"reason": "   "}, format="json"
    )
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=personas.otto.user).exists()
