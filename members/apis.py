from __future__ import annotations

from datetime import tzinfo
from typing import Any

from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.utils.timezone import get_current_timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from circle.errors import DomainError, Forbidden, InvalidInput
from circle.pagination import PaginatedApi, Pagination
from circle.schema import error_responses
from circle.security import AnonymousSignupThrottle
from circle.selectors import circle_get
from circle.serializers import StrictInputSerializer, moment_text, query_id
from members.erasure import member_erase
from members.export import safeguarding_audit_rows
from members.models import AuditEvent, Member, RoleName, TrustedScope
from members.selectors import (
    MemberSearchRows,
    SearchRow,
    audit_list,
    caller_for,
    coordinator_access,
    member_access,
    member_paid_until,
    member_roles,
    trusted_for_rows,
    trusted_person_access,
    trusted_person_list,
    user_memberships,
)
from members.services import member_data_export, member_join
from members.trusted_persons import trusted_person_add, trusted_person_end
from members.two_factor import token_code_check, two_factor_reset


class TooManyAttempts(DomainError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS


class MembershipOutput(serializers.Serializer[Any]):
    status = serializers.CharField(source="membership_status")
    paid_until = serializers.SerializerMethodField()

    def get_paid_until(self, member: Member) -> str | None:
        paid_until = member_paid_until(member)
        return paid_until.isoformat() if paid_until else None


class MemberStandingOutput(serializers.Serializer[Any]):
    """Where a member stands in their circle: roles, membership and helper profile."""

    roles = serializers.SerializerMethodField()
    membership = serializers.SerializerMethodField()
    helper_id = serializers.SerializerMethodField()

    def get_roles(self, member: Member) -> list[str]:
        return member_roles(member)

    @extend_schema_field(MembershipOutput)
    def get_membership(self, member: Member) -> dict[str, Any]:
        return dict(MembershipOutput(member).data)

    def get_helper_id(self, member: Member) -> int | None:
        if hasattr(member, "helper_pk"):  # read with the member (`user_memberships`)
            found: int | None = member.helper_pk
            return found
        helper = getattr(member, "helper", None)
        return helper.pk if helper is not None else None


class MemberOutput(MemberStandingOutput):
    id = serializers.IntegerField()
    circle = serializers.CharField(source="circle.slug")
    full_name = serializers.CharField()
    email = serializers.EmailField(allow_null=True)
    phone = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    address_line1 = serializers.CharField()
    postcode = serializers.CharField()
    has_login = serializers.SerializerMethodField()
    joined_via = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_has_login(self, member: Member) -> bool:
        return member.user_id is not None


class AuditOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    actor = serializers.SerializerMethodField()
    member_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    call_reference = serializers.CharField()
    # Named `details` because a serializer's `data` is its output.
    details = serializers.JSONField(source="data")

    @extend_schema_field(
        inline_serializer(
            "AuditActor",
            {"user_id": serializers.IntegerField(), "name": serializers.CharField()},
            allow_null=True,
        )
    )
    def get_actor(self, event: AuditEvent) -> dict[str, Any] | None:
        if event.actor is None:
            return None
        return {"user_id": event.actor.pk, "name": event.actor.full_name or str(event.actor)}


# --- Auth -----------------------------------------------------------------------------------


class AuthTokenApi(APIView):
    """Exchange an email or mobile number and a password (and, for staff with two-factor on,
    `otp`) for an API token; DELETE revokes the caller's token."""

    class TokenInput(StrictInputSerializer):
        # One of the two: a login signs in with its email, or with its mobile number (a member
        # joined by phone who claimed their account may have no email).
        email = serializers.CharField(max_length=254, required=False, allow_blank=True)
        phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
        password = serializers.CharField(max_length=200, trim_whitespace=False)
        # Staff with two-factor on: the code from their authenticator app, or a recovery code.
        otp = serializers.CharField(max_length=40, required=False, allow_blank=True)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if not (attrs.get("email") or "").strip() and not (attrs.get("phone") or "").strip():
                raise InvalidInput(
                    "required",
                    "Give the email address or the mobile number you sign in with.",
                    field="email",
                )
            return attrs

    class TokenOutput(serializers.Serializer[Any]):
        token = serializers.CharField()

    # 429: django-axes locks out an email (or mobile number) and address after failed sign-ins.
    @extend_schema(
        request=TokenInput, responses={200: TokenOutput, **error_responses(429)}, auth=[]
    )
    def post(self, request: Request) -> Response:
        data = self.TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        # The email if given, else the mobile number: the user manager finds a login by either
        # (members.models.UserManager.get_by_natural_key), and axes counts failures by it in
        # one form whatever the spacing (circle.security.login_username).
        username = (data.validated_data.get("email") or "").strip().lower() or (
            data.validated_data.get("phone") or ""
        ).strip()
        try:
            # django-axes counts failures per email and address and refuses a locked pair
            # before the password is even checked.
            user = authenticate(
                request._request, username=username, password=data.validated_data["password"]
            )
        except AxesBackendPermissionDenied:
            user = None
        if getattr(request._request, "axes_locked_out", False):
            raise TooManyAttempts(
                "too_many_attempts",
                "Too many failed sign-ins for this email or number; try again in a few minutes.",
            )
        if user is None or not user.is_active:
            raise InvalidInput("invalid_credentials", "Those sign-in details do not match.")
        try:
            token_code_check(user=user, otp=data.validated_data.get("otp", ""))
        except DomainError as error:
            if error.code == "otp_invalid":
                # A wrong code counts as a failed sign-in, so django-axes locks out guessing.
                user_login_failed.send(
                    sender=__name__,
                    credentials={"username": username},
                    request=request._request,
                )
            raise
        # A token sign-in never calls login(), so send its signal ourselves: axes resets the
        # failure count on it (AXES_RESET_ON_SUCCESS) and Django records last_login.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            self.permission_denied(request)
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    class CircleRoleOutput(MemberStandingOutput):
        circle = serializers.CharField(source="circle.slug")
        circle_name = serializers.CharField(source="circle.name")
        member_id = serializers.IntegerField(source="id")

    class UserOutput(serializers.Serializer[Any]):
        id = serializers.IntegerField()
        email = serializers.EmailField(allow_null=True)
        phone = serializers.CharField(allow_null=True)
        full_name = serializers.CharField()

    class TrustedForOutput(serializers.Serializer[Any]):
        """A member this login acts for as their trusted person (members.models.TrustedPerson),
        and what they may do: name them with `member_id` in the member endpoints."""

        member_id = serializers.IntegerField()
        full_name = serializers.CharField()
        circle = serializers.CharField()
        scopes = serializers.ListField(child=serializers.ChoiceField(choices=TrustedScope.choices))

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "id": serializers.IntegerField(),
                "email": serializers.EmailField(allow_null=True),
                "phone": serializers.CharField(allow_null=True),
                "full_name": serializers.CharField(),
                "circles": CircleRoleOutput(many=True),
                "trusted_for": TrustedForOutput(many=True),
            },
        )
    )
    def get(self, request: Request) -> Response:
        user = request.user
        body = dict(self.UserOutput(user).data)
        body["circles"] = self.CircleRoleOutput(user_memberships(user=user), many=True).data  # type: ignore[arg-type]
        body["trusted_for"] = self.TrustedForOutput(trusted_for_rows(user=user), many=True).data
        return Response(body)


