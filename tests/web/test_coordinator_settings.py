"""The coordinators' settings page: prices and rules, kinds of help, and the record of
changes, through the pages as Cora, Southwark's coordinator."""

from __future__ import annotations

import pytest
from djmoney.money import Money

from circle.models import Category
from members.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/coordinator/southwark/settings/"
NEW = "/coordinator/southwark/settings/kinds-of-help/new/"

RULES = {
    "membership_fee": "10.00",
    "token_price": "10.00",
    "billing_increment_minutes": "30",
    "offer_wave_minutes": "60",
    "approval_threshold_minutes": "600",
    "no_helper_warning_hours": "24",
}


def edit_url(category: Category) -> str:
    return f"/coordinator/southwark/settings/kinds-of-help/{category.pk}/"


@pytest.fixture
def cora(client, personas):
    client.force_login(personas.cora.user)
    return client


def test_the_page_shows_the_kinds_of_help_the_rules_and_no_changes_yet(cora) -> None:
    page = cora.get(URL).content.decode()

    assert "Settings" in page
    assert "Lifts" in page
    assert "Enhanced" in page
    assert 'name="membership_fee"' in page
    assert 'value="10.00"' in page
    assert 'name="no_helper_warning_hours"' in page
    assert "Nothing has been changed here yet." in page


def test_saving_the_rules_writes_each_change_and_shows_it_in_the_record(cora, personas) -> None:
    response = cora.post(URL, {**RULES, "token_price": "12.50", "no_helper_warning_hours": "48"})

    assert response.status_code == 302
    page = cora.get(URL).content.decode()
    assert "The circle&#x27;s prices and rules are saved." in page
    assert "Token price changed from 10.00 to 12.50" in page
    assert "Warning time changed from 24 to 48" in page
    assert "Cora Coordinator" in page
    personas.southwark.refresh_from_db()
    assert personas.southwark.token_price == Money("12.50", "GBP")
    assert personas.southwark.no_helper_warning_hours == 48


def test_saving_unchanged_rules_writes_nothing(cora) -> None:
    cora.post(URL, RULES)

    assert "Nothing was changed." in cora.get(URL).content.decode()
    assert not AuditEvent.objects.filter(action="circle.setting_changed").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("membership_fee", "-5", "The membership fee cannot be less than £0.00."),
        ("token_price", "-0.50", "The token price cannot be less than £0.00."),
        ("billing_increment_minutes", "0", "The billing increment must be at least 1 minute."),
        ("offer_wave_minutes", "0", "The wait between offers must be at least 1 minute."),
        ("no_helper_warning_hours", "0", "The warning time must be at least 1 hour"),
        ("token_price", "lots", "Enter the price of one token as a number."),
        ("billing_increment_minutes", "", "Enter the billing increment."),
        ("token_price", "10.005", "The token price is in pounds and pence, like 10.50."),
    ],
)
def test_nonsense_is_refused_with_its_message_and_nothing_written(
    cora, personas, field, value, message
) -> None:
    response = cora.post(URL, {**RULES, "offer_wave_minutes": "45", field: value})

    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert message.replace("'", "&#x27;") in page
    personas.southwark.refresh_from_db()
    assert personas.southwark.offer_wave_minutes == 60
    assert not AuditEvent.objects.filter(action="circle.setting_changed").exists()


def test_a_kind_of_help_is_renamed_and_its_vetting_changed(cora, personas) -> None:
    diy = Category.objects.get(circle=personas.southwark, slug="diy")
    assert 'value="DIY"' in cora.get(edit_url(diy)).content.decode()

    response = cora.post(edit_url(diy), {"name": "DIY and repairs", "vetting_level": "enhanced"})

    assert response.status_code == 302
    diy.refresh_from_db()
    assert (diy.name, diy.vetting_level) == ("DIY and repairs", "enhanced")
    page = cora.get(URL).content.decode()
    assert "diy: vetting changed from basic to enhanced" in page
    assert "diy: name changed from DIY to DIY and repairs" in page


def test_a_kind_of_help_needs_a_name(cora, personas) -> None:
    diy = Category.objects.get(circle=personas.southwark, slug="diy")

    response = cora.post(edit_url(diy), {"name": "  ", "vetting_level": "basic"})

    assert response.status_code == 200
    assert "Enter a name for the kind of help." in response.content.decode()


def test_another_circles_kind_of_help_is_not_found(cora, personas) -> None:
    theirs = Category.objects.get(circle=personas.suffolk, slug="diy")

    assert cora.get(edit_url(theirs)).status_code == 404
    assert cora.post(edit_url(theirs), {"name": "x", "vetting_level": "none"}).status_code == 404


def test_a_kind_of_help_is_added_and_a_second_of_the_same_name_refused(cora, personas) -> None:
    response = cora.post(NEW, {"new-name": "Pet care", "new-vetting_level": "basic"})

    assert response.status_code == 302
    assert Category.objects.filter(circle=personas.southwark, slug="pet-care").exists()
    assert "Pet care added (vetting: basic)" in cora.get(URL).content.decode()

    again = cora.post(NEW, {"new-name": "Pet Care", "new-vetting_level": "none"})
    assert again.status_code == 200
    assert "There is already a kind of help with that name." in again.content.decode()


def test_an_operator_cannot_post_settings(client, personas) -> None:
    client.force_login(personas.otto.user)

    assert client.post(URL, {**RULES, "token_price": "1.00"}).status_code == 403
    assert client.post(NEW, {"new-name": "X", "new-vetting_level": "none"}).status_code == 403
    personas.southwark.refresh_from_db()
    assert personas.southwark.token_price == Money("10.00", "GBP")


def test_the_page_costs_the_same_queries_with_few_or_many_changes(
    cora, personas, django_assert_num_queries
) -> None:
    cora.post(URL, {**RULES, "token_price": "11.00"})
    with django_assert_num_queries(QUERIES):
        cora.get(URL)
    for price in ("12.00", "13.00", "14.00"):
        cora.post(URL, {**RULES, "token_price": price, "offer_wave_minutes": price[:2]})
    cora.post(NEW, {"new-name": "Pet care", "new-vetting_level": "basic"})
    with django_assert_num_queries(QUERIES):
        cora.get(URL)


# Session and user (2), the caller (1), the kinds of help (1), the changes with their actors
# (1), and the messages' session write (none when there are none to show).
QUERIES = 5
