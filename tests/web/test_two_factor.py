"""Staff two-factor on the pages: the code step of signing in (with a recovery code too), setting
it up, the staff pages' gate where it is required, and a coordinator's reset of another's."""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from members.models import AuditEvent, RoleName
from members.selectors import TWO_FACTOR_RESET
from tests.factories import PASSWORD, MemberFactory, UserFactory
from tests.two_factor import next_code, set_up_two_factor
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

DESK = "/coordinator/southwark/"
SET_UP = "/account/two-factor/set-up/"


def password_step(client, email: str):
    return client.post("/sign-in/", {"username": email, "password": PASSWORD})


def secret_from_page(response) -> str:
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", response.content.decode())
    assert secret, "the set-up page shows the secret as text"
    return secret[1].replace(" ", "")


def code_from_page(response) -> str:
    """The code an app shows for the secret the set-up page gives as text."""
    secret = secret_from_page(response)
    return f"{totp(b32decode(secret + '=' * (-len(secret) % 8))):06d}"


# --- Signing in with a code ------------------------------------------------------------------


def test_staff_with_two_factor_give_a_code_before_they_are_signed_in(client, personas):
    device, _codes = set_up_two_factor(personas.cora.user)
    response = password_step(client, "cora@example.org")
    assert (response.status_code, response.url) == (302, "/sign-in/code/")
    # Not signed in yet: the desk still asks for the password.
    assert client.get(DESK).url.startswith("/sign-in/?next=")
    page = client.get("/sign-in/code/")
    assert "Enter your code" in text_of(page)
    response = client.post("/sign-in/code/", {"code": next_code(device)})
    assert (response.status_code, response.url) == (302, DESK)
    assert client.get(DESK).status_code == 200


def test_a_wrong_code_is_refused_with_the_error_summary(client, personas):
    set_up_two_factor(personas.cora.user)
    password_step(client, "cora@example.org")
    response = client.post("/sign-in/code/", {"code": "000000"})
    assert response.status_code == 200
    words = text_of(response)
    assert "There is a problem" in words
    assert "That code is not right" in words
    assert words.startswith("Error:")
    assert client.get(DESK).status_code == 302


def test_a_recovery_code_signs_in_once(client, personas):
    _device, codes = set_up_two_factor(personas.cora.user)
    password_step(client, "cora@example.org")
    response = client.post("/sign-in/code/", {"code": codes[0]}, follow=True)
    assert response.redirect_chain[-1][0] == DESK
    assert "You used a recovery code: 9 are left" in text_of(response)
    client.post("/sign-out/")
    password_step(client, "cora@example.org")
    response = client.post("/sign-in/code/", {"code": codes[0]})
    assert "That code is not right" in text_of(response)
    assert StaticToken.objects.filter(device__user=personas.cora.user).count() == 9


def test_a_next_page_is_kept_through_the_code_step(client, personas):
    device, _codes = set_up_two_factor(personas.otto.user)
    client.post(
        "/sign-in/",
        {"username": "otto@example.org", "password": PASSWORD, "next": "/console/southwark/"},
    )
    response = client.post("/sign-in/code/", {"code": next_code(device)})
    assert response.url == "/console/southwark/"


def test_the_code_step_waits_ten_minutes_at_most(client, personas):
    device, _codes = set_up_two_factor(personas.cora.user)
    password_step(client, "cora@example.org")
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = client.post("/sign-in/code/", {"code": next_code(device)}, follow=True)
    assert response.redirect_chain[-1][0] == "/sign-in/"
    assert "it took longer than 10 minutes" in text_of(response)
    assert client.get(DESK).status_code == 302


def test_the_code_page_without_a_password_first_goes_to_sign_in(client, db):
    assert client.get("/sign-in/code/").url == "/sign-in/"


def test_members_and_helpers_are_never_asked_for_a_code(client, personas, settings):
    settings.STAFF_TWO_FACTOR = "required"
    assert password_step(client, "alice@example.org").url == "/my/"
    assert client.get("/my/").status_code == 200
    client.post("/sign-out/")
    assert password_step(client, "hana@example.org").url == "/helper/"
    assert client.get("/helper/").status_code == 200


# --- Required: the staff pages' gate --------------------------------------------------------


