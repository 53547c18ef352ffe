from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from circle.postcodes import POSTCODE_ATTRIBUTION


def site(request: HttpRequest) -> dict[str, Any]:
    """What the base layout shows on every page: the circle being looked at (the view sets
    `request.circle`), for its name and phone number, and the postcode data's attribution, which
    its licence asks for wherever the data is used."""
    return {
        "circle": getattr(request, "circle", None),
        "nav": getattr(request, "nav", []),
        "postcode_attribution": POSTCODE_ATTRIBUTION,
    }
