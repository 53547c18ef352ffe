"""The tasks API: booking, the lifecycle, matches, the helper's feed, recurring tasks,
members' words about helpers, and the coordinators' feedback list."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attention.selectors import concern_access
from circle.errors import Forbidden, InvalidInput, NotFound
from circle.pagination import PaginatedApi
from circle.selectors import circle_get
from circle.serializers import HourMinuteField, StrictInputSerializer, moment_text, query_id
from helpers.models import Helper
from matching import services
from matching.access import (
    TaskAccess,
    TaskRole,
    access_after,
    access_booked,
    feedback_list,
    helper_task_list,
    member_series,
    member_task_list,
    require,
    series_access,
    task_access,
)
from matching.models import HelperPreference, Task, TaskSeries, TaskStatus
from matching.selectors import (
    FeedEntry,
    helper_distance_km,
    task_billing,
    task_matches,
    user_feed,
)
from members.models import Member
from members.selectors import (
    Caller,
    acting_member,
    caller_for,
    coordinator_access,
    member_access,
    signed_in,
)
from tokens.apis import TOKEN_QUANTITY
from tokens.selectors import token_quantity

# --- What a task shows, to whom ---------------------------------------------------------------


class TaskOutput(serializers.Serializer[Any]):
    """A task as its viewer may see it: `address` (the member's name, address and phone) only
    for its member, staff and its helper while it is theirs; `member` and `helper` not for
    other helpers, who see the postcode district and their distance."""

    id = serializers.IntegerField()
    circle = serializers.CharField(source="circle.slug")
    status = serializers.CharField()
    category = serializers.CharField(source="category.slug")
    title = serializers.CharField()
    details = serializers.CharField()
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    estimated_minutes = serializers.IntegerField()
    held = serializers.SerializerMethodField()
    postcode_district = serializers.CharField()
    distance_km = serializers.SerializerMethodField()
    member = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    helper = serializers.SerializerMethodField()
    billing = serializers.SerializerMethodField()
    cancel_reason = serializers.CharField()
    series_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    def _view(self) -> TaskAccess | None:
        view: TaskAccess | None = self.context.get("access")
        return view

    def _insider(self) -> bool:
        # Without a viewer nothing private is shown: a view that forgets to say who is looking
        # must not leak a member's address.
        view = self._view()
        return view is not None and view.role is not TaskRole.OTHER_HELPER

    @extend_schema_field(TOKEN_QUANTITY)
    def get_held(self, task: Task) -> dict[str, Any]:
        return token_quantity(task.hold.minutes, circle=task.circle).as_json()

    def get_distance_km(self, task: Task) -> float | None:
        view = self._view()
        if view is None or view.helper is None:
            return None
        return helper_distance_km(task=task, helper=view.helper)

    def get_member(self, task: Task) -> dict[str, Any] | None:
        if not self._insider():
            return None
        return {"id": task.member_id, "first_name": task.member.first_name}

    def get_address(self, task: Task) -> dict[str, Any] | None:
        view = self._view()
        if view is None or not view.sees_address:
            return None
        member = task.member
        return {
            "full_name": member.full_name,
            "address_line1": member.address_line1,
            "postcode": member.postcode,
            "phone": member.phone,
        }

    def get_helper(self, task: Task) -> dict[str, Any] | None:
        if not self._insider() or task.helper is None:
            return None
        return {
            "helper_id": task.helper_id,
            "first_name": task.helper.member.first_name,
            "kind": task.helper.kind,
        }

    def get_billing(self, task: Task) -> dict[str, Any] | None:
        if not self._insider():
            return None
        billing = task_billing(task)
        if billing is None:
            return None
        return {
            "reported": billing.reported.as_json(),
            "billed": billing.billed.as_json(),
            "increment_minutes": billing.increment_minutes,
            "settled": billing.settled.as_json() if billing.settled is not None else None,
            "unpaid": billing.unpaid.as_json() if billing.unpaid is not None else None,
            "note": billing.note,
        }


def _task_body(view: TaskAccess) -> dict[str, Any]:
    return dict(TaskOutput(view.task, context={"access": view}).data)


def _acted(request: Request, task_id: int) -> TaskAccess:
    """The task a lifecycle action is asked of, and the caller's standing. Only its row: the
    service locks it and reads its related rows with the lock, and the answer is the task the
    service returns (`access_after`), not the task read again."""
    return task_access(user=request.user, task_id=task_id, related=False)


# --- Booking and listing ----------------------------------------------------------------------


class TaskBookInput(StrictInputSerializer):
    member_id = serializers.IntegerField(required=False, help_text="staff: the member helped")
    category = serializers.CharField(max_length=50)
    title = serializers.CharField(max_length=120)
    details = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    estimated_minutes = serializers.IntegerField()
    idempotency_key = serializers.CharField(max_length=100, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    call_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


def _booking(values: dict[str, Any]) -> dict[str, Any]:
    """What a booking body asks for, as the booking services take it."""
    return {
        "category": values["category"],
        "title": values["title"],
        "details": values.get("details", ""),
        "window_start": values["window_start"],
        "window_end": values["window_end"],
        "estimated_minutes": values["estimated_minutes"],
        "reason": values.get("reason", ""),
        "call_reference": values.get("call_reference", ""),
    }


class TasksApi(PaginatedApi, APIView):
    """POST: book a task (tokens held). GET: a member's tasks, newest window first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=TaskBookInput, responses={201: TaskOutput, 200: TaskOutput})
    def post(self, request: Request) -> Response:
        data = TaskBookInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        member, caller = acting_member(
            user=request.user, member_id=values.get("member_id"), scope="ask"
        )
        outcome = services.task_book(
            member=member,
            caller=caller,
            idempotency_key=values.get("idempotency_key", ""),
            **_booking(values),
        )
        view = access_booked(caller=caller, task=outcome.task)
        return Response(
            _task_body(view),
            status=status.HTTP_201_CREATED if outcome.changed else status.HTTP_200_OK,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("member_id", int, description="staff: whose tasks"),
            OpenApiParameter("status", str, description="only tasks in this state"),
        ],
        responses=TaskOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        member_id = query_id(request.query_params.get("member_id"), field="member_id")
        member, caller = acting_member(
            user=request.user, member_id=member_id, scope=("ask", "confirm")
        )
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in TaskStatus.values:
            raise InvalidInput("invalid_choice", "No such task status.", field="status")
        paginator = self.paginator()
        page = paginator.paginate_queryset(member_task_list(member=member, status=wanted), request)
        role = (
            TaskRole.TRUSTED
            if caller.is_trusted
            else TaskRole.MEMBER
            if caller.member == member
            else TaskRole.STAFF
        )
        body = [
            TaskOutput(
                task,
                context={"access": TaskAccess(task, caller, role, None)},
            ).data
            for task in page or []
        ]
        return paginator.get_paginated_response(body)


class TaskDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=TaskOutput)
    def get(self, request: Request, task_id: int) -> Response:
        return Response(_task_body(task_access(user=request.user, task_id=task_id, reading=True)))