# --- Members --------------------------------------------------------------------------------


class MemberJoinInput(StrictInputSerializer):
    full_name = serializers.CharField(max_length=150)
    email = serializers.EmailField(
        max_length=254, required=False, allow_null=True, allow_blank=True
    )
    password = serializers.CharField(
        max_length=200, required=False, allow_null=True, allow_blank=True, trim_whitespace=False
    )
    phone = serializers.CharField(max_length=40)
    date_of_birth = serializers.DateField()
    address_line1 = serializers.CharField(max_length=200)
    postcode = serializers.CharField(max_length=12)
    # Staff registering a caller say why, or give the call's reference.
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    call_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


def search_row_json(row: SearchRow, circle_slug: str, zone: tzinfo) -> dict[str, Any]:
    """MemberOutput's shape for a member found by the search, built directly from the row:
    the serializer (a nested serializer and fourteen fields for each of 25 members) was a
    third of the request. The time is written as DRF's field writes it (`moment_text`, in
    the request's `zone`; a test compares the two)."""
    return {
        "roles": row.roles,
        "membership": {
            "status": row.membership_status,
            "paid_until": row.paid_until.isoformat() if row.paid_until else None,
        },
        "helper_id": row.helper_id,
        "id": row.id,
        "circle": circle_slug,
        "full_name": row.full_name,
        "email": row.email,
        "phone": row.phone,
        "date_of_birth": row.date_of_birth.isoformat() if row.date_of_birth else None,
        "address_line1": row.address_line1,
        "postcode": row.postcode,
        "has_login": row.has_login,
        "joined_via": row.joined_via,
        "created_at": moment_text(row.created_at, zone),
    }


