"""members.services.member_details_update: changing contact details with the rules of joining,
and member_age_check, the age rule on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from circle.errors import Forbidden, InvalidInput
from members.models import AuditEvent, Member, User
from members.selectors import Caller, caller_for
from members.services import member_age_check, member_details_update
from tests.conftest import Personas
from tests.factories import MemberFactory, years_ago

pytestmark = pytest.mark.django_db


def as_(member: Member) -> Caller:
    return caller_for(user=member.user, circle=member.circle)


def fresh(member: Member) -> Member:
    return Member.objects.select_related("user").get(pk=member.pk)


def snapshot(member: Member) -> dict[str, object]:
    return Member.objects.filter(pk=member.pk).values().get()


# --- member_age_check -------------------------------------------------------------------------


def test_age_check_passes_someone_old_enough(personas: Personas) -> None:
    member_age_check(circle=personas.southwark, born=years_ago(50))


@pytest.mark.parametrize(
    ("born_years_ago", "code", "detail"),
    [
        (49, "too_young", "Members of Southwark Circle are 50 or over."),
        (121, "date_of_birth_invalid", "Please check the date of birth."),
    ],
)
def test_age_check_refuses_with_the_join_rule(
    personas: Personas, born_years_ago: int, code: str, detail: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        member_age_check(circle=personas.southwark, born=years_ago(born_years_ago))

    assert refused.value.code == code
    assert refused.value.field == "date_of_birth"
    assert refused.value.detail == detail


def test_age_check_refuses_a_birthday_to_come(personas: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        member_age_check(circle=personas.southwark, born=timezone.localdate() + timedelta(days=1))

    assert refused.value.code == "date_of_birth_invalid"


# --- Changing details -------------------------------------------------------------------------


def test_member_changes_their_phone_normalised_with_an_audit_row_naming_the_field(
    personas: Personas,
) -> None:
    alice = personas.alice

    updated = member_details_update(member=alice, caller=as_(alice), phone="020 7946 0123")

    assert updated.phone == "+442079460123"
    assert fresh(alice).phone == "+442079460123"
    event = AuditEvent.objects.get(action="member.details_changed")
    assert event.member == alice
    assert event.actor == alice.user
    assert event.actor_member == alice
    assert event.data == {"fields": ["phone"]}
    # The log names the field, never the number.
    assert "7946" not in str(event.data)


def test_only_the_details_given_change(personas: Personas) -> None:
    alice = personas.alice
    before = snapshot(alice)

    member_details_update(member=alice, caller=as_(alice), full_name=" Alice  Archer-Smith ")

    after = snapshot(alice)
    assert after.pop("full_name") == "Alice  Archer-Smith"
    before.pop("full_name")
    assert after == before


def test_a_new_postcode_is_normalised_and_placed_again(personas: Personas) -> None:
    alice = personas.alice
    old = (alice.latitude, alice.longitude)

    member_details_update(
        member=alice, caller=as_(alice), address_line1="4 Peckham Road", postcode="se58ab"
    )

    member = fresh(alice)
    assert member.postcode == "SE5 8AB"
    assert member.address_line1 == "4 Peckham Road"
    assert (member.latitude, member.longitude) != old
    assert AuditEvent.objects.get().data == {"fields": ["address_line1", "postcode"]}


def test_a_new_email_changes_the_login_too(personas: Personas) -> None:
    alice = personas.alice

    member_details_update(member=alice, caller=as_(alice), email=" Alice.New@Example.ORG ")

    member = fresh(alice)
    assert member.email == "alice.new@example.org"
    assert member.user is not None
    assert member.user.email == "alice.new@example.org"


def test_the_same_email_in_other_letters_is_no_change(personas: Personas) -> None:
    alice = personas.alice

    member_details_update(member=alice, caller=as_(alice), email="ALICE@example.org")

    assert fresh(alice).email == "alice@example.org"
    assert AuditEvent.objects.count() == 0


def test_nothing_changed_writes_nothing(personas: Personas) -> None:
    alice = personas.alice

    member_details_update(
        member=alice,
        caller=as_(alice),
        full_name=alice.full_name,
        address_line1=alice.address_line1,
        postcode=alice.postcode,
        email=alice.email,
    )

    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"full_name": "   "}, "blank", "full_name"),
        ({"address_line1": ""}, "blank", "address_line1"),
        ({"postcode": "SE1"}, "postcode_invalid", "postcode"),
        ({"postcode": "ZZ9 9ZZ"}, "postcode_unknown", "postcode"),
        ({"postcode": "EH1 1YZ"}, "postcode_outside_area", "postcode"),
        ({"phone": "12"}, "phone_invalid", "phone"),
        ({"email": "not-an-email"}, "email_invalid", "email"),
        ({"email": "bob@example.org"}, "email_taken", "email"),
        # Another circle's login: logins are one per email, whatever the circle.
        ({"email": "sam@example.org"}, "email_taken", "email"),
        # A member who signs in cannot be left without an email.
        ({"email": ""}, "required", "email"),
        # One bad answer refuses the lot: the good one is not written either.
        ({"full_name": "New Name", "phone": "12"}, "phone_invalid", "phone"),
    ],
)
def test_a_change_breaking_a_join_rule_is_refused_and_writes_nothing(
    personas: Personas, changes: dict[str, str], code: str, field: str
) -> None:
    alice = personas.alice
    before = snapshot(alice)

    with pytest.raises(InvalidInput) as refused:
        member_details_update(member=alice, caller=as_(alice), **changes)

    assert refused.value.code == code
    assert refused.value.field == field
    assert snapshot(alice) == before
    assert User.objects.get(pk=alice.user_id).email == "alice@example.org"
    assert AuditEvent.objects.count() == 0


def test_an_email_of_a_phone_only_member_in_the_circle_is_taken(personas: Personas) -> None:
    MemberFactory(circle=personas.southwark, user=None, email="pat@example.org")

    with pytest.raises(InvalidInput) as refused:
        member_details_update(
            member=personas.alice, caller=as_(personas.alice), email="pat@example.org"
        )

    assert refused.value.code == "email_taken"


def test_a_member_without_a_login_may_have_their_email_removed(personas: Personas) -> None:
    pat = MemberFactory(circle=personas.southwark, user=None, email="pat@example.org")

    member_details_update(member=pat, caller=as_(personas.otto), email="", call_reference="CALL-7")

    assert fresh(pat).email is None


# --- Who may ----------------------------------------------------------------------------------


def test_staff_change_a_members_details_with_a_call_reference(personas: Personas) -> None:
    alice = personas.alice

    member_details_update(
        member=alice, caller=as_(personas.otto), phone="07911 123456", call_reference="CALL-1"
    )

    assert fresh(alice).phone == "+447911123456"
    event = AuditEvent.objects.get()
    assert event.actor == personas.otto.user
    assert event.member == alice
    assert event.call_reference == "CALL-1"


def test_staff_must_say_why(personas: Personas) -> None:
    before = snapshot(personas.alice)

    with pytest.raises(InvalidInput) as refused:
        member_details_update(
            member=personas.alice, caller=as_(personas.cora), phone="07911 123456", reason=" "
        )

    assert refused.value.code == "reason_required"
    assert snapshot(personas.alice) == before


def test_staff_changing_their_own_details_need_no_reason(personas: Personas) -> None:
    member_details_update(member=personas.otto, caller=as_(personas.otto), phone="07911 123456")

    assert fresh(personas.otto).phone == "+447911123456"


@pytest.mark.parametrize("who", ["bob", "hana", "clara", "sam"])
def test_nobody_else_may_change_a_members_details(personas: Personas, who: str) -> None:
    """Another member, a helper, and another circle's coordinator and member."""
    someone: Member = getattr(personas, who)
    caller = caller_for(user=someone.user, circle=personas.southwark)
    before = snapshot(personas.alice)

    with pytest.raises(Forbidden):
        member_details_update(
            member=personas.alice, caller=caller, phone="07911 123456", reason="Asked"
        )

    assert snapshot(personas.alice) == before


def test_an_anonymous_caller_may_not(personas: Personas) -> None:
    with pytest.raises(Forbidden):
        member_details_update(
            member=personas.alice,
            caller=Caller(user=None, member=None, roles=frozenset()),
            phone="07911 123456",
        )