class MatchOutput(serializers.Serializer[Any]):
    helper_id = serializers.IntegerField()
    first_name = serializers.CharField()
    distance_km = serializers.FloatField()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class TaskMatchesApi(PaginatedApi, APIView):
    """The eligible helpers of a task, best first, with the reasons."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MatchOutput(many=True))
    def get(self, request: Request, task_id: int) -> Response:
        view = task_access(user=request.user, task_id=task_id)
        require(
            view,
            TaskRole.MEMBER,
            TaskRole.STAFF,
            what="see who could take this task",
            trusted_scope="ask",
        )
        paginator = self.paginator()
        page = paginator.paginate_queryset(task_matches(task=view.task), request)
        return paginator.get_paginated_response(MatchOutput(page, many=True).data)


# --- The helper's feed ------------------------------------------------------------------------


class FeedItemOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="task.id")
    category = serializers.CharField(source="task.category.slug")
    title = serializers.CharField(source="task.title")
    details = serializers.CharField(source="task.details")
    window_start = serializers.DateTimeField(source="task.window_start")
    window_end = serializers.DateTimeField(source="task.window_end")
    estimated_minutes = serializers.IntegerField(source="task.estimated_minutes")
    postcode_district = serializers.CharField(source="task.postcode_district")
    distance_km = serializers.FloatField()


def feed_entry_json(entry: FeedEntry, zone: tzinfo) -> dict[str, Any]:
    """FeedItemOutput's shape, built directly from `user_feed`'s entry: helpers poll their
    feed, and its serializer (eight sourced fields for each of up to 50 tasks) was a third of
    the request. Times are written as DRF's DateTimeField writes them (`moment_text`); a test
    compares the two."""
    return {
        "id": entry.id,
        "category": entry.category,
        "title": entry.title,
        "details": entry.details,
        "window_start": moment_text(entry.window_start, zone),
        "window_end": moment_text(entry.window_end, zone),
        "estimated_minutes": entry.estimated_minutes,
        "postcode_district": entry.postcode_district,
        "distance_km": float(entry.distance_km),
    }


class HelperFeedApi(PaginatedApi, APIView):
    """Open tasks the signed-in helper may take, nearest first. Never the address."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=FeedItemOutput(many=True))
    def get(self, request: Request) -> Response:
        # The caller's helper profiles and their facts in one statement (user_feed).
        items = user_feed(user_id=signed_in(request.user).pk)
        if items is None:
            raise Forbidden("not_a_helper", "Only helpers have a feed of tasks.")
        paginator = self.paginator()
        page = paginator.paginate_queryset(items, request)
        zone = timezone.get_current_timezone()
        return paginator.get_paginated_response([feed_entry_json(e, zone) for e in page or []])


