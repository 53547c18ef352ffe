"""Becoming a helper: a start page, one short question a page (for a phone and a thumb), "Check
your answers", then the helper's profile page, which says what happens next and where their
checks stand.

As joining as a member does (web/views/member/join.py), each answer is checked on its own page
by the rule `helper_signup` applies, and the answers wait in the session, per circle, until the
last page calls `helper_signup`, which checks them all again. Only a password's hash is kept.

Someone signed in is not asked for an email and password: they sign up as themselves. A member
of this circle is not asked their name either (their record is used), nor their phone when we
have it; someone signed in from another circle gets a member record here with the name and
phone they give.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.hashers import make_password
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from circle.errors import Conflict, DomainError, NotFound
from circle.messages import message_for
from circle.models import Category, Circle
from circle.selectors import circle_get, postcode_resolve_in_area
from helpers.models import Helper
from helpers.services import (
    Availability,
    helper_availability_check,
    helper_radius_check,
    helper_signup,
    helper_skills_resolve,
)
from members.models import User
from members.selectors import Caller, caller_for
from members.services import email_check_free, password_check, phone_normalise
from web.forms_helper import (
    AreaForm,
    AvailabilityForm,
    HelperEmailForm,
    HelperPhoneForm,
    KindForm,
    SkillsForm,
    radius_text,
)
from web.forms_join import NameForm, PasswordForm
from web.templatetags.circle_web import phone_display
from web.views.base import form_error, render_page
from web.views.helper.describe import availability_lines, kind_text

Answers = dict[str, Any]


@dataclass(frozen=True)
class Who:
    """Who is signing up, as the questions need it."""

    circle: Circle
    user: User | None
    caller: Caller
    categories: list[Category]


@dataclass(frozen=True)
class Step:
    slug: str
    # The answers this page gives, named as helper_signup's arguments.
    fields: tuple[str, ...]
    title: Any
    make: Callable[[Who, Any, Answers], forms.Form]
    check: Callable[[Who, dict[str, Any], Answers, forms.Form], Answers]
    asked: Callable[[Who], bool]


def _everyone(who: Who) -> bool:
    return True


def _new_login(who: Who) -> bool:
    return who.user is None


def _not_a_member_here(who: Who) -> bool:
    return who.caller.member is None


def _no_phone_here(who: Who) -> bool:
    return who.caller.member is None or not who.caller.member.phone


def _name(who: Who, cleaned: dict[str, Any], answers: Answers, form: forms.Form) -> Answers:
    return {"full_name": cleaned["full_name"].strip()}


def _phone(who: Who, cleaned: dict[str, Any], answers: Answers, form: forms.Form) -> Answers:
    return {"phone": phone_normalise(cleaned["phone"])}


def _email(who: Who, cleaned: dict[str, Any], answers: Answers, form: forms.Form) -> Answers:
    return {"email": email_check_free(email=cleaned["email"], circle=who.circle, joining=True)}


def _password(who: Who, cleaned: dict[str, Any], answers: Answers, form: forms.Form) -> Answers:
    password: str = cleaned["password"]
    password_check(
        password=password, email=answers.get("email", ""), full_name=answers.get("full_name", "")
    )
    # Only its hash waits in the session; the last page makes the login from it.
    return {"password": make_password(password)}


def _kind(who: Who, cleaned: dict[str, Any], answers: Answers, form: forms.Form) -> Answers:
    return {"kind": cleaned["kind"]}


def _skills(who: Who, cleaned: dict[str, Any], answers: Answers, form: forms.Form) -> Answers:
    chosen = helper_skills_resolve(circle=who.circle, skills=list(cleaned["skills"]))
    return {"skills": [c.slug for c in chosen]}


def _area(who: Who, cleaned: dict[str, Any], answers: Answers, form: forms.Form) -> Answers:
    radius: Decimal = cleaned["travel_radius_km"]
    helper_radius_check(radius)
    postcode, _point = postcode_resolve_in_area(circle=who.circle, raw=cleaned["postcode"])
    return {"postcode": postcode, "travel_radius_km": radius_text(radius)}


def availability_checked(form: AvailabilityForm) -> list[Availability]:
    """The windows chosen, by the service's own rule; its refusal names the window by its place
    in the list, which is put back on that day's "until" box."""
    windows = form.availability()
    try:
        helper_availability_check(windows)
    except DomainError as error:
        parts = (error.field or "").split(".")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(windows):
            day = windows[int(parts[1])].weekday
            form.add_error(f"day{day}_end", message_for(error))
            raise
        raise
    return windows


