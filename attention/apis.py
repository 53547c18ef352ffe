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

from attention.models import Concern
from attention.selectors import (
    concern_access,
    concern_get,
    concern_list,
    concerns_raised,
    item_access,
    item_list,
)
from attention.services import (
    CONCERN_MAX,
    CONCERN_NOTE_MAX,
    NOTE_MAX,
    concern_close,
    concern_note_add,
    concern_raise,
    concern_referral_record,
    item_claim,
    item_done,
    item_note_add,
)
from circle.errors import Forbidden
from circle.pagination import PaginatedApi, UncappedPagination
from circle.selectors import circle_get
from circle.serializers import StrictInputSerializer
from members.models import RoleName
from members.selectors import caller_for, caller_or_trusted


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
        return (user.full_name or str(user)) if user is not None else None


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
        caller = caller_for(user=request.user, circle=circle)
        if not caller.is_staff:
            raise Forbidden("forbidden", "Only the circle's staff see its follow-ups.")
        done = request.query_params.get("done", "").lower() in ("1", "true", "yes")
        coordinator = RoleName.COORDINATOR in caller.roles
        paginator = self.paginator()
        page = paginator.paginate_queryset(
            item_list(circle=circle, done=done, coordinator=coordinator), request
        )
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


# Safeguarding concerns.


def _name(person: Any) -> str | None:
    if person is None:
        return None
    return str(getattr(person, "full_name", "") or getattr(person, "email", ""))


class ConcernRaisedOutput(serializers.Serializer[Any]):
    """The answer to raising a concern: its number and when it was received."""

    id = serializers.IntegerField()
    received_at = serializers.DateTimeField()


class ConcernReceivedOutput(ConcernRaisedOutput):
    """What the person who raised a concern sees of it: that it came, and when it was closed."""

    closed_at = serializers.DateTimeField(allow_null=True)


class ConcernSummaryOutput(serializers.Serializer[Any]):
    """A line of the coordinators' list: who it is about and when, not what it says."""

    id = serializers.IntegerField()
    about_member_id = serializers.IntegerField(allow_null=True)
    about_member_name = serializers.SerializerMethodField()
    about_helper_id = serializers.IntegerField(allow_null=True)
    about_helper_name = serializers.SerializerMethodField()
    task_id = serializers.IntegerField(allow_null=True)
    danger_now = serializers.BooleanField()
    received_at = serializers.DateTimeField()
    referred_on = serializers.DateField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    def get_about_member_name(self, concern: Concern) -> str | None:
        return _name(concern.about_member)

    def get_about_helper_name(self, concern: Concern) -> str | None:
        return _name(concern.about_helper)


class ConcernNoteOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    text = serializers.CharField()
    author_name = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_author_name(self, note: Any) -> str:
        return _name(note.author) or ""


class ConcernReadingOutput(serializers.Serializer[Any]):
    reader_name = serializers.SerializerMethodField()
    read_at = serializers.DateTimeField()

    def get_reader_name(self, reading: Any) -> str:
        return _name(reading.reader) or ""


class ConcernOutput(ConcernSummaryOutput):
    """A concern whole, for a coordinator of its circle (the reading is logged)."""

    what_happened = serializers.CharField()
    happened_on = serializers.DateField(allow_null=True)
    raised_by_name = serializers.SerializerMethodField()
    referral_reference = serializers.CharField()
    outcome = serializers.CharField()
    notes = ConcernNoteOutput(many=True)
    readings = ConcernReadingOutput(many=True)

    def get_raised_by_name(self, concern: Concern) -> str:
        return _name(concern.raised_by) or ""


