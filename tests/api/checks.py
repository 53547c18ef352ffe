"""Assertions the API tests share."""

from __future__ import annotations

from typing import Any


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    """Every API error is {code, detail, field?}: a stable code, a sentence, the field if any."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body.get("field") == field, body
    assert set(body) <= {"code", "detail", "field", "errors"}, body
