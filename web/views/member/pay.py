"""Being written (issue 10): placeholder so the URLconf imports."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


start = check = question = detail = cancel = confirm = statement = overview = _todo
membership = buy_tokens = helpers = change = _todo
