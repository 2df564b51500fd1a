"""An agent's scorecard and the interactions behind each number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
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
from performance.metrics import METRICS, Column
from performance.models import (
    Agent,
    Evaluation,
    Interaction,
    ServiceStandard,
    StandardVersion,
)
from performance.periods import Period, PeriodKind, last_complete_period, period_containing
from performance.roles import is_team_lead
from performance.templatetags.metric_format import MISSING, format_duration
from performance.views.common import (
    INTERACTIONS_PER_PAGE,
    KIND_ORDER,
    PeriodKeyField,
    htmx_swap,
    query_errors,
    today_in,
)

# --- the agent's scorecard -----------------------------------------------------------------

# A period still under way is judged on the data so far: its outcome may change.
OUTCOMES_SO_FAR = {
    Evaluation.Outcome.EXCEEDED: _("Exceeded so far"),
    Evaluation.Outcome.MET: _("Met so far"),
    Evaluation.Outcome.MISSED: _("Missed so far"),
    Evaluation.Outcome.INSUFFICIENT_DATA: _("Insufficient data so far"),
}


def outcome_label(outcome: str, *, in_progress: bool) -> str:
    if in_progress:
        return str(OUTCOMES_SO_FAR[Evaluation.Outcome(outcome)])
    return str(Evaluation.Outcome(outcome).label)


class ScorecardQuery(forms.Form):
    # A day; a week or month key means its first day, as in the API.
    date = PeriodKeyField(required=False, label=_("Date"))

    def clean_date(self) -> date | None:
        period = self.cleaned_data["date"]
        return period.start if period is not None else None


@dataclass(frozen=True)
class StandardCard:
    """One standard on the scorecard: the row, the rule it was judged by, the chart data."""

    row: selectors.ScorecardRow
    target: float
    stretch_target: float | None
    threshold_seconds: int | None
    min_sample: int
    missed_penalty: int
    version_number: int
    version_since: date | None
    interactions_url: str
    chart: dict[str, Any]
    outcome_label: str


@dataclass(frozen=True)
class ScorecardSummary:
    standards: int
    passed: int
    missed: int
    insufficient: int
    not_evaluated: int
    points: int
    in_progress: int  # standards whose period is still under way


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
        missed_penalty=rule.points_missed_penalty,
        version_number=version.number if version else row.standard.version,
        version_since=version.effective_from if version else None,
        interactions_url=(
            reverse("evaluation-interactions", args=[evaluation.id]) if evaluation else ""
        ),
        chart=_trend_chart(agent, row),
        outcome_label=(
            outcome_label(evaluation.outcome, in_progress=row.in_progress) if evaluation else ""
        ),
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
        in_progress=sum(card.row.in_progress for card in cards),
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

    # Without a date, each standard opens on its last complete period.
    day: date | None = query.cleaned_data["date"]
    rows = selectors.agent_scorecard(agent, day=day, today=today)
    cards = [_standard_card(agent, row) for row in rows]
    step = _step_kind(rows)
    shown = period_containing(day, step) if day else last_complete_period(step, today=today)
    earlier, later = shown.previous(), shown.next()
    context.update(
        day=day or last_complete_period(PeriodKind.DAY, today=today).start,
        latest=day is None,
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


def _yes_no(value: bool, tone: str = "") -> FactCell:
    return FactCell(gettext("Yes") if value else gettext("No"), tone)


def fact_cell(column: Column, fact: Interaction, rule: StandardVersion) -> FactCell:
    """One cell of the rows behind a number, as the metric's column says to show it."""
    value = getattr(fact, column.field)
    if value is None or value == "":
        return FactCell(MISSING)
    match column.shows:
        case "duration":
            return FactCell(format_duration(value))
        case "number":
            return FactCell(number_format(Decimal(f"{value:g}")))
        case "flag":
            good_when = column.good_when
            return _yes_no(
                value, "" if good_when is None else ("good" if value is good_when else "bad")
            )
        case "within_threshold":
            within = value <= (rule.threshold_seconds or 0)
            return _yes_no(within, "good" if within else "bad")
        case "satisfied":
            return _yes_no(value >= 4, "good" if value >= 4 else "bad")
        case "nps_group":
            if value >= 9:
                return FactCell(gettext("Promoter"), "good")
            if value <= 6:
                return FactCell(gettext("Detractor"), "bad")
            return FactCell(gettext("Passive"))
        case _:
            return FactCell(str(value))


@login_required
@require_GET
@vary_on_headers("HX-Request")
def evaluation_interactions(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = evaluation_for_user_or_404(request.user, evaluation_id)
    metric = METRICS[evaluation.standard.metric]
    columns = metric.columns
    facts = Paginator(selectors.evaluation_interactions(evaluation), INTERACTIONS_PER_PAGE)
    page = facts.get_page(request.GET.get("page"))
    context = {
        "evaluation": evaluation,
        "agent": evaluation.agent,
        "metric": metric,
        "period": period_containing(evaluation.period_start, evaluation.standard.period),
        "how_computed": metric.explanation,
        "columns": columns,
        "page": page,
        "rows": [
            (fact, [(column, fact_cell(column, fact, evaluation.version)) for column in columns])
            for fact in page.object_list
        ],
        "scorecard_url": scorecard_url(evaluation.agent_id, evaluation.period_start),
        "query": "",
    }
    if htmx_swap(request):
        return render(request, "performance/evaluation_interactions.html#interactions", context)
    return render(request, "performance/evaluation_interactions.html", context)