class CircleConcernsApi(PaginatedApi, APIView):
    """Raise a safeguarding concern (anyone in the circle; staff for a caller), or, for the
    circle's coordinators, list its concerns (open, or `closed=true`)."""

    permission_classes = [IsAuthenticated]
    pagination_class = UncappedPagination

    class ConcernRaiseInput(StrictInputSerializer):
        about_member_id = serializers.IntegerField(required=False, allow_null=True)
        about_helper_id = serializers.IntegerField(
            required=False, allow_null=True, help_text="The helper's member id."
        )
        task_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        what_happened = serializers.CharField(max_length=CONCERN_MAX)
        happened_on = serializers.DateField(required=False, allow_null=True)
        danger_now = serializers.BooleanField()

    @extend_schema(
        parameters=[OpenApiParameter("closed", bool, description="true: the closed ones")],
        responses=ConcernSummaryOutput(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        circle = circle_get(slug=slug)
        caller = caller_for(user=request.user, circle=circle)
        closed = request.query_params.get("closed", "").lower() in ("1", "true", "yes")
        concerns = concern_list(circle=circle, caller=caller, closed=closed)
        paginator = self.paginator()
        page = paginator.paginate_queryset(concerns, request)
        return paginator.get_paginated_response(ConcernSummaryOutput(page, many=True).data)

    @extend_schema(request=ConcernRaiseInput, responses={201: ConcernRaisedOutput})
    def post(self, request: Request, slug: str) -> Response:
        circle = circle_get(slug=slug)
        # A trusted person of one of the circle's members may raise one too.
        caller = caller_or_trusted(user=request.user, circle=circle)
        data = self.ConcernRaiseInput(data=request.data)
        data.is_valid(raise_exception=True)
        concern = concern_raise(circle=circle, caller=caller, **data.validated_data)
        return Response(ConcernRaisedOutput(concern).data, status=201)


class MyConcernsApi(APIView):
    """The concerns the caller raised in a circle: when each was received and closed."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ConcernReceivedOutput(many=True))
    def get(self, request: Request, slug: str) -> Response:
        circle = circle_get(slug=slug)
        return Response(
            ConcernReceivedOutput(concerns_raised(user=request.user, circle=circle), many=True).data
        )


class ConcernApi(APIView):
    """A concern: whole for a coordinator of its circle (and the reading is logged); whoever
    raised it sees only when it was received and closed."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ConcernOutput})
    def get(self, request: Request, concern_id: int) -> Response:
        concern, caller, whole = concern_access(user=request.user, concern_id=concern_id)
        if not whole:
            return Response(ConcernReceivedOutput(concern).data)
        return Response(ConcernOutput(concern_get(concern=concern, caller=caller)).data)


class ConcernNoteApi(APIView):
    permission_classes = [IsAuthenticated]

    class ConcernNoteInput(StrictInputSerializer):
        text = serializers.CharField(max_length=CONCERN_NOTE_MAX)

    @extend_schema(request=ConcernNoteInput, responses={201: ConcernNoteOutput})
    def post(self, request: Request, concern_id: int) -> Response:
        concern, caller, _whole = concern_access(user=request.user, concern_id=concern_id)
        data = self.ConcernNoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = concern_note_add(concern=concern, caller=caller, text=data.validated_data["text"])
        return Response(ConcernNoteOutput(note).data, status=201)


class ConcernReferralApi(APIView):
    """Record the referral to the local authority's safeguarding team: date and reference."""

    permission_classes = [IsAuthenticated]

    class ConcernReferralInput(StrictInputSerializer):
        referred_on = serializers.DateField()
        reference = serializers.CharField(max_length=100)

    @extend_schema(request=ConcernReferralInput, responses={200: ConcernSummaryOutput})
    def post(self, request: Request, concern_id: int) -> Response:
        concern, caller, _whole = concern_access(user=request.user, concern_id=concern_id)
        data = self.ConcernReferralInput(data=request.data)
        data.is_valid(raise_exception=True)
        concern = concern_referral_record(concern=concern, caller=caller, **data.validated_data)
        return Response(ConcernSummaryOutput(concern).data)


class ConcernCloseApi(APIView):
    """Close a concern with its outcome; its item leaves the queue."""

    permission_classes = [IsAuthenticated]

    class ConcernCloseInput(StrictInputSerializer):
        outcome = serializers.CharField(max_length=CONCERN_MAX)

    @extend_schema(request=ConcernCloseInput, responses={200: ConcernSummaryOutput})
    def post(self, request: Request, concern_id: int) -> Response:
        concern, caller, _whole = concern_access(user=request.user, concern_id=concern_id)
        data = self.ConcernCloseInput(data=request.data)
        data.is_valid(raise_exception=True)
        concern = concern_close(
            concern=concern, caller=caller, outcome=data.validated_data["outcome"]
        )
        return Response(ConcernSummaryOutput(concern).data)
