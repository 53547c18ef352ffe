"""The coordinators' settings: the circle's prices and rules, its kinds of help with the vetting
each needs, and the record of every change (who, when, the old and the new value).

Each form posts to its own address and comes back here; each change goes through one service
in members/circle_settings.py, which checks it, writes it and audits it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from circle.errors import DomainError, NotFound
from circle.models import Circle
from circle.selectors import category_get, category_list
from members.circle_settings import (
    SETTINGS,
    category_add,
    category_change,
    circle_settings_change,
)
from members.selectors import settings_audit_list
from web.forms_settings import CategoryForm, RulesForm
from web.views.base import coordinator_required, form_error, render_page

# The labels the record of changes shows for each setting.
SETTING_LABELS = {field: label for field, (label, *_rest) in SETTINGS.items()}


def _rules_initial(circle: Circle) -> dict[str, Any]:
    return {
        # djmoney ships no stubs: mypy sees its fields as Decimal, not Money.
        "membership_fee": circle.membership_fee.amount,  # type: ignore[attr-defined]
        "token_price": circle.token_price.amount,  # type: ignore[attr-defined]
        **{
            field: getattr(circle, field)
            for field in SETTINGS
            if field not in ("membership_fee", "token_price")
        },
    }


def _page(
    request: HttpRequest,
    circle: Circle,
    *,
    rules_form: RulesForm | None = None,
    add_form: CategoryForm | None = None,
) -> HttpResponse:
    categories = list(category_list(circle=circle))
    return render_page(
        request,
        "web/coordinator/settings.html",
        {
            "circle": circle,
            "rules_form": rules_form or RulesForm(initial=_rules_initial(circle)),
            "add_form": add_form or CategoryForm(prefix="new", initial={"vetting_level": "basic"}),
            "categories": categories,
            "changes": [
                {"event": event, "what": _change_words(event.action, event.data)}
                for event in settings_audit_list(circle=circle)
            ],
        },
    )


def _change_words(action: str, data: dict[str, Any]) -> str:
    if action == "circle.setting_changed":
        label = SETTING_LABELS.get(data.get("field", ""), data.get("field", ""))
        return _("%(label)s changed from %(old)s to %(new)s") % {
            "label": label.capitalize(),
            "old": data.get("from"),
            "new": data.get("to"),
        }
    if action == "circle.category_added":
        return _("%(name)s added (vetting: %(level)s)") % {
            "name": data.get("name"),
            "level": data.get("vetting_level"),
        }
    field = _("name") if data.get("field") == "name" else _("vetting")
    return _("%(category)s: %(field)s changed from %(old)s to %(new)s") % {
        "category": data.get("category"),
        "field": field,
        "old": data.get("from"),
        "new": data.get("to"),
    }


@require_http_methods(["GET", "POST"])
@coordinator_required
def page(request: HttpRequest, circle: Circle) -> HttpResponse:
    if request.method != "POST":
        return _page(request, circle)
    form = RulesForm(request.POST)
    if form.is_valid():
        try:
            changed = circle_settings_change(
                circle=circle,
                caller=request.caller,  # type: ignore[attr-defined]
                changes=form.cleaned_data,
            )
        except DomainError as error:
            form_error(form, error)
        else:
            if changed:
                messages.success(request, _("The circle's prices and rules are saved."))
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("web:coordinator-settings", circle.slug)
    return _page(request, circle, rules_form=form)


@require_POST
@coordinator_required
def category_new(request: HttpRequest, circle: Circle) -> HttpResponse:
    form = CategoryForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            added = category_add(
                circle=circle,
                caller=request.caller,  # type: ignore[attr-defined]
                name=form.cleaned_data["name"],
                vetting_level=form.cleaned_data["vetting_level"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": added.name})
            return redirect("web:coordinator-settings", circle.slug)
    return _page(request, circle, add_form=form)


@require_http_methods(["GET", "POST"])
@coordinator_required
def category_edit(request: HttpRequest, circle: Circle, category_id: int) -> HttpResponse:
    try:
        category = category_get(circle=circle, category_id=category_id)
    except NotFound:
        raise Http404 from None
    if request.method == "POST":
        form = CategoryForm(request.POST)
        if form.is_valid():
            try:
                changed = category_change(
                    circle=circle,
                    caller=request.caller,  # type: ignore[attr-defined]
                    category=category,
                    name=form.cleaned_data["name"],
                    vetting_level=form.cleaned_data["vetting_level"],
                )
            except DomainError as error:
                form_error(form, error)
            else:
                if changed:
                    messages.success(request, _("%(name)s is saved.") % {"name": category.name})
                else:
                    messages.info(request, _("Nothing was changed."))
                return redirect("web:coordinator-settings", circle.slug)
    else:
        form = CategoryForm(
            initial={"name": category.name, "vetting_level": category.vetting_level}
        )
    return render_page(
        request,
        "web/coordinator/settings_category.html",
        {"circle": circle, "category": category, "form": form},
    )
