"""Joining a circle as a member: a start page, one question a page, "Check your answers", and a
confirmation whose next step is paying (GOV.UK's question pages and check-answers pattern).

Each answer is checked on its own page by the rule `member_join` applies (the services' own
checks, called one at a time), so a person too young or too far away hears it at once rather than
after six pages. The answers wait in the session, per circle, until the last page calls
`member_join`, which checks them all again: the rules live there, and in the database.

Someone already signed in (a helper who now wants help) joins as themselves, so they are not asked
for an email and password.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import login
from django.contrib.auth.hashers import make_password
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from circle.errors import Conflict, DomainError, NotFound
from circle.messages import message_for
from circle.models import Circle
from circle.selectors import circle_get, postcode_resolve_in_area
from members.models import RoleName, User
from members.selectors import Caller, caller_for
from members.services import (
    email_check_free,
    member_age_check,
    member_join,
    password_check,
    phone_normalise,
)
from web.forms_join import (
    AddressForm,
    DateOfBirthForm,
    EmailForm,
    NameForm,
    PasswordForm,
    PhoneForm,
    QuestionForm,
)
from web.templatetags.circle_web import phone_display
from web.views.base import form_error, render_page

Answers = dict[str, str]


@dataclass(frozen=True)
class Step:
    slug: str
    form: type[QuestionForm]
    # The answers this page gives, named as member_join's arguments.
    fields: tuple[str, ...]
    # What the page's title says (the question, short).
    title: Any
    # The answer checked by the service's own rule: the values to keep, or a DomainError.
    check: Callable[[Circle, dict[str, Any], Answers], Answers]
    # Asked only of someone not signed in: they make the login.
    new_login_only: bool = False


def _name(circle: Circle, cleaned: dict[str, Any], answers: Answers) -> Answers:
    return {"full_name": cleaned["full_name"].strip()}


def _date_of_birth(circle: Circle, cleaned: dict[str, Any], answers: Answers) -> Answers:
    born: date = cleaned["date_of_birth"]
    member_age_check(circle=circle, born=born)
    return {"date_of_birth": born.isoformat()}


def _address(circle: Circle, cleaned: dict[str, Any], answers: Answers) -> Answers:
    postcode, _point = postcode_resolve_in_area(circle=circle, raw=cleaned["postcode"])
    return {"address_line1": cleaned["address_line1"].strip(), "postcode": postcode}


def _phone(circle: Circle, cleaned: dict[str, Any], answers: Answers) -> Answers:
    return {"phone": phone_normalise(cleaned["phone"])}


def _email(circle: Circle, cleaned: dict[str, Any], answers: Answers) -> Answers:
    # An email that already signs in (here or in another circle) is answered `email_has_login`:
    # the page then links to signing in, after which the journey continues as that login.
    return {"email": email_check_free(email=cleaned["email"], circle=circle, joining=True)}


def _sign_in_href(circle: Circle) -> str:
    """Signing in, then back to joining this circle as the login signed in with."""
    back = reverse("web:join", args=[circle.slug])
    return f"{reverse('web:sign-in')}?{urlencode({'next': back})}"


def _password(circle: Circle, cleaned: dict[str, Any], answers: Answers) -> Answers:
    password: str = cleaned["password"]
    password_check(
        password=password, email=answers.get("email", ""), full_name=answers.get("full_name", "")
    )
    # Only its hash is kept in the session until the last page makes the login from it: the
    # plain password is checked here and never stored, not even for the minutes of the journey.
    return {"password": make_password(password)}


STEPS = (
    Step("name", NameForm, ("full_name",), _("Your full name"), _name),
    Step("date-of-birth", DateOfBirthForm, ("date_of_birth",), _("Date of birth"), _date_of_birth),
    Step("address", AddressForm, ("address_line1", "postcode"), _("Your address"), _address),
    Step("phone", PhoneForm, ("phone",), _("Your phone number"), _phone),
    Step("email", EmailForm, ("email",), _("Your email address"), _email, new_login_only=True),
    Step("password", PasswordForm, ("password",), _("Choose a password"), _password, True),
)
STEP_OF_FIELD = {field: step.slug for step in STEPS for field in step.fields}
DONE = "done"


def _session_key(circle: Circle) -> str:
    return f"join:{circle.slug}"


def _answers(request: HttpRequest, circle: Circle) -> Answers:
    answers: Answers = request.session.get(_session_key(circle), {})
    return answers


def _save_answers(request: HttpRequest, circle: Circle, answers: Answers) -> None:
    request.session[_session_key(circle)] = answers


def _circle(request: HttpRequest, slug: str) -> Circle:
    try:
        circle = circle_get(slug=slug)
    except NotFound:
        raise Http404 from None
    request.circle = circle  # type: ignore[attr-defined]
    return circle


def _signed_in(request: HttpRequest) -> bool:
    return isinstance(request.user, User) and request.user.is_authenticated


def _steps(request: HttpRequest) -> list[Step]:
    signed_in = _signed_in(request)
    return [step for step in STEPS if not (signed_in and step.new_login_only)]


def _first_missing(steps: list[Step], answers: Answers) -> Step | None:
    for step in steps:
        if any(field not in answers for field in step.fields):
            return step
    return None


def _step_url(circle: Circle, step: Step | str, *, change: bool = False) -> str:
    slug = step if isinstance(step, str) else step.slug
    url = reverse("web:join-step", args=[circle.slug, slug])
    return f"{url}?change=1" if change else url


def _next_url(circle: Circle, steps: list[Step], answers: Answers) -> str:
    """The first question not yet answered, or "Check your answers" once all are: so changing
    one answer from the check page returns there, and a new answer leads to the next question."""
    missing = _first_missing(steps, answers)
    return _step_url(circle, missing) if missing else reverse("web:join-check", args=[circle.slug])


def _is_member(caller: Caller) -> bool:
    return caller.member is not None and RoleName.MEMBER in caller.roles


def _cannot_join(request: HttpRequest, circle: Circle, caller: Caller) -> HttpResponse | None:
    """A page instead of the questions for someone signed in who cannot join here: they are a
    member already, or they are this circle's staff, who register callers from the console."""
    if _is_member(caller):
        return render_page(request, "web/join/already.html", {"member": caller.member})
    if caller.is_staff:
        return render_page(request, "web/join/staff.html", {"caller": caller}, status=403)
    return None


