"""One plain sentence per error code, for the pages and the API alike (circle/messages.py)."""

from __future__ import annotations

import pytest

from circle.errors import Conflict, InvalidInput
from circle.messages import message_for


def test_a_listed_code_reads_its_plain_sentence():
    error = InvalidInput("postcode_invalid", "'se1' is not a UK postcode, such as SE1 7PB.")
    assert message_for(error) == "Enter a full UK postcode, like SE1 7PB."


def test_a_field_can_have_its_own_sentence():
    error = InvalidInput("required", "email: A password needs an email.", field="email")
    assert message_for(error) == "Enter your email address."


def test_an_unlisted_code_keeps_the_service_sentence_without_its_field_prefix():
    error = InvalidInput("required", "tokens: Say how many tokens were bought.", field="tokens")
    assert message_for(error) == "Say how many tokens were bought."
    conflict = Conflict("already_member", "You are already a member of this circle.")
    assert message_for(conflict) == "You are already a member of this circle."


@pytest.mark.django_db
def test_the_api_answers_with_the_same_sentence_under_its_stable_code(client):
    response = client.post(
        "/api/v1/circles/nowhere/members/", {"postcode": "x"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "circle_not_found"
