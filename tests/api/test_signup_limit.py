from __future__ import annotations

from typing import Any

from members.models import Member
from tests.conftest import Personas
from tests.factories import years_ago

JOIN = "/api/v1/circles/southwark/members/"


def join_body(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "full_name": f"Joiner {n}",
        "email": f"joiner{n}@example.org",
        "password": "a-Long-passw0rd!",
        "phone": "07911 123456",
        "date_of_birth": years_ago(70).isoformat(),
        "address_line1": "1 High Street",
        "postcode": "SE1 7PB",
        **extra,
    }


def test_anonymous_sign_ups_are_limited_per_address(personas: Personas, client_for) -> None:
    visitor = client_for(None)
    for n in range(30):  # SIGNUP_THROTTLE_RATE's default: 30 an hour
        assert visitor.post(JOIN, join_body(n), format="json").status_code == 201
    before = Member.objects.count()

    refused = visitor.post(JOIN, join_body(99), format="json")
    helper = visitor.post(
        "/api/v1/circles/southwark/helpers/",
        {**join_body(98), "kind": "volunteer", "skills": ["gardening"], "travel_radius_km": "3"},
        format="json",
    )

    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert helper.status_code == 429
    assert Member.objects.count() == before


def test_staff_registering_callers_are_never_limited(personas: Personas, client_for) -> None:
    operator = client_for(personas.otto)
    for n in range(32):
        body = join_body(n, call_reference=f"CALL-{n}")
        del body["email"], body["password"]
        assert operator.post(JOIN, body, format="json").status_code == 201
