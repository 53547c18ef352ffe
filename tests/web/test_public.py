"""The pages anyone sees: the start page, a circle's page, privacy, accessibility, errors."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from tests.web.pages import text_of

pytestmark = pytest.mark.django_db


def test_start_page_lists_every_circle_with_its_phone(client, personas):
    personas.southwark.phone = "+442079460000"
    personas.southwark.save()
    response = client.get("/")
    assert response.status_code == 200
    words = text_of(response)
    assert "Help at home from people near you" in words
    assert "Southwark Circle" in words
    assert "Suffolk Circle" in words
    assert "020 7946 0000" in words
    assert 'href="tel:+442079460000"' in response.content.decode()


def test_circle_page_gives_fee_token_price_and_how_to_join(client, personas):
    response = client.get("/circles/southwark/")
    assert response.status_code == 200
    words = text_of(response)
    assert "£10.00 a year" in words
    assert "£10.00, for 1 hour of help" in words
    assert "Join as a member" in words
    assert 'href="/circles/southwark/join/"' in response.content.decode()


def test_unknown_circle_is_a_page_not_found_in_the_pages_style(client, personas):
    response = client.get("/circles/atlantis/")
    assert response.status_code == 404
    assert "Page not found" in text_of(response)
    assert "govuk-template" in response.content.decode()


def test_api_addresses_still_answer_json_errors(client, db):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["/privacy/", "/accessibility/"])
def test_privacy_and_accessibility_are_linked_from_every_page(client, db, path):
    assert client.get(path).status_code == 200
    home = client.get("/").content.decode()
    assert f'href="{path}"' in home


def test_footer_carries_the_postcode_data_attribution_and_the_api_docs(client, db):
    html = client.get("/").content.decode()
    assert "Contains OS data © Crown copyright" in html
    assert 'href="/api/v1/docs/"' in html


def test_no_government_identity(client, db):
    html = client.get("/").content.decode()
    assert "GOV.UK" not in html
    # No crown, no GOV.UK logotype: the header is the generic one, with Circle's name.
    assert "govuk-logo" not in html
    assert "govuk-header__logotype" not in html
    assert '<a href="/" class="govuk-generic-header__homepage-link">Circle</a>' in html


def test_every_page_has_a_strict_csp_whose_nonce_is_on_the_one_inline_script(client, db):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    found = re.search(r"'nonce-([^']+)'", policy)
    assert found is not None
    nonce = found.group(1)
    scripts = re.findall(r"<script([^>]*)>", response.content.decode())
    inline = [attrs for attrs in scripts if "src=" not in attrs]
    assert inline == [f' nonce="{nonce}"']


def test_start_page_runs_a_fixed_number_of_queries(client, personas, django_assert_num_queries):
    from tests.factories import CircleFactory

    client.get("/")
    with django_assert_num_queries(1):
        client.get("/")
    for n in range(5):
        CircleFactory(slug=f"extra-{n}", name=f"Extra {n}")
    with django_assert_num_queries(1):
        client.get("/")


@override_settings(ROOT_URLCONF="tests.api.urls_boom")
def test_a_page_that_fails_shows_the_pages_500_and_hides_the_cause(db) -> None:
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    words = text_of(response)
    assert "Sorry, something went wrong" in words
    assert "Nothing you sent has been half saved" in words
    assert "boom" not in response.content.decode()


@override_settings(RETENTION_YEARS=7, RETENTION_NOTICE_DAYS=14)
def test_the_privacy_notice_says_how_long_with_this_installations_settings(client, db):
    words = text_of(client.get("/privacy/"))
    assert "for 7 years after your membership ends" in words
    assert "A coordinator is told 14 days before" in words
    for what in ("What we hold, and why", "Who sees it", "How long we keep it", "Your rights"):
        assert what in words
    # What erasure keeps, and where to complain.
    assert "Former member" in words
    assert "not the certificate's number" in words
    assert "Information Commissioner's Office" in words
