from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from circle.errors import InvalidInput
from circle.security import AnonymousSignupThrottle
from circle.selectors import circle_get
from circle.serializers import HourMinuteField, PostcodeDistrictField, StrictInputSerializer
from helpers.models import DbsLevel, Helper, HelperKind
from helpers.selectors import helper_access, helper_latest_check
from helpers.services import (
    MAX_TRAVEL_RADIUS_KM,
    Availability,
    helper_signup,
    helper_suspension_set,
    helper_vetting_record,
)
from members.selectors import caller_for


class AvailabilitySerializer(StrictInputSerializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    start = HourMinuteField()
    end = HourMinuteField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError(
                {
                    "end": [
                        serializers.ErrorDetail(
                            "The window must end after it starts.", code="invalid"
                        )
                    ]
                }
            )
        return attrs


class VettingOutput(serializers.Serializer[Any]):
    identity_checked = serializers.BooleanField()
    references_checked = serializers.BooleanField()
    dbs_level = serializers.CharField()
    dbs_certificate_number = serializers.CharField()
    dbs_issue_date = serializers.DateField(allow_null=True)
    original_seen_by = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class HelperOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    circle = serializers.CharField(source="circle.slug")
    full_name = serializers.CharField(source="member.full_name")
    kind = serializers.CharField()
    skills = serializers.SerializerMethodField()
    postcode_district = PostcodeDistrictField(source="postcode")
    travel_radius_km = serializers.DecimalField(max_digits=4, decimal_places=1)
    availability = serializers.SerializerMethodField()
    vetting_level = serializers.CharField()
    suspended = serializers.BooleanField()
    suspended_reason = serializers.CharField()
    # The helper's own "not taking tasks for now"; matching offers them nothing meanwhile.
    paused = serializers.BooleanField()
    vetting = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_skills(self, helper: Helper) -> list[str]:
        return sorted(row.category.slug for row in helper.skill_rows.all())

    @extend_schema_field(AvailabilitySerializer(many=True))
    def get_availability(self, helper: Helper) -> list[dict[str, Any]]:
        return [
            {
                "weekday": s.weekday,
                "start": s.start.strftime("%H:%M"),
                "end": s.end.strftime("%H:%M"),
            }
            for s in helper.availability.all()
        ]

    @extend_schema_field(VettingOutput(allow_null=True))
    def get_vetting(self, helper: Helper) -> dict[str, Any] | None:
        check = helper_latest_check(helper=helper)
        return dict(VettingOutput(check).data) if check else None


def _helper_reload(helper: Helper) -> Helper:
    return (
        Helper.objects.select_related("circle", "member")
        .prefetch_related("skill_rows__category", "availability")
        .get(pk=helper.pk)
    )


class CircleHelpersApi(APIView):
    throttle_classes = [AnonymousSignupThrottle]

    class HelperSignupInput(StrictInputSerializer):
        full_name = serializers.CharField(max_length=150, required=False)
        email = serializers.EmailField(max_length=254, required=False)
        password = serializers.CharField(max_length=200, required=False, trim_whitespace=False)
        phone = serializers.CharField(max_length=40, required=False)
        postcode = serializers.CharField(max_length=12, required=False)
        kind = serializers.ChoiceField(choices=HelperKind.choices)
        skills = serializers.ListField(child=serializers.SlugField(max_length=50), max_length=50)
        travel_radius_km = serializers.DecimalField(
            max_digits=4, decimal_places=1, min_value=Decimal("0.1"), max_value=MAX_TRAVEL_RADIUS_KM
        )
        # A week needs a handful of windows; the cap keeps a hostile body from writing
        # thousands of rows. (DRF passes max_length on to the list when many=True; the stubs
        # do not know that.)
        availability = AvailabilitySerializer(  # type: ignore[call-arg]
            many=True, required=False, max_length=50
        )

    @extend_schema(request=HelperSignupInput, responses={201: HelperOutput})
    def post(self, request: Request, slug: str) -> Response:
        circle = circle_get(slug=slug)
        data = self.HelperSignupInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        helper = helper_signup(
            circle=circle,
            caller=caller_for(user=request.user, circle=circle),
            kind=values["kind"],
            skills=values["skills"],
            travel_radius_km=values["travel_radius_km"],
            availability=[Availability(**slot) for slot in values.get("availability", [])],
            full_name=values.get("full_name", ""),
            email=values.get("email"),
            password=values.get("password"),
            phone=values.get("phone", ""),
            postcode=values.get("postcode", ""),
        )
        return Response(HelperOutput(_helper_reload(helper)).data, status=status.HTTP_201_CREATED)


class HelperDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=HelperOutput)
    def get(self, request: Request, helper_id: int) -> Response:
        helper, _ = helper_access(user=request.user, helper_id=helper_id)
        return Response(HelperOutput(helper).data)


class VettingInput(StrictInputSerializer):
    identity_checked = serializers.BooleanField()
    references_checked = serializers.BooleanField()
    dbs_level = serializers.ChoiceField(choices=DbsLevel.choices)
    dbs_certificate_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    dbs_issue_date = serializers.DateField(required=False, allow_null=True)
    original_seen_by = serializers.CharField(max_length=150, required=False, allow_blank=True)


class SuspensionInput(StrictInputSerializer):
    suspended = serializers.BooleanField()
    reason = serializers.CharField(max_length=500)


class HelperVettingApi(APIView):
    """A coordinator records vetting checks, or suspends or reinstates a helper."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PolymorphicProxySerializer(
            "VettingOrSuspension",
            serializers=[VettingInput, SuspensionInput],
            resource_type_field_name=None,
        ),
        responses=HelperOutput,
    )
    def post(self, request: Request, helper_id: int) -> Response:
        helper, caller = helper_access(
            user=request.user, helper_id=helper_id, coordinator_only=True
        )
        if not isinstance(request.data, dict):
            raise InvalidInput("invalid_body", "The request body must be a JSON object.")
        if "suspended" in request.data:
            suspension = SuspensionInput(data=request.data)
            suspension.is_valid(raise_exception=True)
            helper = helper_suspension_set(
                helper=helper, caller=caller, **suspension.validated_data
            )
        else:
            vetting = VettingInput(data=request.data)
            vetting.is_valid(raise_exception=True)
            values = vetting.validated_data
            helper = helper_vetting_record(
                helper=helper,
                caller=caller,
                identity_checked=values["identity_checked"],
                references_checked=values["references_checked"],
                dbs_level=values["dbs_level"],
                dbs_certificate_number=values.get("dbs_certificate_number", ""),
                dbs_issue_date=values.get("dbs_issue_date"),
                original_seen_by=values.get("original_seen_by", ""),
            )
        return Response(HelperOutput(_helper_reload(helper)).data)