def _availability(who: Who, cleaned: dict[str, Any], answers: Answers, form: forms.Form) -> Answers:
    assert isinstance(form, AvailabilityForm)
    windows = availability_checked(form)
    return {"availability": [[w.weekday, f"{w.start:%H:%M}", f"{w.end:%H:%M}"] for w in windows]}


def windows_of(answers: Answers) -> list[Availability]:
    return [
        Availability(int(day), time.fromisoformat(start), time.fromisoformat(end))
        for day, start, end in answers.get("availability", [])
    ]


STEPS = (
    Step(
        "name",
        ("full_name",),
        _("Your full name"),
        lambda who, data, a: NameForm(data, initial=_initial(who, a)),
        _name,
        _not_a_member_here,
    ),
    Step(
        "phone",
        ("phone",),
        _("Your phone number"),
        lambda who, data, a: HelperPhoneForm(data, initial=_initial(who, a)),
        _phone,
        _no_phone_here,
    ),
    Step(
        "email",
        ("email",),
        _("Your email address"),
        lambda who, data, a: HelperEmailForm(data, initial=_initial(who, a)),
        _email,
        _new_login,
    ),
    Step(
        "password",
        ("password",),
        _("Choose a password"),
        lambda who, data, a: PasswordForm(data),
        _password,
        _new_login,
    ),
    Step(
        "kind",
        ("kind",),
        _("How do you want to help?"),
        lambda who, data, a: KindForm(data, initial=_initial(who, a)),
        _kind,
        _everyone,
    ),
    Step(
        "skills",
        ("skills",),
        _("What kinds of help can you give?"),
        lambda who, data, a: SkillsForm(data, categories=who.categories, initial=_initial(who, a)),
        _skills,
        _everyone,
    ),
    Step(
        "area",
        ("postcode", "travel_radius_km"),
        _("Where can you help?"),
        lambda who, data, a: AreaForm(
            data, initial=_initial(who, a), current_radius=a.get("travel_radius_km", "")
        ),
        _area,
        _everyone,
    ),
    Step(
        "availability",
        ("availability",),
        _("When can you help?"),
        lambda who, data, a: AvailabilityForm(
            data, initial=AvailabilityForm.initial_for(windows_of(a)) if "availability" in a else {}
        ),
        _availability,
        _everyone,
    ),
)
STEP_OF_FIELD = {field: step.slug for step in STEPS for field in step.fields}


def _initial(who: Who, answers: Answers) -> dict[str, Any]:
    """The boxes as last answered (never the password); a member's postcode to begin with."""
    initial: dict[str, Any] = {
        name: answers[name]
        for name in ("full_name", "email", "kind", "skills", "postcode", "travel_radius_km")
        if name in answers
    }
    if "phone" in answers:
        initial["phone"] = phone_display(answers["phone"])
    if "full_name" not in initial and who.user is not None and who.user.full_name:
        initial["full_name"] = who.user.full_name
    member = who.caller.member
    if "postcode" not in initial and member is not None and member.postcode:
        initial["postcode"] = member.postcode
    return initial


def _session_key(circle: Circle) -> str:
    return f"helper-join:{circle.slug}"


def _answers(request: HttpRequest, circle: Circle) -> Answers:
    answers: Answers = request.session.get(_session_key(circle), {})
    return answers


