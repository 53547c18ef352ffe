"""The endpoints `bench/load.py` measures alone, and the reference each is read against.

Shared by the orchestrator and the locustfile, without importing locust (whose gevent patches
the process that imports it) or Django.
"""

from __future__ import annotations

# In the order they are run alone. Reads are compared with `GET /bench/read/`, writes with
# `POST /bench/write/` (bench/load_urls.py).
ENDPOINT_KINDS: dict[str, str] = {
    "GET /api/v1/me/": "read",
    "GET /api/v1/members/{id}/tokens/": "read",
    "GET /api/v1/members/{id}/statement/": "read",
    "GET /api/v1/helpers/me/tasks/": "read",
    "GET /api/v1/circles/{slug}/members/?q=": "read",
    "GET /api/v1/circles/{slug}/ledger/transactions/": "read",
    "GET /api/v1/circles/{slug}/ledger/balances/": "read",
    # Booking before accepting: the tasks it books are among those the accept run takes.
    "POST /api/v1/tasks/": "write",
    "POST /api/v1/tasks/{id}/accept/": "write",
    "POST /api/v1/members/{id}/payments/offline/": "write",
    "POST /api/v1/payments/stripe/webhook/": "write",
}
REFERENCES = {"read": "GET /bench/read/", "write": "POST /bench/write/"}

# The floors (bench/load_urls.py): the least booking and accepting could do, each run alone
# just after its endpoint and read against the same reference. Not endpoints of Circle's, so
# no target of their own: each says whether its endpoint's target is within reach.
FLOORS: dict[str, str] = {
    "POST /bench/floor/book/": "POST /api/v1/tasks/",
    "POST /bench/floor/accept/{id}/": "POST /api/v1/tasks/{id}/accept/",
}
