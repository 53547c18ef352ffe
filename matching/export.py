"""Matching's part of a member's data export (members/export.py): the help they asked for
(with their helpers' first names, as every member page names helpers), the help they gave
as a helper, the feedback given on their requests, their preferred and blocked helpers, and
the notices sent to them. Feedback others gave about a helper is not theirs to read: it
would show the words of the member who gave it (coordinators only, matching.models.Feedback)."""

from __future__ import annotations

from typing import Any

from matching.models import Feedback, HelperPreference, Notice, Task
from members.models import Member


def _task(task: Task, *, helper: str) -> dict[str, Any]:
    return {
        "id": task.pk,
        "title": task.title,
        "details": task.details,
        "category": task.category.name,
        "window_start": task.window_start,
        "window_end": task.window_end,
        "estimated_minutes": task.estimated_minutes,
        "status": task.status,
        "status_words": str(task.get_status_display()),
        "helper": helper,
        "minutes_reported": task.minutes_reported,
        "cancel_reason": task.cancel_reason,
        "created_at": task.created_at,
        "completed_at": task.completed_at,
    }


def member_export_part(member: Member) -> dict[str, Any]:
    """Five queries."""
    asked = (
        Task.objects.filter(circle_id=member.circle_id, member=member)
        .select_related("category", "helper__member")
        .order_by("-window_start", "-id")
    )
    helped = (
        Task.objects.filter(circle_id=member.circle_id, helper__member=member)
        .select_related("category", "member")
        .order_by("-window_start", "-id")
    )
    feedback = (
        Feedback.objects.filter(task__member=member)
        .select_related("helper__member", "task")
        .order_by("-created_at", "-id")
    )
    preferences = (
        HelperPreference.objects.filter(member=member)
        .select_related("helper__member")
        .order_by("kind", "created_at")
    )
    notices = Notice.objects.filter(recipient=member).select_related("task").order_by("-id")
    return {
        "tasks_asked": [
            _task(t, helper=t.helper.member.first_name if t.helper else "") for t in asked
        ],
        # For whom they helped, the first name only, as a helper's own pages show it.
        "tasks_helped": [
            _task(t, helper=member.first_name) | {"for": t.member.first_name} for t in helped
        ],
        "feedback_given": [
            {
                "task_id": f.task_id,
                "task": f.task.title,
                "helper": f.helper.member.first_name,
                "rating": f.rating,
                "comment": f.comment,
                "created_at": f.created_at,
            }
            for f in feedback
        ],
        "preferences": [
            {
                "kind": p.kind,
                "kind_words": str(p.get_kind_display()),
                "helper": p.helper.member.first_name,
                "created_at": p.created_at,
            }
            for p in preferences
        ],
        "notices": [
            {
                "kind": n.kind,
                "task_id": n.task_id,
                "task": n.task.title,
                "channels": n.channels,
                "created_at": n.created_at,
                "sent_at": n.sent_at,
            }
            for n in notices
        ],
    }
