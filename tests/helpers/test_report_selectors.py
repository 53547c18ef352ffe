"""Members who became helpers, by month."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from circle.periods import report_period
from helpers.selectors import members_became_helpers_by_month
from members.models import JoinedVia, RoleName
from tests.conftest import Personas
from tests.factories import HelperFactory, MemberFactory

pytestmark = pytest.mark.django_db


def test_only_members_who_joined_otherwise_are_counted_in_their_month(
    personas: Personas,
) -> None:
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=10)
    with time_machine.travel(
        timezone.make_aware(datetime.combine(last_month, datetime.min.time())), tick=False
    ):
        HelperFactory(member=personas.alice)  # a member first: counted
        signed_up = MemberFactory(
            circle=personas.southwark, roles=[RoleName.HELPER], joined_via=JoinedVia.HELPER_SIGNUP
        )
        HelperFactory(member=signed_up)  # came as a helper: not counted
    HelperFactory(member=personas.bob)  # this month

    months = members_became_helpers_by_month(
        circle=personas.southwark, period=report_period(months=3)
    )

    assert [m.helpers for m in months] == [0, 1, 1]
    assert [m.month.day for m in months] == [1, 1, 1]
    suffolk = members_became_helpers_by_month(
        circle=personas.suffolk, period=report_period(months=3)
    )
    assert [m.helpers for m in suffolk] == [0, 0, 0]
