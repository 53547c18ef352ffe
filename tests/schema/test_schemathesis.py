"""schemathesis calls every operation of the API with generated requests, as each persona, and
checks every answer against the OpenAPI schema (`/api/v1/schema/`): never a server error, and
every status and body as the schema describes them. The schema must tell the truth.

Run it with `./scripts/schemathesis` (PostgreSQL when DATABASE_URL names it; .ci/run does):
one test per operation and persona, e.g. `test_api[POST /api/v1/transfers/][member]`. A failure
prints the check that failed, the request as a curl command and the answer. Bounded:
`SCHEMATHESIS_MAX_EXAMPLES` generated requests per operation and persona in the fuzzing phase
(default 12), after the operation's examples and schemathesis' coverage cases (boundaries, each
field missing or of the wrong type); `SCHEMATHESIS_SEED` fixes what is generated (default: the
same every run, so a failure in CI is the failure on a laptop).

Generated ids would nearly always name nothing, so most are aimed at the demo circle's real
objects (`aim` below): most requests reach a real member, task or transaction, and some keep
their generated id, which must be a clean 404.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from circle.wsgi import application
from tests.schema.conftest import World

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261201"))

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            # Valid requests and invalid ones (wrong types, missing fields, out of range).
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            # The personas' tokens are sent by the test; generated ones would all be refused.
            "with-security-parameters": False,
            # No .hypothesis/ directory of remembered failures: the seed is what replays a run.
            "database": "none",
        },
        # Each request stands alone; sequences of calls (links between operations) are not
        # described in the schema.
        "phases": {"stateful": {"enabled": False}},
    }
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PERSONAS = ("anonymous", "member", "helper", "operator", "coordinator", "trusted")

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application, config=CONFIG)


@pytest.mark.parametrize("persona", PERSONAS)
@schema.parametrize()
# One database transaction per test, shared by its generated requests and rolled back after
# them all (and the ledger audited): what one request wrote, the next may find.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_api(case: schemathesis.Case, persona: str, world: World, db: None) -> None:
    aim(case, world)
    token = world.tokens.get(persona)
    headers = {"Authorization": f"Token {token}"} if token else {}
    case.call_and_validate(headers=headers, checks=CHECKS)


def aim(case: schemathesis.Case, world: World) -> None:
    """Point generated ids, slugs and category names at the world's real ones, except one
    generated value in five (chosen by the value itself, so a failing case replays)."""
    body = case.body if isinstance(case.body, dict) else None
    for values in (case.path_parameters, case.query, body):
        if values:
            for name, value in list(values.items()):
                values[name] = _aimed(name, value, world)


def _aimed(name: str, value: Any, world: World) -> Any:
    pick = zlib.crc32(repr(value).encode())
    if pick % 5 == 0:
        return value
    if name == "slug" and isinstance(value, str):
        return world.slug
    if name == "category" and isinstance(value, str):
        return world.categories[pick % len(world.categories)]
    if name == "skills" and isinstance(value, list):
        return [_aimed("category", item, world) for item in value]
    ids = world.ids.get(name)
    if ids and isinstance(value, int) and not isinstance(value, bool):
        return ids[pick % len(ids)]
    return value