def test_required_a_coordinator_without_two_factor_sets_it_up_before_the_desk(
    client, personas, settings
):
    settings.STAFF_TWO_FACTOR = "required"
    password_step(client, "cora@example.org")
    response = client.get(DESK)
    assert response.url == f"{SET_UP}?next=%2Fcoordinator%2Fsouthwark%2F"
    page = client.get(response.url)
    assert "Set up two-factor sign-in" in text_of(page)
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()
    # Opening the page again keeps the secret someone may have scanned already.
    assert secret_from_page(client.get(response.url)) == secret_from_page(page)
    wrong = client.post(response.url, {"code": "12345"})
    assert "That code is not right" in text_of(wrong)
    assert not TOTPDevice.objects.filter(user=personas.cora.user, confirmed=True).exists()
    done = client.post(response.url, {"code": code_from_page(page)})
    words = text_of(done)
    assert "Two-factor sign-in is on" in words
    assert len(re.findall(r"data-recovery-code>", done.content.decode())) == 10
    assert 'href="/coordinator/southwark/"' in done.content.decode()
    # The code just given verifies this session.
    assert client.get(DESK).status_code == 200


@pytest.mark.parametrize("path", [DESK, "/coordinator/southwark/ledger/", "/console/southwark/"])
def test_required_every_staff_page_sends_staff_without_it_to_set_up(
    client, personas, settings, path
):
    settings.STAFF_TWO_FACTOR = "required"
    client.force_login(personas.cora.user)
    assert client.get(path).url.startswith(SET_UP)


def test_required_an_operator_is_sent_to_set_up_too(client, personas, settings):
    settings.STAFF_TWO_FACTOR = "required"
    client.force_login(personas.otto.user)
    assert client.get("/console/southwark/").url.startswith(SET_UP)


def test_required_a_session_not_verified_gives_the_code(client, personas, settings):
    settings.STAFF_TWO_FACTOR = "required"
    device, _codes = set_up_two_factor(personas.cora.user)
    client.force_login(personas.cora.user)
    response = client.get("/coordinator/southwark/ledger/")
    assert response.url == "/sign-in/code/?next=%2Fcoordinator%2Fsouthwark%2Fledger%2F"
    response = client.post(response.url, {"code": next_code(device)})
    assert response.url == "/coordinator/southwark/ledger/"
    assert client.get("/coordinator/southwark/ledger/").status_code == 200


def test_optional_staff_pages_do_not_ask(client, personas):
    client.force_login(personas.cora.user)
    assert client.get(DESK).status_code == 200


# --- The account page ---------------------------------------------------------------------------


def test_the_account_page_is_for_staff_only(client, personas):
    client.force_login(personas.alice.user)
    assert client.get("/account/two-factor/").status_code == 403
    assert client.get(SET_UP).status_code == 403


def test_new_recovery_codes_replace_the_old(client, personas):
    device, codes = set_up_two_factor(personas.otto.user)
    password_step(client, "otto@example.org")
    client.post("/sign-in/code/", {"code": next_code(device)})
    page = client.get("/account/two-factor/")
    assert "Two-factor sign-in is on" in text_of(page)
    assert "You have 10 recovery codes left" in text_of(page)
    response = client.post("/account/two-factor/recovery-codes/")
    new = re.findall(r"data-recovery-code>([a-z2-7]+)<", response.content.decode())
    assert len(new) == 10
    assert not set(new) & set(codes)
    stored = set(
        StaticToken.objects.filter(device__user=personas.otto.user).values_list("token", flat=True)
    )
    assert stored == set(new)


def test_optional_staff_turn_it_off(client, personas):
    device, _codes = set_up_two_factor(personas.otto.user)
    password_step(client, "otto@example.org")
    client.post("/sign-in/code/", {"code": next_code(device)})
    assert "Turn off two-factor sign-in" in text_of(client.get("/account/two-factor/"))
    response = client.post("/account/two-factor/turn-off/", follow=True)
    assert "Two-factor sign-in is off" in text_of(response)
    assert not TOTPDevice.objects.filter(user=personas.otto.user).exists()


def test_required_it_cannot_be_turned_off(client, personas, settings):
    settings.STAFF_TWO_FACTOR = "required"
    device, _codes = set_up_two_factor(personas.otto.user)
    password_step(client, "otto@example.org")
    client.post("/sign-in/code/", {"code": next_code(device)})
    assert "cannot be turned off" in text_of(client.get("/account/two-factor/"))
    assert client.post("/account/two-factor/turn-off/").url == "/account/two-factor/"
    assert TOTPDevice.objects.filter(user=personas.otto.user, confirmed=True).exists()


