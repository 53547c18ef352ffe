"""Messaging's part of a member's data export (members/export.py): the text messages sent
to them, with what they said and whether they arrived."""

from __future__ import annotations

from typing import Any

from members.models import Member
from messaging.models import Sms


def member_export_part(member: Member) -> dict[str, Any]:
    """One query."""
    texts = Sms.objects.filter(member=member).order_by("-sent_at", "-id")
    return {
        "text_messages": [
            {
                "sent_at": t.sent_at,
                "to": t.to,
                "body": t.body,
                "status": t.status,
                "status_words": str(t.get_status_display()),
                "delivered_at": t.delivered_at,
            }
            for t in texts
        ]
    }
