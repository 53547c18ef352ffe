"""A member's contact details: what we hold, and changing one thing a page, with the rules of
joining (members.services.member_details_update)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from circle.errors import DomainError
from members.models import Member
from members.selectors import Caller
from members.services import member_details_update
from web.forms_join import (
    DetailsAddressForm,
    DetailsEmailForm,
    DetailsNameForm,
    DetailsPhoneForm,
    QuestionForm,
)
from web.templatetags.circle_web import phone_display
from web.views.base import form_error, member_required, render_page


@dataclass(frozen=True)
class Detail:
    form: type[QuestionForm]
    # The member's fields this page changes (member_details_update's arguments).
    fields: tuple[str, ...]
    title: Any
    done: Any


DETAILS = {
    "name": Detail(
        DetailsNameForm, ("full_name",), _("Your full name"), _("Your name has been changed.")
    ),
    "address": Detail(
        DetailsAddressForm,
        ("address_line1", "postcode"),
        _("Your address"),
        _("Your address has been changed."),
    ),
    "phone": Detail(
        DetailsPhoneForm,
        ("phone",),
        _("Your phone number"),
        _("Your phone number has been changed."),
    ),
    "email": Detail(
        DetailsEmailForm,
        ("email",),
        _("Your email address"),
        _("Your email address has been changed."),
    ),
}


def _form(detail: Detail, member: Member, data: Any = None) -> QuestionForm:
    initial = {
        "full_name": member.full_name,
        "address_line1": member.address_line1,
        "postcode": member.postcode,
        "phone": phone_display(member.phone),
        "email": member.email or "",
    }
    extra = {"signs_in": member.user_id is not None} if detail.form is DetailsEmailForm else {}
    return detail.form(data, initial=initial, **extra)


@member_required
def overview(request: HttpRequest) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]

    def href(field: str) -> str:
        return reverse("web:member-details-change", args=[field])

    rows: list[dict[str, Any]] = [
        {
            "key": _("Name"),
            "value": member.full_name,
            "href": href("name"),
            "hidden": _("your name"),
        },
        {
            "key": _("Address"),
            "lines": [line for line in (member.address_line1, member.postcode) if line]
            or [str(_("None given"))],
            "href": href("address"),
            "hidden": _("your address"),
        },
        {
            "key": _("Phone number"),
            "value": phone_display(member.phone) or _("None given"),
            "href": href("phone"),
            "hidden": _("your phone number"),
        },
        {
            "key": _("Email address"),
            "value": member.email or _("None given"),
            "href": href("email"),
            "hidden": _("your email address"),
        },
    ]
    return render_page(
        request, "web/member/details.html", {"rows": rows, "signs_in": member.user_id is not None}
    )


@member_required
def change(request: HttpRequest, field: str) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    caller: Caller = request.caller  # type: ignore[attr-defined]
    detail = DETAILS.get(field)
    if detail is None:
        raise Http404
    if request.method == "POST":
        form = _form(detail, member, request.POST)
        if form.is_valid():
            try:
                member_details_update(
                    member=member,
                    caller=caller,
                    **{name: form.cleaned_data[name] for name in detail.fields},
                )
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(request, detail.done)
                return redirect("web:member-details")
    else:
        form = _form(detail, member)
    return render_page(
        request,
        "web/member/details_change.html",
        {"form": form, "detail": detail, "back_href": reverse("web:member-details")},
    )
