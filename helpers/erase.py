"""Helpers' part of erasing a member (members/erasure.py): their helper profile and vetting.

The profile stays (tasks name it) but is paused, so nothing is offered to them again, and the
place they travel from keeps only its postcode district and a point rounded to about a
kilometre.

Vetting keeps what the law asks of a body that puts people into older people's homes, and
no more. Safeguarding guidance (Working Together to Safeguard Children, and the DBS Code of
Practice for adults' services alike) expects an organisation to be able to show, after a
helper has gone, that it checked them: which checks were done, the level of the DBS
certificate, its issue date, when the check was recorded and by whom, and who saw the
original. Those stay. The certificate number is the DBS's key to the person and their
certificate: once the person is erased it serves no purpose of ours (a new check would be a new
certificate), so it goes, and `certificate_erased_at` says when (the database then lets the
row hold no number). A suspension's reason stays, with the member's words taken out: it is a
safeguarding record."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from circle.postcodes import postcode_district
from helpers.models import Helper, VettingCheck
from members.erasure import Erasure

_KM = Decimal("0.01")


def erase_part(erasure: Erasure) -> None:
    helper = Helper.objects.filter(member=erasure.member).first()
    if helper is None:
        return
    now = timezone.now()
    Helper.objects.filter(pk=helper.pk).update(
        postcode=postcode_district(helper.postcode) if helper.postcode else "",
        latitude=helper.latitude.quantize(_KM),
        longitude=helper.longitude.quantize(_KM),
        paused=True,
        paused_at=helper.paused_at or now,
        suspended_reason=erasure.redact(helper.suspended_reason, own=True),
    )
    checks = (
        VettingCheck.objects.filter(helper=helper)
        .exclude(dbs_certificate_number="")
        .update(dbs_certificate_number="", certificate_erased_at=now)
    )
    erasure.count("helper", 1)
    erasure.count("vetting_checks", checks)