def _who(request: HttpRequest, slug: str) -> Who:
    try:
        circle = circle_get(slug=slug)
    except NotFound:
        raise Http404 from None
    request.circle = circle  # type: ignore[attr-defined]
    user = (
        request.user if isinstance(request.user, User) and request.user.is_authenticated else None
    )
    return Who(
        circle=circle,
        user=user,
        caller=caller_for(user=user, circle=circle),
        categories=list(Category.objects.filter(circle=circle).order_by("name")),
    )


def _steps(who: Who) -> list[Step]:
    return [step for step in STEPS if step.asked(who)]


def _first_missing(steps: list[Step], answers: Answers) -> Step | None:
    for step in steps:
        if any(field not in answers for field in step.fields):
            return step
    return None


def _step_url(circle: Circle, step: Step | str, *, change: bool = False) -> str:
    slug = step if isinstance(step, str) else step.slug
    url = reverse("web:helper-join-step", args=[circle.slug, slug])
    return f"{url}?change=1" if change else url


def _next_url(circle: Circle, steps: list[Step], answers: Answers) -> str:
    missing = _first_missing(steps, answers)
    if missing:
        return _step_url(circle, missing)
    return reverse("web:helper-join-check", args=[circle.slug])


def _already(request: HttpRequest, who: Who) -> HttpResponse | None:
    """The page instead of the questions for someone who is a helper here already."""
    member = who.caller.member
    if member is not None and Helper.objects.filter(member=member).exists():
        return render_page(request, "web/helper/join_already.html")
    return None


def start(request: HttpRequest, slug: str) -> HttpResponse:
    who = _who(request, slug)
    refused = _already(request, who)
    if refused is not None:
        return refused
    steps = _steps(who)
    return render_page(
        request,
        "web/helper/join_start.html",
        {
            "start_href": _next_url(who.circle, steps, _answers(request, who.circle)),
            "who": who,
            "enhanced": [c for c in who.categories if c.vetting_level == "enhanced"],
        },
    )


def question(request: HttpRequest, slug: str, step: str) -> HttpResponse:
    who = _who(request, slug)
    steps = _steps(who)
    here = next((s for s in steps if s.slug == step), None)
    if here is None:
        raise Http404
    refused = _already(request, who)
    if refused is not None:
        return refused
    answers = _answers(request, who.circle)
    missing = _first_missing(steps, answers)
    if missing is not None and steps.index(missing) < steps.index(here):
        return redirect(_step_url(who.circle, missing))

    sign_in_href = ""
    if request.method == "POST":
        form = here.make(who, request.POST, answers)
        if form.is_valid():
            try:
                kept = here.check(who, form.cleaned_data, answers, form)
            except DomainError as error:
                if not form.errors:
                    form_error(form, error)
                if error.code == "email_has_login":
                    sign_in_href = _sign_in_href(who.circle)
            else:
                answers = {**answers, **kept}
                request.session[_session_key(who.circle)] = answers
                return redirect(_next_url(who.circle, steps, answers))
    else:
        form = here.make(who, None, answers)

    changing = request.GET.get("change") == "1" and missing is None
    index = steps.index(here)
    if changing:
        back = reverse("web:helper-join-check", args=[who.circle.slug])
    elif index == 0:
        back = reverse("web:helper-join", args=[who.circle.slug])
    else:
        back = _step_url(who.circle, steps[index - 1])
    return render_page(
        request,
        "web/helper/join_question.html",
        {
            "form": form,
            "step": here,
            "back_href": back,
            "changing": changing,
            "sign_in_href": sign_in_href,
            "number": index + 1,
            "count": len(steps),
        },
    )


def _sign_in_href(circle: Circle) -> str:
    back = reverse("web:helper-join", args=[circle.slug])
    return f"{reverse('web:sign-in')}?{urlencode({'next': back})}"