def test_the_account_page_asks_for_the_code_before_any_change(client, personas):
    set_up_two_factor(personas.otto.user)
    client.force_login(personas.otto.user)
    response = client.post("/account/two-factor/turn-off/")
    assert response.url.startswith("/sign-in/code/")
    assert TOTPDevice.objects.filter(user=personas.otto.user).exists()


# --- A coordinator resets another's -----------------------------------------------------------


@pytest.fixture
def cody(personas):
    """A second Southwark coordinator."""
    return MemberFactory(
        circle=personas.southwark,
        user=UserFactory(email="cody@example.org", full_name="Cody Coordinator"),
        roles=[RoleName.COORDINATOR],
    )


def test_the_staff_page_lists_staff_with_their_two_factor(client, personas, cody):
    set_up_two_factor(personas.otto.user)
    client.force_login(personas.cora.user)
    settings_page = client.get("/coordinator/southwark/settings/").content.decode()
    assert 'href="/coordinator/southwark/staff/"' in settings_page
    page = client.get("/coordinator/southwark/staff/")
    words = text_of(page)
    assert "Otto Operator Operator On" in words
    assert "Cody Coordinator Coordinator Not set up" in words
    assert "Cora Coordinator (you)" in words
    assert "Alice" not in words
    assert "Reset two-factor for Otto Operator" in words
    assert "for Cora Coordinator" not in words


def test_a_coordinator_resets_an_operators_two_factor_with_a_reason(client, personas, cody):
    set_up_two_factor(personas.otto.user)
    client.force_login(personas.cora.user)
    url = f"/coordinator/southwark/staff/{personas.otto.pk}/two-factor/reset/"
    assert "Reset Otto Operator's two-factor sign-in?" in text_of(client.get(url))
    empty = client.post(url, {"reason": ""})
    assert "Say why." in text_of(empty)
    assert TOTPDevice.objects.filter(user=personas.otto.user).exists()
    response = client.post(url, {"reason": "Lost her phone"}, follow=True)
    assert response.redirect_chain[-1][0] == "/coordinator/southwark/staff/"
    assert "two-factor sign-in is reset" in text_of(response)
    assert not TOTPDevice.objects.filter(user=personas.otto.user).exists()
    event = AuditEvent.objects.get(action=TWO_FACTOR_RESET)
    assert (event.actor, event.member, event.reason) == (
        personas.cora.user,
        personas.otto,
        "Lost her phone",
    )


def test_a_coordinator_cannot_reset_their_own(client, personas):
    set_up_two_factor(personas.cora.user)
    client.force_login(personas.cora.user)
    url = f"/coordinator/southwark/staff/{personas.cora.pk}/two-factor/reset/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "mine"}).status_code == 403
    assert TOTPDevice.objects.filter(user=personas.cora.user).exists()
    assert not AuditEvent.objects.filter(action=TWO_FACTOR_RESET).exists()


def test_another_circles_staff_and_members_are_not_found(client, personas):
    set_up_two_factor(personas.otto.user)
    client.force_login(personas.clara.user)
    assert (
        client.get(f"/coordinator/suffolk/staff/{personas.otto.pk}/two-factor/reset/").status_code
        == 404
    )
    assert (
        client.get(f"/coordinator/southwark/staff/{personas.otto.pk}/two-factor/reset/").status_code
        == 404
    )
    client.force_login(personas.cora.user)
    url = f"/coordinator/southwark/staff/{personas.alice.pk}/two-factor/reset/"
    assert client.get(url).status_code == 404


def test_an_operator_cannot_reach_the_staff_page(client, personas):
    client.force_login(personas.otto.user)
    assert client.get("/coordinator/southwark/staff/").status_code == 403


def test_after_a_reset_they_set_it_up_again_where_required(client, personas, settings, cody):
    settings.STAFF_TWO_FACTOR = "required"
    device, _codes = set_up_two_factor(personas.otto.user)
    from django.test import Client

    otto = Client()
    password_step(otto, "otto@example.org")
    otto.post("/sign-in/code/", {"code": next_code(device)})
    assert otto.get("/console/southwark/").status_code == 200
    cora_device, _ = set_up_two_factor(personas.cora.user)
    password_step(client, "cora@example.org")
    client.post("/sign-in/code/", {"code": next_code(cora_device)})
    client.post(
        f"/coordinator/southwark/staff/{personas.otto.pk}/two-factor/reset/",
        {"reason": "New phone"},
    )
    # Her session was verified by the app now gone: she sets up the new phone first.
    assert otto.get("/console/southwark/").url.startswith(SET_UP)
