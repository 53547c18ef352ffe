"""Serializer pieces every app's API shares: strict input, money, token quantities."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from djmoney.money import Money
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer[Any]):
    """Refuses fields it does not know, so a typo ("skils") is a 400 and not silently ignored,
    and a body that is not a JSON object is a 400 naming what was expected."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        serializers.ErrorDetail(
                            "The request body must be a JSON object.", code="invalid_body"
                        )
                    ]
                }
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    unknown[0]: [
                        serializers.ErrorDetail(
                            f"Unknown field {unknown[0]!r}.", code="unknown_field"
                        )
                    ]
                }
            )
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "amount": {"type": "string", "example": "10.00"},
            "currency": {"type": "string", "example": "GBP"},
        },
    }
)
class MoneyOutField(serializers.Field[Money, Any, Any, Any]):
    """Money as DESIGN.md shows it: {"amount": "10.00", "currency": "GBP"}."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Money) -> dict[str, str]:
        amount = Decimal(value.amount).quantize(Decimal("0.01"))
        return {"amount": str(amount), "currency": str(value.currency)}


@extend_schema_field(OpenApiTypes.STR)
class PostcodeDistrictField(serializers.Field[str, Any, Any, Any]):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> str:
        return value.split(" ")[0] if value else ""
