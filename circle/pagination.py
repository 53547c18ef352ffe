"""The one way lists are paged: `?limit=&offset=`, answered as `{count, next, previous,
results}` (DESIGN.md). Every list endpoint uses this class; those that differ say so where they
make it (`Pagination(default_limit=25, max_limit=100)`)."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Past any row a list will hold, and inside the databases' 64-bit OFFSET: a larger number
# (`offset=9223372036854775808`) failed in the database as a 500, where it means an empty page.
MAX_OFFSET = 2**31 - 1


class Pagination(LimitOffsetPagination):
    def __init__(
        self, *, default_limit: int = DEFAULT_LIMIT, max_limit: int | None = MAX_LIMIT
    ) -> None:
        super().__init__()
        self.default_limit = default_limit
        self.max_limit = max_limit

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)

    def window(self, request: Request) -> tuple[int, int]:
        """The (limit, offset) asked for, for a selector that pages by itself (a running
        balance is computed over the window, not sliced from a queryset); answer with
        `counted_response`."""
        limit = self.get_limit(request) or self.default_limit or DEFAULT_LIMIT
        self.request, self.limit, self.offset = request, limit, self.get_offset(request)
        return limit, self.offset

    def counted_response(self, *, count: int, results: Any) -> Response:
        """The page a selector returned for `window`, with links built from its count."""
        self.count = count
        return self.get_paginated_response(results)
