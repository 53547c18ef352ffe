"""How the OpenAPI schema (drf-spectacular) describes what every operation may answer.

drf-spectacular documents the answers a view declares, which for us is only the success. But
every operation also answers errors, always as `{code, detail, field?}` (circle/errors.py), and
a schema that leaves them out tells a client generated from it that they never happen. This
AutoSchema adds, to each operation, the errors it can answer, worked out from what the view is
(so a new endpoint is described without anyone remembering to), unless the view declares that
status itself:

- 400 when it takes a body (POST, PUT, PATCH) or query parameters beyond the page's;
- 401 when it authenticates (a wrong or revoked token is refused on any such endpoint);
- 403 when it is not public (`extend_schema(auth=[])` marks the public ones): roles, scopes;
- 404 when it names an object: in its path, or by an id in its query or body (`member_id`:
  staff acting for a member of another circle find no such member);
- 409 when it changes something on behalf of someone (a state that forbids it, too few tokens);
- 429 when it is throttled.

tests/schema/ runs schemathesis against the schema with the status-code check, so a status an
operation answers but this does not list fails there.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.serializers import Serializer

PAGE_PARAMETERS = frozenset({"limit", "offset"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

ERROR_DESCRIPTIONS = {
    400: "Bad input: `code` says what is wrong and `field` names the field when there is one.",
    401: "Not signed in, or the token is wrong or revoked.",
    403: "Signed in, but not allowed to do this.",
    404: "No such object here (an object of another circle is not found either).",
    409: "The object's state does not allow this now (already taken, too few tokens...).",
    429: "Too many attempts; try again later.",
    503: "Card payments cannot be taken just now (Stripe is unreachable); nothing was charged.",
}


_ERROR_ITEM: dict[str, serializers.Field[Any, Any, Any, Any]] = {
    "code": serializers.CharField(help_text="stable snake_case, for clients to branch on"),
    "detail": serializers.CharField(help_text="a plain sentence for a person"),
    "field": serializers.CharField(required=False, help_text="the field at fault, when one is"),
}
# Every error the API answers. Written inline because a serializer class cannot declare a field
# named `errors` (Serializer.errors is the validation result).
ErrorOutput = inline_serializer(
    "Error",
    {
        **_ERROR_ITEM,
        "errors": inline_serializer(
            "ErrorItem",
            _ERROR_ITEM,
            many=True,
            required=False,
            help_text="bad input with several faults: each of them",
        ),
    },
)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Errors a view answers that `CircleAutoSchema` cannot work out, for its `extend_schema`:
    `responses={201: CheckoutOutput, **error_responses(503)}`."""
    return {
        status: OpenApiResponse(ErrorOutput, description=ERROR_DESCRIPTIONS[status])
        for status in statuses
    }


class CircleAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for status in self.error_statuses():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    error_responses(status)[status], str(status), direction=direction
                )
        return responses

    def error_statuses(self) -> list[int]:
        authenticates = bool(self.view.get_authenticators())
        public = not self.get_auth()
        statuses = []
        if self.method in {"POST", "PUT", "PATCH"} or self._takes_query():
            statuses.append(400)
        if authenticates:
            statuses.append(401)
        if authenticates and not public:
            statuses.append(403)
        if "{" in self.path or self._takes_an_id():
            statuses.append(404)
        if self.method in UNSAFE_METHODS and authenticates and not public:
            statuses.append(409)
        if getattr(self.view, "throttle_classes", None):
            statuses.append(429)
        return statuses

    def _takes_an_id(self) -> bool:
        names = [getattr(p, "name", "") for p in self.get_override_parameters()]
        # Only a body's fields: for a GET, drf-spectacular would try to guess a serializer.
        request = self.get_request_serializer() if self.method in {"POST", "PUT", "PATCH"} else None
        fields = getattr(request, "fields", None) if isinstance(request, Serializer) else None
        if isinstance(request, type) and issubclass(request, Serializer):
            fields = request().fields
        names += list(fields or ())
        return any(name.endswith("_id") for name in names)

    def _takes_query(self) -> bool:
        return any(
            getattr(parameter, "location", None) == "query"
            and getattr(parameter, "name", None) not in PAGE_PARAMETERS
            for parameter in self.get_override_parameters()
        )


class CsrfSessionScheme(SessionScheme):
    """Session authentication with our CSRF refusal is, to a client, session authentication
    (registered when CircleConfig imports this module)."""

    target_class = "circle.authentication.CsrfSessionAuthentication"
    # And members.authentication's, which only adds the staff's second factor.
    match_subclasses = True
