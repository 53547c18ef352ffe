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
from attention.services import NOTE_MAX, item_claim, item_done, item_note_add
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
    claimed_by_name = serializers.SerializerMethodField()
    claimed_at = serializers.DateTimeField(allow_null=True)

    def get_claimed_by_name(self, item: Any) -> str | None:
        """Who is dealing with it: the staff member's name, or null when nobody is."""
        user = item.claimed_by
        return (user.full_name or user.email) if user is not None else None


class NoteOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    followup_id = serializers.IntegerField(source="item_id")
    text = serializers.CharField()
    author_name = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_author_name(self, note: Any) -> str:
        return str(note.author.full_name or note.author.email)


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


class FollowUpClaimApi(APIView):
    """Take a follow-up on ("I'll ring them"). Someone else's is a 409 `already_claimed` unless
    `take_over_from` names them (their user id, as seen), having asked them."""

    permission_classes = [IsAuthenticated]

    class ClaimInput(StrictInputSerializer):
        take_over_from = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(request=ClaimInput, responses={200: FollowUpOutput})
    def post(self, request: Request, followup_id: int) -> Response:
        item, caller = item_access(user=request.user, item_id=followup_id)
        data = self.ClaimInput(data=request.data)
        data.is_valid(raise_exception=True)
        claimed = item_claim(
            item=item, caller=caller, take_over_from=data.validated_data.get("take_over_from")
        )
        return Response(FollowUpOutput(claimed).data)


class FollowUpNoteApi(APIView):
    """Add a note to an open follow-up: who and when are recorded with it."""

    permission_classes = [IsAuthenticated]

    class NoteInput(StrictInputSerializer):
        text = serializers.CharField(max_length=NOTE_MAX)

    @extend_schema(request=NoteInput, responses={201: NoteOutput})
    def post(self, request: Request, followup_id: int) -> Response:
        item, caller = item_access(user=request.user, item_id=followup_id)
        data = self.NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = item_note_add(item=item, caller=caller, text=data.validated_data["text"])
        return Response(NoteOutput(note).data, status=201)
