"""The one way lists are paged: `?limit=&offset=`, answered as `{count, next, previous,
results}` (DESIGN.md). Every list endpoint is a `PaginatedApi`; those whose limits differ say so
with a subclass of `Pagination` as their `pagination_class`."""

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

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        """DRF's page, with its count read only when the page cannot tell it: a first page
        shorter than the limit holds every row, so its length is the count (as is offset plus
        length for any non-empty short page). Most searches find fewer than a page, and the
        count was a second pass over the same rows."""
        self.request = request
        limit = self.get_limit(request)
        if limit is None:
            return None
        self.limit, self.offset = limit, self.get_offset(request)
        page = list(queryset[self.offset : self.offset + limit])
        if len(page) < limit and (page or self.offset == 0):
            self.count = self.offset + len(page)
        else:
            self.count = self.get_count(queryset)
        if self.count > limit and self.template is not None:
            self.display_page_controls = True
        return page

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


class UncappedPagination(Pagination):
    """For the lists that have always answered whole when asked (a member's payments, the
    follow-ups): a page of 50 unless the client asks for more, however many."""

    def __init__(self) -> None:
        super().__init__(max_limit=None)


class PaginatedApi:
    """Mixed into an APIView whose GET answers a page of a list.

    The pagination is declared on the class, not made inside `get`, because the class attribute
    is what the schema reads: drf-spectacular describes a view with a `pagination_class` (and a
    `many=True` response) as the `{count, next, previous, results}` envelope with `limit` and
    `offset` parameters. A view that made its own `Pagination()` was described as a bare array,
    which no client generated from the schema could read."""

    pagination_class: type[Pagination] = Pagination

    def paginator(self) -> Pagination:
        """A fresh paginator for this request (a paginator keeps the request's page)."""
        return self.pagination_class()
