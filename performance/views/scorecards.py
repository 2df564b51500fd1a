"""An agent's scorecard and the interactions behind each number."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from performance import selectors
from performance.access import (
    agent_for_user_or_404,
    agents_visible_to,
    evaluation_for_user_or_404,
)
from performance.metrics import METRICS
from performance.models import (
    Agent,
    Evaluation,
    Interaction,
    ServiceStandard,
    StandardVersion,
)
from performance.periods import Period, PeriodKind, period_containing
from performance.roles import is_team_lead
from performance.templatetags.metric_format import MISSING, format_duration
from performance.views.common import (
    INTERACTIONS_PER_PAGE,
    KIND_ORDER,
    htmx_swap,
    query_errors,
    today_in,
    within_range,
)

# --- the agent's scorecard -----------------------------------------------------------------


class ScorecardQuery(forms.Form):
    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        label=_("Date"),
        error_messages={"invalid": _("Use the form YYYY-MM-DD, e.g. 2026-10-28.")},
    )

    def clean_date(self) -> date | None:
        day = self.cleaned_data["date"]
        if day is not None:
            within_range(day)
        return day


@dataclass(frozen=True)
class StandardCard:
    """One standard on the scorecard: the row, the rule it was judged by, the chart data."""

    row: selectors.ScorecardRow
    target: float
    stretch_target: float | None
    threshold_seconds: int | None
    min_sample: int
    version_number: int
    version_since: date | None
    interactions_url: str
    chart: dict[str, Any]


@dataclass(frozen=True)
class ScorecardSummary:
    standards: int
    passed: int
    missed: int
    insufficient: int
    not_evaluated: int
    points: int


def scorecard_url(agent_id: int, day: date) -> str:
    return f"{reverse('agent-scorecard', args=[agent_id])}?{urlencode({'date': day.isoformat()})}"


def _short_label(period: Period) -> str:
    match period.kind:
        case PeriodKind.DAY:
            return date_format(period.start, pgettext("short day label on a chart", "d M"))
        case PeriodKind.WEEK:
            return gettext("W%(week)s") % {"week": period.start.isocalendar()[1]}
        case _:
            return date_format(period.start, pgettext("short month label on a chart", "M Y"))


def _rule_of(
    evaluation: Evaluation | None, row: selectors.ScorecardRow
) -> StandardVersion | ServiceStandard:
    """The rule a number was judged by: its evaluation's version, else the standard's own."""
    return evaluation.version if evaluation is not None else row.standard


def _trend_chart(agent: Agent, row: selectors.ScorecardRow) -> dict[str, Any]:
    points = []
    for period, evaluation in row.trend:
        rule = _rule_of(evaluation, row)
        points.append(
            {
                "label": _short_label(period),
                "title": period.label,
                "value": evaluation.value if evaluation else None,
                "outcome": evaluation.outcome if evaluation else None,
                "sample": evaluation.sample_size if evaluation else None,
                "target": rule.target,
                "stretch": rule.stretch_target,
                "url": scorecard_url(agent.id, period.start),
            }
        )
    return {
        "name": row.standard.name,
        "unit": row.metric.unit,
        "direction": row.metric.direction.value,
        "points": points,
        "has_history": any(point["value"] is not None for point in points),
    }


def _standard_card(agent: Agent, row: selectors.ScorecardRow) -> StandardCard:
    evaluation = row.evaluation
    rule = _rule_of(evaluation, row)
    version: StandardVersion | None = evaluation.version if evaluation else None
    return StandardCard(
        row=row,
        target=rule.target,
        stretch_target=rule.stretch_target,
        threshold_seconds=rule.threshold_seconds,
        min_sample=rule.min_sample,
        version_number=version.number if version else row.standard.version,
        version_since=version.effective_from if version else None,
        interactions_url=(
            reverse("evaluation-interactions", args=[evaluation.id]) if evaluation else ""
        ),
        chart=_trend_chart(agent, row),
    )


def _summary(cards: list[StandardCard]) -> ScorecardSummary:
    evaluations = [card.row.evaluation for card in cards if card.row.evaluation is not None]
    outcomes = [evaluation.outcome for evaluation in evaluations]
    return ScorecardSummary(
        standards=len(cards),
        passed=outcomes.count(Evaluation.Outcome.MET) + outcomes.count(Evaluation.Outcome.EXCEEDED),
        missed=outcomes.count(Evaluation.Outcome.MISSED),
        insufficient=outcomes.count(Evaluation.Outcome.INSUFFICIENT_DATA),
        not_evaluated=len(cards) - len(evaluations),
        points=sum(evaluation.points for evaluation in evaluations),
    )


def _step_kind(rows: list[selectors.ScorecardRow]) -> PeriodKind:
    """Previous/next move by the shortest period on the card, so no period is skipped."""
    kinds = {PeriodKind(row.standard.period) for row in rows}
    return next((kind for kind in KIND_ORDER if kind in kinds), PeriodKind.DAY)


@login_required
@require_GET
def my_scorecard(request: HttpRequest) -> HttpResponse:
    agent = agents_visible_to(request.user).filter(user=request.user).first()
    if agent is None:
        messages.info(
            request,
            gettext("You have no scorecard of your own: your login is not set up as an agent."),
        )
        return redirect("team-heatmap" if is_team_lead(request.user) else "home")
    url = reverse("agent-scorecard", args=[agent.id])
    if request.GET:
        url = f"{url}?{request.GET.urlencode()}"
    return redirect(url)


@login_required
@require_GET
def agent_scorecard(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent = agent_for_user_or_404(request.user, agent_id)
    today = today_in(agent.team.time_zone)
    query = ScorecardQuery(request.GET)
    context: dict[str, Any] = {"agent": agent, "query": query, "today": today}
    if not query.is_valid():
        context["errors"] = query_errors(query)
        context["fallback_url"] = reverse("agent-scorecard", args=[agent.id])
        return render(request, "performance/scorecard.html", context, status=400)

    day = query.cleaned_data["date"] or today - timedelta(days=1)
    rows = selectors.agent_scorecard(agent, day=day)
    cards = [_standard_card(agent, row) for row in rows]
    step = _step_kind(rows)
    shown = period_containing(day, step)
    earlier, later = shown.previous(), shown.next()
    context.update(
        day=day,
        cards=cards,
        summary=_summary(cards),
        step=step,
        previous_url=scorecard_url(agent.id, earlier.start),
        previous_period=earlier,
        next_url=scorecard_url(agent.id, later.start) if later.start <= today else "",
        next_period=later,
        is_own=agent.user_id == request.user.id,
        can_see_team=is_team_lead(request.user),
    )
    return render(request, "performance/scorecard.html", context)


# --- the interactions behind a number ------------------------------------------------------


@dataclass(frozen=True)
class FactCell:
    text: str
    tone: str = ""  # good, bad or blank: how the row counts toward the metric


@dataclass(frozen=True)
class FactColumn:
    label: str | Promise
    cell: Callable[[Interaction, StandardVersion], FactCell]
    numeric: bool = False


def _plain(value: object) -> FactCell:
    return FactCell(MISSING if value is None or value == "" else str(value))


def _duration_of(field: str) -> Callable[[Interaction, StandardVersion], FactCell]:
    def cell(fact: Interaction, rule: StandardVersion) -> FactCell:
        seconds = getattr(fact, field)
        return FactCell(MISSING if seconds is None else format_duration(seconds))

    return cell


def _flag(field: str, *, good_when: bool | None = None) -> Callable[..., FactCell]:
    def cell(fact: Interaction, rule: StandardVersion) -> FactCell:
        value = getattr(fact, field)
        if value is None:
            return FactCell(MISSING)
        tone = "" if good_when is None else ("good" if value is good_when else "bad")
        return FactCell(gettext("Yes") if value else gettext("No"), tone)

    return cell


def _number_of(field: str) -> Callable[[Interaction, StandardVersion], FactCell]:
    def cell(fact: Interaction, rule: StandardVersion) -> FactCell:
        value = getattr(fact, field)
        return FactCell(MISSING if value is None else number_format(Decimal(f"{value:g}")))

    return cell


def _within_threshold(fact: Interaction, rule: StandardVersion) -> FactCell:
    if fact.first_response_seconds is None:
        return FactCell(MISSING)
    within = fact.first_response_seconds <= (rule.threshold_seconds or 0)
    return FactCell(gettext("Yes") if within else gettext("No"), "good" if within else "bad")


def _satisfied(fact: Interaction, rule: StandardVersion) -> FactCell:
    if fact.csat is None:
        return FactCell(MISSING)
    return FactCell(gettext("Yes"), "good") if fact.csat >= 4 else FactCell(gettext("No"), "bad")


def _nps_group(fact: Interaction, rule: StandardVersion) -> FactCell:
    if fact.nps is None:
        return FactCell(MISSING)
    if fact.nps >= 9:
        return FactCell(gettext("Promoter"), "good")
    if fact.nps <= 6:
        return FactCell(gettext("Detractor"), "bad")
    return FactCell(gettext("Passive"))


def _case(fact: Interaction, rule: StandardVersion) -> FactCell:
    return _plain(fact.case_id)


HANDLE = FactColumn(_("Handle time"), _duration_of("handle_seconds"), numeric=True)
FIRST_RESPONSE = FactColumn(
    _("First response"), _duration_of("first_response_seconds"), numeric=True
)
CASE = FactColumn(_("Case"), _case)

METRIC_COLUMNS: dict[str, list[FactColumn]] = {
    "aht": [HANDLE],
    "frt": [FIRST_RESPONSE],
    "asa": [FactColumn(_("Wait"), _duration_of("wait_seconds"), numeric=True)],
    "sla": [FIRST_RESPONSE, FactColumn(_("Within threshold"), _within_threshold)],
    "fcr": [
        CASE,
        FactColumn(
            _("Resolved on first contact"), _flag("first_contact_resolution", good_when=True)
        ),
    ],
    "csat": [
        FactColumn(_("CSAT (1-5)"), _number_of("csat"), numeric=True),
        FactColumn(_("Satisfied (4-5)"), _satisfied),
    ],
    "nps": [
        FactColumn(_("NPS (0-10)"), _number_of("nps"), numeric=True),
        FactColumn(_("Group"), _nps_group),
    ],
    "ces": [FactColumn(_("CES (1-7)"), _number_of("ces"), numeric=True)],
    "qa": [FactColumn(_("QA score"), _number_of("qa_score"), numeric=True)],
    "contacts_per_case": [CASE, FactColumn(_("Resolved"), _flag("resolved"))],
    "transfer_rate": [FactColumn(_("Transferred"), _flag("transferred", good_when=False))],
    "escalation_rate": [FactColumn(_("Escalated"), _flag("escalated", good_when=False))],
    "abandonment_rate": [FactColumn(_("Abandoned"), _flag("abandoned", good_when=False))],
    "volume": [HANDLE],
}

HOW_COMPUTED: dict[str, Promise] = {
    "aht": _("The mean handle time of these interactions (abandoned contacts are left out)."),
    "frt": _("The mean first response time of these interactions."),
    "asa": _("The mean time these contacts waited in the queue before being answered."),
    "sla": _("The share of these interactions answered within the threshold."),
    "fcr": _("The share of these interactions resolved on the first contact."),
    "csat": _("The share of these survey responses that are 4 or 5."),
    "nps": _("The share of promoters (9-10) minus the share of detractors (0-6)."),
    "ces": _("The mean customer effort score of these responses (lower is better)."),
    "qa": _("The mean quality score of these evaluations."),
    "contacts_per_case": _("All interactions divided by the number of distinct resolved cases."),
    "transfer_rate": _("The share of these interactions that were transferred."),
    "escalation_rate": _("The share of these interactions that were escalated."),
    "abandonment_rate": _("The share of these interactions that were abandoned."),
    "volume": _("The number of these interactions."),
}


@login_required
@require_GET
@vary_on_headers("HX-Request")
def evaluation_interactions(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = evaluation_for_user_or_404(request.user, evaluation_id)
    metric = METRICS[evaluation.standard.metric]
    columns = METRIC_COLUMNS[metric.key]
    facts = Paginator(selectors.evaluation_interactions(evaluation), INTERACTIONS_PER_PAGE)
    page = facts.get_page(request.GET.get("page"))
    context = {
        "evaluation": evaluation,
        "agent": evaluation.agent,
        "metric": metric,
        "period": period_containing(evaluation.period_start, evaluation.standard.period),
        "how_computed": HOW_COMPUTED[metric.key],
        "columns": columns,
        "page": page,
        "rows": [
            (fact, [(column, column.cell(fact, evaluation.version)) for column in columns])
            for fact in page.object_list
        ],
        "scorecard_url": scorecard_url(evaluation.agent_id, evaluation.period_start),
        "query": "",
    }
    if htmx_swap(request):
        return render(request, "performance/evaluation_interactions.html#interactions", context)
    return render(request, "performance/evaluation_interactions.html", context)
