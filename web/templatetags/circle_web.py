"""Template filters for words and numbers as people say them, and the one tag that renders any
form field as its GOV.UK component (STYLE.md: one include per component, never hand-copied)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

import phonenumbers
from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.safestring import SafeString

from circle import words

register = template.Library()


@register.filter
def money(value: Any) -> str:
    return words.money(value)


@register.filter
def duration(minutes: int | None) -> str:
    return "" if minutes is None else words.duration(minutes)


@register.filter
def time_and_tokens(minutes: int | None, token_minutes: int) -> str:
    """{{ task.estimated_minutes|time_and_tokens:circle.token_minutes }}"""
    if minutes is None:
        return ""
    return words.time_and_tokens(minutes, token_minutes=token_minutes)


@register.filter
def tokens(minutes: int | None, token_minutes: int) -> str:
    return "" if minutes is None else words.tokens(minutes, token_minutes=token_minutes)


@register.filter
def moment(value: datetime | None) -> str:
    return "" if value is None else words.moment(value)


@register.filter
def day(value: Any) -> str:
    return "" if value is None else words.day(value, with_year=True)


@register.simple_tag
def window(start: datetime, end: datetime) -> str:
    return words.window(start, end)


@register.filter
def phone_display(e164: str) -> str:
    """+442079460000 → 020 7946 0000, as people write it; anything unparsable as it is."""
    if not e164:
        return ""
    return _national(e164)


@lru_cache(maxsize=8192)
def _national(e164: str) -> str:
    # Parsing and formatting take 0.2 ms a number; a list of callers shows 25 as the operator
    # types, mostly the same ones key after key.
    try:
        number = phonenumbers.parse(e164, "GB")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


@register.filter
def phone_href(e164: str) -> str:
    return f"tel:{e164}" if e164 else ""


def _kind(widget: forms.Widget) -> str:
    if isinstance(widget, forms.MultiWidget):
        return "date"
    # CheckboxSelectMultiple is a RadioSelect to Django, so it is asked about first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    return "input"


@register.inclusion_tag("web/forms/field.html")
def govuk_field(field: BoundField, heading: bool = False) -> dict[str, Any]:
    """Any Django form field as its GOV.UK component: label (or legend), hint, inline error,
    and the control. With `heading`, the label is the page's one heading (GOV.UK's pattern for
    a question page)."""
    widget = field.field.widget
    kind = _kind(widget)
    attrs = dict(widget.attrs)
    value = field.value()
    context: dict[str, Any] = {
        "field": field,
        "kind": kind,
        "id": field.auto_id,
        "name": field.html_name,
        "label": field.label,
        "hint": field.help_text,
        "error": field.errors[0] if field.errors else "",
        "heading": heading,
        "required": field.field.required,
        "width": attrs.pop("width", ""),
        "autocomplete": attrs.pop("autocomplete", ""),
        "inputmode": attrs.pop("inputmode", ""),
        "spellcheck": attrs.pop("spellcheck", ""),
        "autofocus": bool(attrs.pop("autofocus", False)),
        "type": getattr(widget, "input_type", "text"),
        "value": "" if value is None else value,
    }
    if kind in {"radios", "checkboxes", "select"}:
        chosen = value if isinstance(value, list | tuple) else [value]
        chosen_text = {str(v) for v in chosen if v not in (None, "")}
        choices = getattr(field.field, "choices", ())
        context["choices"] = [
            {
                "value": choice_value,
                "label": choice_label,
                "id": f"{field.auto_id}" if index == 0 else f"{field.auto_id}-{index}",
                "checked": str(choice_value) in chosen_text,
                "hint": getattr(field.field, "choice_hints", {}).get(str(choice_value), ""),
            }
            for index, (choice_value, choice_label) in enumerate(choices)
        ]
    if kind == "checkbox":
        context["checked"] = bool(value)
    if kind == "date":
        parts = value if isinstance(value, list | tuple) else widget.decompress(value)
        names = ("day", "month", "year")
        context["parts"] = [
            {
                "name": f"{field.html_name}_{name}",
                "id": field.auto_id if index == 0 else f"{field.auto_id}_{name}",
                "label": label,
                "value": parts[index] if parts and parts[index] is not None else "",
                "width": 4 if name == "year" else 2,
                "autocomplete": (f"bday-{name}" if attrs.get("bday") else ""),
            }
            for index, (name, label) in enumerate(zip(names, ("Day", "Month", "Year"), strict=True))
        ]
    return context


@register.inclusion_tag("web/components/error_summary.html")
def error_summary(*forms_: forms.Form) -> dict[str, Any]:
    """GOV.UK's error summary for one or more forms: each error links to its field."""
    errors: list[dict[str, str]] = []
    for form in forms_:
        if form is None or not form.is_bound:
            continue
        for message in form.non_field_errors():
            errors.append({"href": "", "text": str(message)})
        for field in form:
            if field.errors:
                errors.append({"href": f"#{field.auto_id}", "text": str(field.errors[0])})
    return {"errors": errors}


@register.simple_tag(takes_context=True)
def csp_nonce(context: template.Context) -> SafeString | str:
    request = context.get("request")
    return getattr(request, "csp_nonce", "") if request is not None else ""
