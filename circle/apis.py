from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from circle.postcodes import POSTCODE_ATTRIBUTION
from circle.selectors import category_list, circle_get, circle_list
from circle.serializers import MoneyOutField


class CircleOutput(serializers.Serializer[Any]):
    slug = serializers.SlugField()
    name = serializers.CharField()
    centre_postcode = serializers.CharField()
    radius_km = serializers.DecimalField(max_digits=5, decimal_places=1)
    min_age = serializers.IntegerField()
    membership_fee = MoneyOutField()
    token_price = MoneyOutField()
    token_minutes = serializers.IntegerField()
    billing_increment_minutes = serializers.IntegerField()
    offer_wave_minutes = serializers.IntegerField()
    # The number members call, E.164 ("" when the circle has not set one).
    phone = serializers.CharField()


class CategoryOutput(serializers.Serializer[Any]):
    slug = serializers.SlugField()
    name = serializers.CharField()
    vetting_level = serializers.CharField()


class CircleDetailOutput(CircleOutput):
    categories = CategoryOutput(many=True)
    postcode_attribution = serializers.CharField()


class CircleListApi(APIView):
    @extend_schema(responses=CircleOutput(many=True), auth=[])
    def get(self, request: Request) -> Response:
        # A few hundred circles at most per installation: one page.
        return Response(CircleOutput(circle_list(), many=True).data)


class CircleDetailApi(APIView):
    @extend_schema(responses=CircleDetailOutput, auth=[])
    def get(self, request: Request, slug: str) -> Response:
        circle = circle_get(slug=slug)
        body: dict[str, Any] = dict(CircleOutput(circle).data)
        body["categories"] = CategoryOutput(category_list(circle=circle), many=True).data
        # Open Government Licence: geocoding comes from Code-Point Open, so we say so.
        body["postcode_attribution"] = POSTCODE_ATTRIBUTION
        return Response(body)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Checks nothing else, so a database outage does not make
    the orchestrator restart healthy web processes."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers and, when one is configured, so does the broker."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _broker_check()
    else:
        checks["broker"] = "not configured (tasks run in-process)"
    ready = all(value == "ok" or value.startswith("not configured") for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def _broker_check() -> str:
    from circle.celery import app

    try:
        # The URL from settings, not the Celery app's copy, so the probe checks what is
        # configured now. No retry: kombu sleeps 2 s before its first one, and a probe should
        # answer within the orchestrator's timeout; it probes again anyway. The socket timeouts
        # bound a broker that drops packets instead of refusing.
        with app.connection_for_write(
            url=settings.CELERY_BROKER_URL,
            connect_timeout=2,
            transport_options={"socket_connect_timeout": 2, "socket_timeout": 2},
        ) as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"
