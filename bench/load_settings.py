"""Settings for `bench/load.py`'s gunicorn: Circle's own settings, with the bench's URLconf.

The only difference is `ROOT_URLCONF`: `bench.load_urls` adds the two reference views the load
test compares each endpoint with, so that they are served by the same processes, middleware and
database as the endpoints themselves, and never by a production URLconf.
"""

from __future__ import annotations

from circle.settings import *  # noqa: F403

ROOT_URLCONF = "bench.load_urls"
