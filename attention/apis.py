"""The attention queue over HTTP: staff list their circle's items and mark them done.

The paths keep the name the API has always used for them, follow-ups."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attention.selectors import item_access, item_list
from attention.services import item_done
from circle.errors import Forbidden
from circle.pagination import PaginatedApi, UncappedPagination
from circle.selectors import circle_get
from circle.serializers import StrictInputSerializer
from members.selectors import caller_for


class FollowUpOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    member_name = serializers.CharField(source="member.full_name")
    phone = serializers.CharField()
    email = serializers.CharField(source="member.email", allow_null=True)
    kind = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)
    done_note = serializers.CharField()


class CircleFollowUpsApi(PaginatedApi, APIView):
    """The operators' list of people to phone: failed renewals, memberships in grace, renewal
    reminders for members without email, refunds needing a look."""

    permission_classes = [IsAuthenticated]
    pagination_class = UncappedPagination

    @extend_schema(
        parameters=[OpenApiParameter("done", bool, description="true: the ones already done")],
        responses=FollowUpOutput(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        circle = circle_get(slug=slug)
        if not caller_for(user=request.user, circle=circle).is_staff:
            raise Forbidden("forbidden", "Only the circle's staff see its follow-ups.")
        done = request.query_params.get("done", "").lower() in ("1", "true", "yes")
        paginator = self.paginator()
        page = paginator.paginate_queryset(item_list(circle=circle, done=done), request)
        return paginator.get_paginated_response(FollowUpOutput(page, many=True).data)


class FollowUpDoneApi(APIView):
    permission_classes = [IsAuthenticated]

    class DoneInput(StrictInputSerializer):
        note = serializers.CharField(max_length=500, required=False, allow_blank=True)

    @extend_schema(request=DoneInput, responses={200: FollowUpOutput})
    def post(self, request: Request, followup_id: int) -> Response:
        item, caller = item_access(user=request.user, item_id=followup_id)
        data = self.DoneInput(data=request.data)
        data.is_valid(raise_exception=True)
        done = item_done(item=item, caller=caller, note=data.validated_data.get("note", ""))
        return Response(FollowUpOutput(done).data)