def _rows(who: Who, answers: Answers) -> list[dict[str, Any]]:
    def change(step: str) -> str:
        return _step_url(who.circle, step, change=True)

    names = {c.slug: c.name for c in who.categories}
    rows: list[dict[str, Any]] = []
    member = who.caller.member
    if "full_name" in answers:
        rows.append({"key": _("Full name"), "value": answers["full_name"], "href": change("name")})
    elif member is not None:
        rows.append({"key": _("Full name"), "value": member.full_name})
    if "phone" in answers:
        rows.append(
            {
                "key": _("Phone number"),
                "value": phone_display(answers["phone"]),
                "href": change("phone"),
            }
        )
    elif member is not None:
        rows.append({"key": _("Phone number"), "value": phone_display(member.phone)})
    if who.user is not None:
        rows.append({"key": _("You sign in with"), "value": who.user.sign_in_name})
    else:
        rows.append({"key": _("Email address"), "value": answers["email"], "href": change("email")})
        rows.append(
            {
                "key": _("Password"),
                "value": _("Chosen (not shown, to keep it private)"),
                "href": change("password"),
            }
        )
    rows += [
        {"key": _("How you help"), "value": kind_text(answers["kind"]), "href": change("kind")},
        {
            "key": _("Kinds of help"),
            "lines": [names.get(slug, slug) for slug in answers["skills"]],
            "href": change("skills"),
        },
        {"key": _("Home postcode"), "value": answers["postcode"], "href": change("area")},
        {
            "key": _("How far you travel"),
            "value": _t("Up to %(km)s km") % {"km": answers["travel_radius_km"]},
            "href": change("area"),
        },
        {
            "key": _("When you can help"),
            "lines": availability_lines(windows_of(answers)),
            "href": change("availability"),
        },
    ]
    return rows


def check(request: HttpRequest, slug: str) -> HttpResponse:
    who = _who(request, slug)
    refused = _already(request, who)
    if refused is not None:
        return refused
    steps = _steps(who)
    answers = _answers(request, who.circle)
    missing = _first_missing(steps, answers)
    if missing is not None:
        return redirect(_step_url(who.circle, missing))

    errors: list[dict[str, str]] = []
    sign_in_href = ""
    if request.method == "POST":
        try:
            helper = helper_signup(
                circle=who.circle,
                caller=who.caller,
                kind=answers["kind"],
                skills=list(answers["skills"]),
                travel_radius_km=Decimal(answers["travel_radius_km"]),
                availability=windows_of(answers),
                full_name=answers.get("full_name", ""),
                email=None if who.user else answers["email"],
                password_hash=None if who.user else answers["password"],
                phone=answers.get("phone", ""),
                postcode=answers["postcode"],
            )
        except Conflict as error:
            if error.code == "already_helper":
                return redirect("web:helper-profile")
            errors.append(_error_link(who.circle, error))
        except DomainError as error:
            errors.append(_error_link(who.circle, error))
            if error.code == "email_has_login":
                sign_in_href = _sign_in_href(who.circle)
        else:
            if who.user is None:
                assert helper.member.user is not None
                login(
                    request,
                    helper.member.user,
                    backend="django.contrib.auth.backends.ModelBackend",
                )
            request.session.pop(_session_key(who.circle), None)
            # The helper's pages show this circle's profile, for someone who helps in several.
            request.session["helper_id"] = helper.pk
            messages.success(
                request,
                _t("You have signed up as a helper with %(name)s.") % {"name": who.circle.name},
            )
            return redirect("web:helper-profile")

    return render_page(
        request,
        "web/helper/join_check.html",
        {
            "rows": _rows(who, answers),
            "errors": errors,
            "form_has_errors": bool(errors),
            "sign_in_href": sign_in_href,
            "back_href": _step_url(who.circle, steps[-1]),
        },
    )


def _error_link(circle: Circle, error: DomainError) -> dict[str, str]:
    field = (error.field or "").split(".")[0]
    step = STEP_OF_FIELD.get(field)
    return {
        "href": _step_url(circle, step, change=True) if step else "",
        "text": message_for(error),
    }
