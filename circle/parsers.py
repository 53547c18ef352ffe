"""The API's JSON parser: DRF's, with a cap on how deeply a body may nest.

Python's `json` module recurses once per level, so a body of a few thousand `[` (a few
kilobytes) raised RecursionError inside the parser: a 500, and a stack walked to its end on every
such request. The depth is counted on the raw text before anything is decoded, without
recursion, and a body deeper than MAX_JSON_DEPTH is a 400 `json_too_deep`.

Why 32: Circle's deepest body is three levels (a helper's `availability`, a list of objects in
an object), and Stripe's events, which the webhook reads with the same check, reach about eight.
32 leaves room for every body a client means to send, while keeping far below the depth at which
anything that walks the data recursively (DRF's validation, our error flattening, the renderer)
would run out of stack.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

from rest_framework import exceptions, parsers

from circle.messages import message_for_code

MAX_JSON_DEPTH = 32

# A JSON string, escapes included: brackets inside one do not nest anything. The two
# alternatives never match the same character, so this is linear, whatever the input.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class JsonTooDeep(ValueError):
    """The text nests arrays and objects more than MAX_JSON_DEPTH deep."""


def json_depth_check(text: str, *, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise JsonTooDeep when `text` opens more than `limit` arrays or objects inside one
    another. Counts only; whether the text is valid JSON is the decoder's business."""
    if text.count("[") + text.count("{") <= limit:
        return  # the common case: too few brackets to be too deep, so nothing to walk
    depth = 0
    for found in _BRACKET.finditer(_STRING.sub("", text)):  # stops at the first level too deep
        if found.group() in "[{":
            depth += 1
            if depth > limit:
                raise JsonTooDeep(f"nested more than {limit} levels deep")
        else:
            depth -= 1


class JsonTooDeepError(exceptions.ParseError):
    default_code = "json_too_deep"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing a body nested deeper than MAX_JSON_DEPTH (400
    `json_too_deep`) before the decoder's recursion can fail on it."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw: bytes = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            json_depth_check(raw.decode(encoding))
        except UnicodeDecodeError:
            pass  # not text: DRF's own parse below says it is not JSON
        except JsonTooDeep:
            detail = message_for_code("json_too_deep")
            raise JsonTooDeepError(detail, code="json_too_deep") from None
        return super().parse(io.BytesIO(raw), media_type, parser_context)