class MemberSearchPagination(Pagination):
    """An operator on the phone reads a short list: fewer at once than elsewhere."""

    def __init__(self) -> None:
        super().__init__(default_limit=25, max_limit=100)


class CircleMembersApi(PaginatedApi, APIView):
    """POST: join the circle (or, for staff, register a caller). GET: staff search."""

    throttle_classes = [AnonymousSignupThrottle]
    pagination_class = MemberSearchPagination

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="name, phone or postcode")],
        responses=MemberOutput(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        if not request.user.is_authenticated:
            self.permission_denied(request)
        circle = circle_get(slug=slug)
        caller = caller_for(user=request.user, circle=circle)
        if not caller.is_staff:
            raise Forbidden("forbidden", "Only the circle's staff can search its members.")
        rows = MemberSearchRows(circle=circle, query=request.query_params.get("q", ""))
        paginator = self.paginator()
        page = paginator.paginate_queryset(rows, request) or []
        zone = get_current_timezone()
        return paginator.get_paginated_response(
            [search_row_json(row, circle.slug, zone) for row in page]
        )

    @extend_schema(request=MemberJoinInput, responses={201: MemberOutput})
    def post(self, request: Request, slug: str) -> Response:
        circle = circle_get(slug=slug)
        data = MemberJoinInput(data=request.data)
        data.is_valid(raise_exception=True)
        member = member_join(
            circle=circle,
            caller=caller_for(user=request.user, circle=circle),
            full_name=data.validated_data["full_name"],
            email=data.validated_data.get("email") or None,
            password=data.validated_data.get("password") or None,
            phone=data.validated_data["phone"],
            date_of_birth=data.validated_data["date_of_birth"],
            address_line1=data.validated_data["address_line1"],
            postcode=data.validated_data["postcode"],
            reason=data.validated_data.get("reason", ""),
            call_reference=data.validated_data.get("call_reference", ""),
        )
        return Response(MemberOutput(member).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MemberOutput)
    def get(self, request: Request, member_id: int) -> Response:
        # Details, audit and export are the member's and staff's alone, never a trusted
        # person's (members.selectors.member_access: no scope).
        member, _ = member_access(user=request.user, member_id=member_id, scope=None)
        return Response(MemberOutput(member).data)


class MemberAuditApi(PaginatedApi, APIView):
    """What was done on a member's behalf, newest first: for the member and their circle's
    staff; nothing about a safeguarding concern except for coordinators."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=AuditOutput(many=True))
    def get(self, request: Request, member_id: int) -> Response:
        member, caller = member_access(user=request.user, member_id=member_id, scope=None)
        events = audit_list(circle=member.circle, member=member)
        if RoleName.COORDINATOR not in caller.roles:
            # A concern about them is for coordinators only: never the member, nor operators.
            events = events.exclude(safeguarding_audit_rows(member))
        paginator = self.paginator()
        page = paginator.paginate_queryset(events, request)
        return paginator.get_paginated_response(AuditOutput(page, many=True).data)


class MemberExportApi(APIView):
    """Everything Circle holds about a member, as JSON (UK GDPR right of access): for the
    member themselves and their circle's staff; every copy taken is audited (data.exported).
    The sections and what is left out are described in members/export.py."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "download", int, enum=[0, 1], description="1: answer as a file to save"
            )
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, member_id: int) -> Response:
        member, caller = member_access(user=request.user, member_id=member_id, scope=None)
        body = member_data_export(caller=caller, member=member)
        response = Response(body)
        if request.query_params.get("download") == "1":
            response["Content-Disposition"] = f'attachment; filename="circle-data-{member.pk}.json"'
        return response


class MemberEraseApi(APIView):
    """Erase a member's personal data (UK GDPR right to erasure): coordinators only. The
    member's rows stay, pseudonymised ("Former member 123"); members/erasure.py says what
    each app wipes and keeps. 409 `already_erased`, `is_staff`, `concern_open`,
    `tokens_held`, `task_open` or `card_renews` while it cannot be done yet."""

    permission_classes = [IsAuthenticated]

    class EraseInput(StrictInputSerializer):
        reason = serializers.CharField(max_length=500)

    class EraseOutput(serializers.Serializer[Any]):
        id = serializers.IntegerField(source="pk")
        full_name = serializers.CharField()
        erased_at = serializers.DateTimeField()

    @extend_schema(request=EraseInput, responses={200: EraseOutput, **error_responses(409)})
    def post(self, request: Request, member_id: int) -> Response:
        member, caller = member_access(
            user=request.user,
            member_id=member_id,
            roles=(RoleName.COORDINATOR,),
            allow_self=False,
        )
        data = self.EraseInput(data=request.data)
        data.is_valid(raise_exception=True)
        erased = member_erase(caller=caller, member=member, reason=data.validated_data["reason"])
        return Response(self.EraseOutput(erased).data)