def start(request: HttpRequest, slug: str) -> HttpResponse:
    circle = _circle(request, slug)
    caller = caller_for(user=request.user, circle=circle)
    refused = _cannot_join(request, circle, caller)
    if refused is not None:
        return refused
    steps = _steps(request)
    return render_page(
        request,
        "web/join/start.html",
        {
            "start_href": _next_url(circle, steps, _answers(request, circle)),
            "signed_in": _signed_in(request),
        },
    )


def question(request: HttpRequest, slug: str, step: str) -> HttpResponse:
    circle = _circle(request, slug)
    if step == DONE:
        return _done(request, circle)
    steps = _steps(request)
    here = next((s for s in steps if s.slug == step), None)
    if here is None:
        raise Http404
    caller = caller_for(user=request.user, circle=circle)
    refused = _cannot_join(request, circle, caller)
    if refused is not None:
        return refused
    answers = _answers(request, circle)
    # Straight to a later question (a bookmark, an old tab): back to the first one unanswered.
    missing = _first_missing(steps, answers)
    if missing is not None and steps.index(missing) < steps.index(here):
        return redirect(_step_url(circle, missing))

    sign_in_href = ""
    if request.method == "POST":
        form = here.form(request.POST)
        if form.is_valid():
            try:
                kept = here.check(circle, form.cleaned_data, answers)
            except DomainError as error:
                form_error(form, error)
                if error.code == "email_has_login":
                    sign_in_href = _sign_in_href(circle)
            else:
                answers = {**answers, **kept}
                _save_answers(request, circle, answers)
                return redirect(_next_url(circle, steps, answers))
    else:
        form = here.form(initial=_initial(answers))

    changing = request.GET.get("change") == "1" and missing is None
    index = steps.index(here)
    if changing:
        back = reverse("web:join-check", args=[circle.slug])
    elif index == 0:
        back = reverse("web:join", args=[circle.slug])
    else:
        back = _step_url(circle, steps[index - 1])
    return render_page(
        request,
        "web/join/question.html",
        {
            "form": form,
            "step": here,
            "back_href": back,
            "changing": changing,
            "sign_in_href": sign_in_href,
        },
    )


def _initial(answers: Answers) -> dict[str, Any]:
    """What the boxes show when a question is asked again: the answer given, as it was written
    back to the person (never the password)."""
    initial: dict[str, Any] = {
        name: answers[name]
        for name in ("full_name", "address_line1", "postcode", "email")
        if name in answers
    }
    if "date_of_birth" in answers:
        initial["date_of_birth"] = date.fromisoformat(answers["date_of_birth"])
    if "phone" in answers:
        initial["phone"] = phone_display(answers["phone"])
    return initial


