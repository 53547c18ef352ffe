"""Messaging's part of erasing a member (members/erasure.py): the text messages sent to them
keep their date, status and what they were about (a reference, a task id), for the record that
a member was told; the number they went to and the words go. Messages to others that quote the
member (an offer to a helper naming their request) have those words taken out."""

from __future__ import annotations

from members.erasure import Erasure
from messaging.models import Sms


def erase_part(erasure: Erasure) -> None:
    member = erasure.member
    wiped = Sms.objects.filter(member=member).update(to="", body="", error="")
    for sms in (
        Sms.objects.filter(circle_id=member.circle_id)
        .exclude(member=member)
        .filter(erasure.quoting("body"))
    ):
        Sms.objects.filter(pk=sms.pk).update(body=erasure.redact(sms.body))
        wiped += 1
    erasure.count("sms", wiped)
