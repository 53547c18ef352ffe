"""The coordinators' reports: six charts of the circle's last months, each drawn on the server
as SVG (web/charts.py) with its figures in a table beside it and as a CSV download.

The figures come from each app's own selectors (members, tokens, matching, helpers), grouped by
the database; this page only arranges them, so it calls several selectors where other pages
call one: each report is one question to the app that owns its data. A CSV asks only its own.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from circle.models import Circle
from circle.periods import DEFAULT_MONTHS, PERIOD_MONTHS, ReportPeriod, report_period
from helpers.selectors import members_became_helpers_by_month
from matching.selectors import acceptance_waits_by_category, help_by_category, tasks_by_week
from members.selectors import members_by_status_monthly
from tokens.selectors import tokens_by_month
from web.charts import Chart, category_chart, time_chart
from web.views.base import coordinator_required, render_page


@dataclass
class Report:
    slug: str
    title: str
    summary: str
    chart: Chart | None
    headers: list[str]
    rows: list[list[str]]
    # The table's first column names a period (a month, a week) or a category.
    empty: str = ""

    @property
    def labelled_rows(self) -> list[list[tuple[str, str]]]:
        """Each cell with its column's name, which a phone shows beside it."""
        return [list(zip(self.headers, row, strict=True)) for row in self.rows]


def _month(day: date) -> str:
    return date_format(day, "F Y")


def _month_short(day: date) -> str:
    return date_format(day, "M Y")


def _week(day: date) -> str:
    return date_format(day, "j M Y")


def _week_short(day: date) -> str:
    return date_format(day, "j M")


def _tokens(minutes: int, circle: Circle) -> Decimal:
    return (Decimal(minutes) / circle.token_minutes).quantize(Decimal("0.01"))