class HelperTasksApi(PaginatedApi, APIView):
    """The tasks the signed-in helper has in hand (accepted, or done and awaiting the member's
    confirmation), soonest first, with the member's address and phone."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=TaskOutput(many=True))
    def get(self, request: Request) -> Response:
        user = signed_in(request.user)
        profiles = list(Helper.objects.filter(member__user=user).select_related("member"))
        if not profiles:
            raise Forbidden("not_a_helper", "Only helpers have tasks in hand.")
        paginator = self.paginator()
        page = paginator.paginate_queryset(helper_task_list(helpers=profiles), request) or []
        by_id = {helper.pk: helper for helper in profiles}
        body = []
        for task in page:
            helper = by_id[task.helper_id] if task.helper_id else None
            view = TaskAccess(
                task, caller_for(user=user, circle=task.circle), TaskRole.HELPER, helper
            )
            body.append(TaskOutput(task, context={"access": view}).data)
        return paginator.get_paginated_response(body)


# --- The lifecycle ----------------------------------------------------------------------------


def _own_helper(view: TaskAccess) -> Helper:
    if view.helper is None:
        raise Forbidden("not_a_helper", "Only a helper can do this.")
    return view.helper


class TaskAcceptApi(APIView):
    """The first helper to accept gets the task; later ones get 409 task_taken."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        view = _acted(request, task_id)
        outcome = services.task_accept(task=view.task, helper=_own_helper(view), caller=view.caller)
        return Response(_task_body(access_after(view, outcome.task)))


class TaskCompleteInput(StrictInputSerializer):
    minutes = serializers.IntegerField(help_text="how long the work took")


class TaskCompleteApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=TaskCompleteInput, responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        data = TaskCompleteInput(data=request.data)
        data.is_valid(raise_exception=True)
        view = _acted(request, task_id)
        outcome = services.task_complete(
            task=view.task,
            helper=_own_helper(view),
            caller=view.caller,
            minutes=data.validated_data["minutes"],
        )
        return Response(_task_body(access_after(view, outcome.task)))


class FeedbackInput(StrictInputSerializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class TaskConfirmInput(StrictInputSerializer):
    feedback = FeedbackInput(required=False)
    call_reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="staff: the call's reference"
    )