class CircleAuditApi(PaginatedApi, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("member_id", int, description="only what was done for this member"),
            OpenApiParameter("action", str, description="only this action, e.g. member.joined"),
        ],
        responses=AuditOutput(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        circle = circle_get(slug=slug)
        coordinator_access(user=request.user, circle=circle, what="its audit log")
        member = None
        member_id = query_id(request.query_params.get("member_id"), field="member_id")
        if member_id is not None:
            member = Member.objects.filter(circle=circle, pk=member_id).first()
            if member is None:
                raise InvalidInput(
                    "member_not_found", "No such member in this circle.", field="member_id"
                )
        events = audit_list(circle=circle, member=member, action=request.query_params.get("action"))
        paginator = self.paginator()
        page = paginator.paginate_queryset(events, request)
        return paginator.get_paginated_response(AuditOutput(page, many=True).data)


class TwoFactorResetApi(APIView):
    """A coordinator resets another staff member's two-factor sign-in (a lost phone): their
    authenticator app, recovery codes and API token go, and they set it up again at their next
    sign-in. `{reason}` is required and audited (staff.two_factor_reset). 403 `own_record` for
    one's own; 409 `not_staff` for someone who is not an operator or coordinator with a login."""

    permission_classes = [IsAuthenticated]

    class ResetInput(StrictInputSerializer):
        reason = serializers.CharField(max_length=500)

    class ResetOutput(serializers.Serializer[Any]):
        member_id = serializers.IntegerField()
        two_factor = serializers.BooleanField()

    @extend_schema(request=ResetInput, responses={200: ResetOutput, **error_responses(409)})
    def post(self, request: Request, member_id: int) -> Response:
        data = self.ResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        member, caller = member_access(
            user=request.user, member_id=member_id, roles={RoleName.COORDINATOR}
        )
        two_factor_reset(
            circle=member.circle,
            caller=caller,
            member=member,
            reason=data.validated_data["reason"],
        )
        return Response({"member_id": member.pk, "two_factor": False})


# --- Trusted persons --------------------------------------------------------------------------


class TrustedPersonOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    full_name = serializers.CharField()
    email = serializers.EmailField(source="user.email", allow_null=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=TrustedScope.choices))
    consent_reference = serializers.CharField()
    created_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)


class TrustedPersonInput(StrictInputSerializer):
    full_name = serializers.CharField(max_length=150)
    email = serializers.CharField(max_length=254, help_text="their own login's email")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TrustedScope.choices), max_length=4
    )
    consent_reference = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="staff: the reference of the call in which the member agreed",
    )


class TrustedPersonsApi(APIView):
    """A member's trusted persons (GET, the active ones) and naming one (POST): for the member
    and their circle's staff, never for a trusted person (403 trusted_person_not_allowed)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=TrustedPersonOutput(many=True))
    def get(self, request: Request, member_id: int) -> Response:
        member, _ = member_access(user=request.user, member_id=member_id, scope=None)
        return Response(TrustedPersonOutput(trusted_person_list(member=member), many=True).data)

    @extend_schema(request=TrustedPersonInput, responses={201: TrustedPersonOutput})
    def post(self, request: Request, member_id: int) -> Response:
        member, caller = member_access(user=request.user, member_id=member_id, scope=None)
        data = TrustedPersonInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        link = trusted_person_add(
            caller=caller,
            member=member,
            full_name=values["full_name"],
            email=values["email"],
            scopes=values["scopes"],
            consent_reference=values.get("consent_reference", ""),
        )
        return Response(TrustedPersonOutput(link).data, status=status.HTTP_201_CREATED)


class TrustedPersonApi(APIView):
    """DELETE: end a trusted person's link at once (the member, or their circle's staff)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, trusted_id: int) -> Response:
        link, caller = trusted_person_access(user=request.user, trusted_id=trusted_id)
        trusted_person_end(caller=caller, trusted=link)
        return Response(status=status.HTTP_204_NO_CONTENT)
