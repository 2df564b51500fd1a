"""Variable pay: the month's points per agent by kind, for leads (their agents) and admins
(everyone), as a page and as CSV and .xlsx downloads for the payroll's run."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.http import content_disposition_header
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.exports import XLSX_TYPE, Table, csv_bytes, xlsx_bytes
from performance.periods import PeriodKeyError
from performance.roles import is_team_lead
from performance.templatetags.metric_format import local_time
from performance.views.common import query_errors
from rewards import selectors
from rewards.selectors.payroll import kind_heading
from rewards.windows import Window, parse_month

# Team, external id and name lead every row; the points follow.
TEXT_COLUMNS = 3


class PayrollQuery(forms.Form):
    month = forms.CharField(required=False, max_length=20, label=_("Month"))

    def clean_month(self) -> Window:
        try:
            return parse_month(self.cleaned_data["month"], today=timezone.localdate())
        except PeriodKeyError as error:
            raise ValidationError(error.message) from None


def payroll_url(name: str, month: Window) -> str:
    return f"{reverse(name)}?{urlencode({'month': month.key})}"


def payroll_table(payroll: selectors.PayrollMonth) -> Table:
    return Table(
        title=gettext("Variable pay: %(month)s") % {"month": payroll.month.label},
        status=payroll.status,
        produced=gettext("Produced at %(time)s") % {"time": local_time(payroll.produced_at)},
        header=(
            gettext("Team"),
            gettext("External id"),
            gettext("Agent"),
            *(kind_heading(kind) for kind in selectors.PAYROLL_KINDS),
            gettext("Total"),
        ),
        rows=tuple(
            (
                row.team,
                row.external_id,
                row.name,
                *(row.points[kind] for kind in selectors.PAYROLL_KINDS),
                row.total,
            )
            for row in payroll.rows
        ),
        sheet_name=payroll.month.key,
    )


def _scope(request: HttpRequest):
    if not is_team_lead(request.user):
        raise Http404(gettext("Only team leads and admins export variable pay."))
    return selectors.payroll_agents_for(request.user)


def _bad_month(request: HttpRequest, query: PayrollQuery) -> HttpResponse:
    context = {"errors": query_errors(query), "fallback_url": reverse("rewards:payroll")}
    return render(request, "rewards/payroll.html", context, status=400)


@login_required
@require_GET
def payroll(request: HttpRequest) -> HttpResponse:
    agents = _scope(request)
    query = PayrollQuery(request.GET)
    if not query.is_valid():
        return _bad_month(request, query)
    month: Window = query.cleaned_data["month"]
    result = selectors.payroll_for(agents, month)
    previous_month, next_month = month.previous(), month.next()
    today = timezone.localdate()
    context: dict[str, Any] = {
        "payroll": result,
        "headings": [kind_heading(kind) for kind in selectors.PAYROLL_KINDS],
        "lines": [
            (row, [row.points[kind] for kind in selectors.PAYROLL_KINDS]) for row in result.rows
        ],
        "totals": [result.totals[kind] for kind in selectors.PAYROLL_KINDS],
        "csv_url": payroll_url("rewards:payroll-csv", month),
        "xlsx_url": payroll_url("rewards:payroll-xlsx", month),
        "previous_url": payroll_url("rewards:payroll", previous_month) if previous_month else "",
        "next_url": (
            payroll_url("rewards:payroll", next_month)
            if next_month and next_month.start <= today
            else ""
        ),
    }
    return render(request, "rewards/payroll.html", context)


@never_cache
@login_required
@require_GET
def payroll_download(request: HttpRequest, file_format: str) -> HttpResponse:
    """The page's table as a file: CSV in the reader's number format, or .xlsx."""
    agents = _scope(request)
    query = PayrollQuery(request.GET)
    if not query.is_valid():
        return _bad_month(request, query)
    month: Window = query.cleaned_data["month"]
    result = selectors.payroll_for(agents, month)
    table = payroll_table(result)
    name = pgettext("file name", "variable-pay-%(month)s") % {"month": month.key}
    if file_format == "csv":
        body = csv_bytes(table, decimal_separator=get_format("DECIMAL_SEPARATOR"))
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        filename = f"{name}.csv"
    else:
        body = xlsx_bytes(table, produced_at=result.produced_at, text_columns=TEXT_COLUMNS)
        response = HttpResponse(body, content_type=XLSX_TYPE)
        filename = f"{name}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