class TaskConfirmApi(APIView):
    """The member or staff confirm the work: the hold is settled. `billing` in the answer says
    what was paid and, if the work ran over what the member could pay, what was not."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=TaskConfirmInput, responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        data = TaskConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        view = _acted(request, task_id)
        require(
            view, TaskRole.MEMBER, TaskRole.STAFF, what="confirm this task", trusted_scope="confirm"
        )
        feedback = data.validated_data.get("feedback") or {}
        outcome = services.task_confirm(
            task=view.task,
            caller=view.caller,
            rating=feedback.get("rating"),
            comment=feedback.get("comment", ""),
            call_reference=data.validated_data.get("call_reference", ""),
        )
        return Response(_task_body(access_after(view, outcome.task)))


class TaskCancelInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500)
    call_reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="staff: the call's reference"
    )


class TaskCancelApi(APIView):
    """The member or staff cancel (the hold is released); its helper hands it back (it is
    open again and offered to the next helpers)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=TaskCancelInput, responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        data = TaskCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"]
        view = _acted(request, task_id)
        if view.role is TaskRole.TRUSTED:
            require(view, what="cancel this request", trusted_scope="ask")
        if view.role in (TaskRole.MEMBER, TaskRole.STAFF, TaskRole.TRUSTED):
            outcome = services.task_cancel(
                task=view.task,
                caller=view.caller,
                reason=reason,
                call_reference=data.validated_data.get("call_reference", ""),
            )
        else:
            outcome = services.task_hand_back(
                task=view.task, helper=_own_helper(view), caller=view.caller, reason=reason
            )
        return Response(_task_body(access_after(view, outcome.task)))


# --- Recurring tasks --------------------------------------------------------------------------


class SeriesCreateInput(TaskBookInput):
    interval_weeks = serializers.ChoiceField(choices=[1, 2], help_text="1 weekly, 2 fortnightly")
    # Each occurrence is keyed on the series and its date instead.
    idempotency_key = None  # type: ignore[assignment]


class SeriesOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    category = serializers.CharField(source="category.slug")
    title = serializers.CharField()
    details = serializers.CharField()
    weekday = serializers.SerializerMethodField()
    start = HourMinuteField(source="start_time")
    end = HourMinuteField(source="end_time")
    first_date = serializers.DateField()
    interval_weeks = serializers.IntegerField()
    estimated_minutes = serializers.IntegerField()
    active = serializers.BooleanField()
    last_helper_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    tasks = serializers.SerializerMethodField()

    def get_weekday(self, series: TaskSeries) -> int:
        return series.first_date.weekday()

    def get_tasks(self, series: TaskSeries) -> list[dict[str, Any]]:
        return [
            {
                "id": t.pk,
                "window_start": serializers.DateTimeField().to_representation(t.window_start),
                "status": t.status,
            }
            for t in series.tasks.order_by("window_start")
        ]


class SeriesApi(PaginatedApi, APIView):
    """POST: ask for the same help every week or fortnight, from the first occurrence's
    window (its weekday and London times). GET: a member's series."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=SeriesCreateInput, responses={201: SeriesOutput})
    def post(self, request: Request) -> Response:
        data = SeriesCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        member, caller = acting_member(
            user=request.user, member_id=values.get("member_id"), scope="ask"
        )
        series = services.series_create(
            member=member,
            caller=caller,
            interval_weeks=int(values["interval_weeks"]),
            **_booking(values),
        )
        return Response(SeriesOutput(series).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("member_id", int, description="staff: whose series")],
        responses=SeriesOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        member_id = query_id(request.query_params.get("member_id"), field="member_id")
        member, _ = acting_member(user=request.user, member_id=member_id, scope="ask")
        paginator = self.paginator()
        page = paginator.paginate_queryset(member_series(member=member), request)
        return paginator.get_paginated_response(SeriesOutput(page, many=True).data)


class SeriesEndInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class SeriesEndApi(APIView):
    """Stop a series: no more occurrences; its open ones are cancelled, tokens released."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=SeriesEndInput, responses=SeriesOutput)
    def post(self, request: Request, series_id: int) -> Response:
        data = SeriesEndInput(data=request.data)
        data.is_valid(raise_exception=True)
        series, caller = series_access(user=request.user, series_id=series_id)
        ended, _ = services.series_end(
            series=series, caller=caller, reason=data.validated_data.get("reason", "")
        )
        return Response(SeriesOutput(ended).data)


