"""The helpers' part of a member's data export (members/export.py): their helper profile,
skills, availability and vetting record, when they help. Their own vetting record is theirs
to see in full (what was checked, when, and the certificate number they gave)."""

from __future__ import annotations

from typing import Any

from helpers.models import AvailabilitySlot, Helper, HelperSkill, VettingCheck
from members.export import person_name
from members.models import Member


def member_export_part(member: Member) -> dict[str, Any]:
    """Four queries, each by the member, whether they help or not."""
    helper = Helper.objects.filter(member=member).first()
    skills = HelperSkill.objects.filter(helper__member=member).select_related("category")
    slots = AvailabilitySlot.objects.filter(helper__member=member).order_by("weekday", "start")
    checks = (
        VettingCheck.objects.filter(helper__member=member)
        .select_related("recorded_by")
        .order_by("-recorded_at", "-id")
    )
    skill_names = sorted(skill.category.name for skill in skills)
    availability = [{"weekday": s.weekday, "start": s.start, "end": s.end} for s in slots]
    vetting = [
        {
            "recorded_at": check.recorded_at,
            "identity_checked": check.identity_checked,
            "references_checked": check.references_checked,
            "dbs_level": check.dbs_level,
            "dbs_level_words": str(check.get_dbs_level_display()),
            "dbs_certificate_number": check.dbs_certificate_number,
            "dbs_issue_date": check.dbs_issue_date,
            "original_seen_by": check.original_seen_by,
            "resulting_level": check.resulting_level,
            "resulting_level_words": str(check.get_resulting_level_display()),
            "recorded_by": person_name(check.recorded_by),
        }
        for check in checks
    ]
    if helper is None:
        return {"profile": None, "skills": [], "availability": [], "vetting": []}
    return {
        "profile": {
            "kind": helper.kind,
            "kind_words": str(helper.get_kind_display()),
            "postcode": helper.postcode,
            "travel_radius_km": f"{helper.travel_radius_km}",
            "vetting_level": helper.vetting_level,
            "vetting_level_words": str(helper.get_vetting_level_display()),
            "paused": helper.paused,
            "suspended": helper.suspended,
            "suspended_reason": helper.suspended_reason,
            "joined_at": helper.created_at,
        },
        "skills": skill_names,
        "availability": availability,
        "vetting": vetting,
    }
