"""Running a whole service again when PostgreSQL aborts it for its own scheduling reasons."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_RETRY_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


class TryAgain(Exception):
    """Raised inside a service when a whole new attempt will succeed where this one could not
    (a key it saw vanished with a writer that rolled back)."""


def retry_on_conflict(func: Callable[P, R]) -> Callable[P, R]:
    """Run a service again when PostgreSQL aborts it for a serialisation failure or a deadlock,
    so the user sees the outcome, not the database's scheduling. Safe because each attempt is a
    whole transaction that rolled back."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(5):
            try:
                return func(*args, **kwargs)
            except (OperationalError, TryAgain) as exc:
                # Inside a caller's transaction the whole of it must be retried, not just us.
                code = getattr(exc.__cause__, "pgcode", None)
                retry = isinstance(exc, TryAgain) or code in _RETRY_SQLSTATES
                if not retry or connection.in_atomic_block:
                    raise
                logger.info("retrying %s after %s", func.__name__, code or "a vanished key")
                time.sleep(0.01 * 2**attempt)
        return func(*args, **kwargs)

    return wrapper