# --- Members' words about helpers -------------------------------------------------------------


class PreferenceOutput(serializers.Serializer[Any]):
    member_id = serializers.IntegerField()
    helper_id = serializers.IntegerField()
    first_name = serializers.CharField(source="helper.member.first_name")
    kind = serializers.CharField()
    created_at = serializers.DateTimeField()


class PreferencesApi(APIView):
    """A member's preferred and blocked helpers."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PreferenceOutput(many=True))
    def get(self, request: Request, member_id: int) -> Response:
        # A member's words about helpers are theirs: no trusted person's scope covers them.
        member, _ = member_access(user=request.user, member_id=member_id, scope=None)
        words = HelperPreference.objects.filter(member=member).select_related("helper__member")
        return Response(PreferenceOutput(words.order_by("kind", "helper_id"), many=True).data)


class PreferenceInput(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=["preferred", "blocked"])


def _member_and_helper(
    request: Request, member_id: int, helper_id: int
) -> tuple[Member, Caller, Helper]:
    member, caller = member_access(user=request.user, member_id=member_id, scope=None)
    helper = (
        Helper.objects.select_related("member").filter(pk=helper_id, circle=member.circle).first()
    )
    if helper is None:
        raise NotFound("No such helper.", code="helper_not_found")
    return member, caller, helper


class PreferenceApi(APIView):
    """PUT {kind}: name the helper preferred (replacing any other) or blocked. DELETE: take
    the word back."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PreferenceInput, responses={200: PreferenceOutput, 201: PreferenceOutput}
    )
    def put(self, request: Request, member_id: int, helper_id: int) -> Response:
        data = PreferenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        member, caller, helper = _member_and_helper(request, member_id, helper_id)
        word, _changed = services.preference_set(
            member=member, helper=helper, kind=data.validated_data["kind"], caller=caller
        )
        return Response(PreferenceOutput(word).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, member_id: int, helper_id: int) -> Response:
        member, caller, helper = _member_and_helper(request, member_id, helper_id)
        services.preference_remove(member=member, helper=helper, caller=caller)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Feedback, for coordinators ---------------------------------------------------------------


class FeedbackOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    task_title = serializers.CharField(source="task.title")
    member_id = serializers.IntegerField(source="task.member_id")
    helper_id = serializers.IntegerField()
    helper_name = serializers.CharField(source="helper.member.full_name")
    rating = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class CircleFeedbackApi(PaginatedApi, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("helper_id", int, description="only about this helper")],
        responses=FeedbackOutput(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        circle = circle_get(slug=slug)
        coordinator_access(user=request.user, circle=circle, what="members' feedback")
        helper_id = query_id(request.query_params.get("helper_id"), field="helper_id")
        paginator = self.paginator()
        page = paginator.paginate_queryset(
            feedback_list(circle=circle, helper_id=helper_id), request
        )
        return paginator.get_paginated_response(FeedbackOutput(page, many=True).data)


class ConcernSuspendHelperApi(APIView):
    """Suspend the helper a safeguarding concern names (recorded on their vetting record) and
    hand back every task they had accepted, so it is offered to other helpers again."""

    permission_classes = [IsAuthenticated]

    class ConcernSuspendInput(StrictInputSerializer):
        reason = serializers.CharField(max_length=500)

    class ConcernSuspendOutput(serializers.Serializer[Any]):
        helper_id = serializers.IntegerField()
        suspended = serializers.BooleanField()
        handed_back_task_ids = serializers.ListField(child=serializers.IntegerField())

    @extend_schema(request=ConcernSuspendInput, responses={200: ConcernSuspendOutput})
    def post(self, request: Request, concern_id: int) -> Response:
        concern, caller, _whole = concern_access(user=request.user, concern_id=concern_id)
        data = self.ConcernSuspendInput(data=request.data)
        data.is_valid(raise_exception=True)
        done = services.concern_helper_suspend(
            concern=concern, caller=caller, reason=data.validated_data["reason"]
        )
        return Response(
            {
                "helper_id": done.helper.pk,
                "suspended": done.helper.suspended,
                "handed_back_task_ids": [task.pk for task in done.handed_back],
            }
        )