def _hours(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"))


def members_report(circle: Circle, period: ReportPeriod) -> Report:
    months = members_by_status_monthly(circle=circle, period=period)
    names = [_("Pending"), _("Active"), _("Grace"), _("Lapsed")]
    series = list(
        zip(
            names,
            zip(*[(m.pending, m.active, m.grace, m.lapsed) for m in months], strict=True),
            strict=True,
        )
    )
    return Report(
        slug="members",
        title=_("Members by status, month by month"),
        summary=_(
            "How many members were pending (not paid), active, in their grace period or "
            "lapsed at the end of each month (this month: today)."
        ),
        chart=time_chart(
            chart_id="chart-members",
            title=_("Members by status, month by month"),
            labels=[_month_short(m.month) for m in months],
            series=series,
            unit=_("members"),
        ),
        headers=[_("Month"), *names],
        rows=[
            [_month(m.month), str(m.pending), str(m.active), str(m.grace), str(m.lapsed)]
            for m in months
        ],
    )


def tokens_report(circle: Circle, period: ReportPeriod) -> Report:
    months = tokens_by_month(circle=circle, period=period)
    names = [_("Bought"), _("Earned"), _("Spent"), _("Given")]
    values = [[_tokens(n, circle) for n in (m.bought, m.earned, m.spent, m.given)] for m in months]
    return Report(
        slug="tokens",
        title=_("Tokens bought, earned, spent and given, per month"),
        summary=_(
            "Tokens bought by members (less refunds), earned by volunteer helpers, spent on "
            "help (by volunteers and paid helpers) and given as gifts to members or the pot. "
            "Reversals count against what they undo."
        ),
        chart=time_chart(
            chart_id="chart-tokens",
            title=_("Tokens bought, earned, spent and given, per month"),
            labels=[_month_short(m.month) for m in months],
            series=[(name, [float(row[i]) for row in values]) for i, name in enumerate(names)],
            unit=_("tokens"),
            bars=True,
        ),
        headers=[_("Month"), *names],
        rows=[
            [_month(m.month), *(str(v) for v in row)] for m, row in zip(months, values, strict=True)
        ],
    )


def tasks_report(circle: Circle, period: ReportPeriod) -> Report:
    weeks = tasks_by_week(circle=circle, period=period)
    names = [_("Asked for"), _("Accepted"), _("Settled")]
    return Report(
        slug="tasks",
        title=_("Tasks asked for, accepted and settled, per week"),
        summary=_(
            "Requests for help booked each week, those a helper accepted that week, and those "
            "confirmed and paid for that week. Weeks start on Monday."
        ),
        chart=time_chart(
            chart_id="chart-tasks",
            title=_("Tasks asked for, accepted and settled, per week"),
            labels=[_week_short(w.week) for w in weeks],
            series=[
                (names[0], [w.asked for w in weeks]),
                (names[1], [w.accepted for w in weeks]),
                (names[2], [w.settled for w in weeks]),
            ],
            unit=_("tasks"),
        ),
        headers=[_("Week starting"), *names],
        rows=[[_week(w.week), str(w.asked), str(w.accepted), str(w.settled)] for w in weeks],
    )


def waits_report(circle: Circle, period: ReportPeriod) -> Report:
    waits = acceptance_waits_by_category(circle=circle, period=period)
    names = [_("Median"), _("90th percentile")]
    return Report(
        slug="waits",
        title=_("Time from asking to accepted, by kind of help"),
        summary=_(
            "For tasks a helper accepted in the period: how many hours half of them waited at "
            "most (the median), and how long nine in ten waited at most (the 90th percentile)."
        ),
        chart=category_chart(
            chart_id="chart-waits",
            title=_("Hours from asking to accepted, by kind of help"),
            categories=[w.category for w in waits],
            series=[
                (names[0], [w.median_seconds / 3600 for w in waits]),
                (names[1], [w.p90_seconds / 3600 for w in waits]),
            ],
            unit=_("hours"),
        )
        if waits
        else None,
        headers=[
            _("Kind of help"),
            _("Tasks accepted"),
            _("Median (hours)"),
            _("90th percentile (hours)"),
        ],
        rows=[
            [
                w.category,
                str(w.tasks),
                str(_hours(w.median_seconds / 3600)),
                str(_hours(w.p90_seconds / 3600)),
            ]
            for w in waits
        ],
        empty=_("No task was accepted in this period."),
    )


def help_report(circle: Circle, period: ReportPeriod) -> Report:
    rows = help_by_category(circle=circle, period=period)
    return Report(
        slug="help",
        title=_("Hours of help, by kind of help"),
        summary=_("The hours helpers reported on tasks confirmed in the period."),
        chart=category_chart(
            chart_id="chart-help",
            title=_("Hours of help, by kind of help"),
            categories=[row.category for row in rows],
            series=[(_("Hours"), [row.minutes / 60 for row in rows])],
            unit=_("hours"),
        ),
        headers=[_("Kind of help"), _("Tasks settled"), _("Hours")],
        rows=[[row.category, str(row.tasks), str(_hours(row.minutes / 60))] for row in rows],
    )


def helpers_report(circle: Circle, period: ReportPeriod) -> Report:
    months = members_became_helpers_by_month(circle=circle, period=period)
    return Report(
        slug="helpers",
        title=_("Members who became helpers"),
        summary=_(
            "Members who joined to be helped and then signed up to help others too, by the "
            "month they became helpers."
        ),
        chart=time_chart(
            chart_id="chart-helpers",
            title=_("Members who became helpers, per month"),
            labels=[_month_short(m.month) for m in months],
            series=[(_("Became helpers"), [m.helpers for m in months])],
            unit=_("members"),
            bars=True,
        ),
        headers=[_("Month"), _("Became helpers")],
        rows=[[_month(m.month), str(m.helpers)] for m in months],
    )


REPORTS: dict[str, Callable[[Circle, ReportPeriod], Report]] = {
    "members": members_report,
    "tokens": tokens_report,
    "tasks": tasks_report,
    "waits": waits_report,
    "help": help_report,
    "helpers": helpers_report,
}


def _period(request: HttpRequest) -> ReportPeriod:
    try:
        months = int(request.GET.get("months", DEFAULT_MONTHS))
    except ValueError:
        months = DEFAULT_MONTHS
    return report_period(months=months if months in PERIOD_MONTHS else DEFAULT_MONTHS)


@require_GET
@coordinator_required
def page(request: HttpRequest, circle: Circle) -> HttpResponse:
    period = _period(request)
    return render_page(
        request,
        "web/coordinator/reports.html",
        {
            "circle": circle,
            "period": period,
            "choices": [
                {"months": n, "label": _("The last %(n)s months") % {"n": n}} for n in PERIOD_MONTHS
            ],
            "reports": [build(circle, period) for build in REPORTS.values()],
        },
    )


@require_GET
@coordinator_required
def download(request: HttpRequest, circle: Circle, report: str) -> HttpResponse:
    build = REPORTS.get(report)
    if build is None:
        raise Http404
    period = _period(request)
    made = build(circle, period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{circle.slug}-{made.slug}-{period.months}-months.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(made.headers)
    writer.writerows([_cell(value) for value in row] for row in made.rows)
    return response


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run: a name starting like a formula gets a quote first
    (numbers, negative ones included, stay numbers)."""
    try:
        Decimal(value)
    except ArithmeticError:
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
    return value