def _rows(circle: Circle, answers: Answers, user: User | None) -> list[dict[str, Any]]:
    def change(step: str) -> str:
        return _step_url(circle, step, change=True)

    rows: list[dict[str, Any]] = [
        {
            "key": _("Full name"),
            "value": answers["full_name"],
            "href": change("name"),
            "hidden": _("your full name"),
        },
        {
            "key": _("Date of birth"),
            # A birthday without its weekday: "27 March 1948".
            "value": date_format(date.fromisoformat(answers["date_of_birth"]), "j F Y"),
            "href": change("date-of-birth"),
            "hidden": _("your date of birth"),
        },
        {
            "key": _("Address"),
            "lines": [answers["address_line1"], answers["postcode"]],
            "href": change("address"),
            "hidden": _("your address"),
        },
        {
            "key": _("Phone number"),
            "value": phone_display(answers["phone"]),
            "href": change("phone"),
            "hidden": _("your phone number"),
        },
    ]
    if user is not None:
        # Joining as themselves: their login, and its email, stay as they are.
        rows.append({"key": _("You sign in with"), "value": user.sign_in_name})
    else:
        rows.append(
            {
                "key": _("Email address"),
                "value": answers["email"],
                "href": change("email"),
                "hidden": _("your email address"),
            }
        )
        rows.append(
            {
                "key": _("Password"),
                "value": _("Chosen (not shown, to keep it private)"),
                "href": change("password"),
                "hidden": _("your password"),
            }
        )
    return rows


def check(request: HttpRequest, slug: str) -> HttpResponse:
    circle = _circle(request, slug)
    caller = caller_for(user=request.user, circle=circle)
    # Already joined (the Join button pressed again, or the page reloaded): the confirmation,
    # never a second member.
    if _is_member(caller):
        return redirect(_step_url(circle, DONE))
    refused = _cannot_join(request, circle, caller)
    if refused is not None:
        return refused
    steps = _steps(request)
    answers = _answers(request, circle)
    missing = _first_missing(steps, answers)
    if missing is not None:
        return redirect(_step_url(circle, missing))
    user = (
        request.user if isinstance(request.user, User) and request.user.is_authenticated else None
    )

    errors: list[dict[str, str]] = []
    sign_in_href = ""
    if request.method == "POST":
        try:
            member = member_join(
                circle=circle,
                caller=caller,
                full_name=answers["full_name"],
                phone=answers["phone"],
                date_of_birth=date.fromisoformat(answers["date_of_birth"]),
                address_line1=answers["address_line1"],
                postcode=answers["postcode"],
                email=None if user else answers["email"],
                password_hash=None if user else answers["password"],
            )
        except Conflict as error:
            if error.code == "already_member":
                return redirect(_step_url(circle, DONE))
            errors.append(_error_link(circle, error))
        except DomainError as error:
            # Something changed since the question was answered (an email taken meanwhile): the
            # person reads what, with a link to the question to change (and, for an email that
            # signs in now, a link to signing in).
            errors.append(_error_link(circle, error))
            if error.code == "email_has_login":
                sign_in_href = _sign_in_href(circle)
        else:
            if user is None:
                assert member.user is not None
                login(request, member.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session.pop(_session_key(circle), None)
            # The member pages show this circle, for someone who belongs to several.
            request.session["member_id"] = member.pk
            return redirect(_step_url(circle, DONE))

    return render_page(
        request,
        "web/join/check.html",
        {
            "rows": _rows(circle, answers, user),
            "errors": errors,
            "form_has_errors": bool(errors),
            "sign_in_href": sign_in_href,
            "back_href": _step_url(circle, steps[-1]),
        },
    )


def _error_link(circle: Circle, error: DomainError) -> dict[str, str]:
    step = STEP_OF_FIELD.get(error.field or "")
    return {
        "href": _step_url(circle, step, change=True) if step else "",
        "text": message_for(error),
    }


def _done(request: HttpRequest, circle: Circle) -> HttpResponse:
    """The confirmation, for someone who is a member of the circle now; anyone else is sent to
    the start of joining."""
    caller = caller_for(user=request.user, circle=circle)
    if not _is_member(caller):
        return redirect("web:join", circle.slug)
    return render_page(request, "web/join/done.html", {"member": caller.member})
