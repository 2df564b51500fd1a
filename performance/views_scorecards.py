"""Pages that explain judgements: an agent's scorecard, the interactions behind one number,
and the team heatmap of agents x standards for leads."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from performance import selectors
from performance.access import (
    agent_for_user_or_404,
    agents_visible_to,
    evaluation_for_user_or_404,
    teams_led_by,
)
from performance.metrics import METRICS
from performance.models import (
    Agent,
    Channel,
    Evaluation,
    Interaction,
    ServiceStandard,
    StandardVersion,
    Team,
)
from performance.periods import Period, PeriodKind, parse_period_key, period_containing
from performance.roles import is_admin, is_team_lead
from performance.templatetags.metric_format import MISSING, format_duration

INTERACTIONS_PER_PAGE = 50
# Periods outside this range have no data, and the trend and prev/next links of a period
# near date.min or date.max would overflow.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
KIND_CHOICES = [(PeriodKind.DAY, "Day"), (PeriodKind.WEEK, "Week"), (PeriodKind.MONTH, "Month")]
PERIOD_KEY_SHAPES = [
    (re.compile(r"\d{4}-\d{2}-\d{2}"), PeriodKind.DAY),
    (re.compile(r"\d{4}-W\d{1,2}"), PeriodKind.WEEK),
    (re.compile(r"\d{4}-\d{2}"), PeriodKind.MONTH),
]
KIND_ORDER = [PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.MONTH]
KIND_ADJECTIVES = {PeriodKind.DAY: "daily", PeriodKind.WEEK: "weekly", PeriodKind.MONTH: "monthly"}


def _htmx_swap(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page (a history restore wants it whole)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _today_in(zone_name: str) -> date:
    return timezone.localtime(timezone=ZoneInfo(zone_name)).date()


def _within_range(day: date) -> None:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise forms.ValidationError(
            f"Pick a date between {EARLIEST_DAY:%Y} and {LATEST_DAY:%Y}.", code="out_of_range"
        )


def _query_errors(form: forms.Form) -> list[str]:
    return [
        f"{form.fields[name].label or name}: {message}" if name != "__all__" else message
        for name, problems in form.errors.items()
        for message in problems
    ]


# --- the agent's scorecard -----------------------------------------------------------------


class ScorecardQuery(forms.Form):
    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        label="Date",
        error_messages={"invalid": "Use the form YYYY-MM-DD, e.g. 2026-10-28."},
    )

    def clean_date(self) -> date | None:
        day = self.cleaned_data["date"]
        if day is not None:
            _within_range(day)
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
            return f"{period.start:%d %b}"
        case PeriodKind.WEEK:
            return f"W{period.start.isocalendar()[1]}"
        case _:
            return f"{period.start:%b %Y}"


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
            "You have no scorecard of your own: your login is not set up as an agent.",
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
    today = _today_in(agent.team.time_zone)
    query = ScorecardQuery(request.GET)
    context: dict[str, Any] = {"agent": agent, "query": query, "today": today}
    if not query.is_valid():
        context["errors"] = _query_errors(query)
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
    label: str
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
        return FactCell("Yes" if value else "No", tone)

    return cell


def _number_of(field: str) -> Callable[[Interaction, StandardVersion], FactCell]:
    def cell(fact: Interaction, rule: StandardVersion) -> FactCell:
        value = getattr(fact, field)
        return FactCell(MISSING if value is None else f"{value:g}")

    return cell


def _within_threshold(fact: Interaction, rule: StandardVersion) -> FactCell:
    if fact.first_response_seconds is None:
        return FactCell(MISSING)
    within = fact.first_response_seconds <= (rule.threshold_seconds or 0)
    return FactCell("Yes" if within else "No", "good" if within else "bad")


def _satisfied(fact: Interaction, rule: StandardVersion) -> FactCell:
    if fact.csat is None:
        return FactCell(MISSING)
    return FactCell("Yes", "good") if fact.csat >= 4 else FactCell("No", "bad")


def _nps_group(fact: Interaction, rule: StandardVersion) -> FactCell:
    if fact.nps is None:
        return FactCell(MISSING)
    if fact.nps >= 9:
        return FactCell("Promoter", "good")
    if fact.nps <= 6:
        return FactCell("Detractor", "bad")
    return FactCell("Passive")


def _case(fact: Interaction, rule: StandardVersion) -> FactCell:
    return _plain(fact.case_id)


HANDLE = FactColumn("Handle time", _duration_of("handle_seconds"), numeric=True)
FIRST_RESPONSE = FactColumn("First response", _duration_of("first_response_seconds"), numeric=True)
CASE = FactColumn("Case", _case)

METRIC_COLUMNS: dict[str, list[FactColumn]] = {
    "aht": [HANDLE],
    "frt": [FIRST_RESPONSE],
    "asa": [FactColumn("Wait", _duration_of("wait_seconds"), numeric=True)],
    "sla": [FIRST_RESPONSE, FactColumn("Within threshold", _within_threshold)],
    "fcr": [
        CASE,
        FactColumn("Resolved on first contact", _flag("first_contact_resolution", good_when=True)),
    ],
    "csat": [
        FactColumn("CSAT (1-5)", _number_of("csat"), numeric=True),
        FactColumn("Satisfied (4-5)", _satisfied),
    ],
    "nps": [
        FactColumn("NPS (0-10)", _number_of("nps"), numeric=True),
        FactColumn("Group", _nps_group),
    ],
    "ces": [FactColumn("CES (1-7)", _number_of("ces"), numeric=True)],
    "qa": [FactColumn("QA score", _number_of("qa_score"), numeric=True)],
    "contacts_per_case": [CASE, FactColumn("Resolved", _flag("resolved"))],
    "transfer_rate": [FactColumn("Transferred", _flag("transferred", good_when=False))],
    "escalation_rate": [FactColumn("Escalated", _flag("escalated", good_when=False))],
    "abandonment_rate": [FactColumn("Abandoned", _flag("abandoned", good_when=False))],
    "volume": [HANDLE],
}

HOW_COMPUTED: dict[str, str] = {
    "aht": "The mean handle time of these interactions (abandoned contacts are left out).",
    "frt": "The mean first response time of these interactions.",
    "asa": "The mean time these contacts waited in the queue before being answered.",
    "sla": "The share of these interactions answered within the threshold.",
    "fcr": "The share of these interactions resolved on the first contact.",
    "csat": "The share of these survey responses that are 4 or 5.",
    "nps": "The share of promoters (9-10) minus the share of detractors (0-6).",
    "ces": "The mean customer effort score of these responses (lower is better).",
    "qa": "The mean quality score of these evaluations.",
    "contacts_per_case": "All interactions divided by the number of distinct resolved cases.",
    "transfer_rate": "The share of these interactions that were transferred.",
    "escalation_rate": "The share of these interactions that were escalated.",
    "abandonment_rate": "The share of these interactions that were abandoned.",
    "volume": "The number of these interactions.",
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
    if _htmx_swap(request):
        return render(request, "performance/evaluation_interactions.html#interactions", context)
    return render(request, "performance/evaluation_interactions.html", context)


# --- the team heatmap ----------------------------------------------------------------------


def period_from_key(key: str, kind: PeriodKind) -> Period:
    """The period of `kind` named by a key of any kind: 2026-W44 read as a month is the month
    its Monday falls in, so switching the kind keeps the place. Raises ValueError."""
    for shape, shape_kind in PERIOD_KEY_SHAPES:
        if shape.fullmatch(key):
            return period_containing(parse_period_key(key, shape_kind).start, kind)
    raise ValueError(key)


class HeatmapQuery(forms.Form):
    kind = forms.ChoiceField(choices=KIND_CHOICES, required=False, label="Period length")
    period = forms.CharField(required=False, max_length=10, label="Period")
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.all(),
        to_field_name="code",
        required=False,
        empty_label="All channels",
        label="Channel",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="All my teams", label="Team"
    )

    def __init__(self, *args: Any, teams: QuerySet[Team], every_team: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        if every_team:
            self.fields["team"].empty_label = "All teams"

    def clean_kind(self) -> PeriodKind:
        return PeriodKind(self.cleaned_data["kind"] or PeriodKind.WEEK)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        key = cleaned.get("period")
        kind = cleaned.get("kind")
        if key and kind:
            try:
                period = period_from_key(key, kind)
            except ValueError:
                self.add_error(
                    "period", "Use a day (2026-10-28), an ISO week (2026-W44) or a month (2026-10)."
                )
            else:
                try:
                    _within_range(period.start)
                except forms.ValidationError as error:
                    self.add_error("period", error)
                else:
                    cleaned["resolved_period"] = period
        return cleaned


def heatmap_url(*, kind: PeriodKind, period: Period, channel: str, team: Team | None) -> str:
    params = {"kind": kind.value, "period": period.key}
    if channel:
        params["channel"] = channel
    if team is not None:
        params["team"] = str(team.id)
    return f"{reverse('team-heatmap')}?{urlencode(params)}"


@login_required
@require_GET
@vary_on_headers("HX-Request")
def team_heatmap(request: HttpRequest) -> HttpResponse:
    if not is_team_lead(request.user):
        raise PermissionDenied("Only team leads and admins see the team heatmap.")
    led = teams_led_by(request.user)
    every_team = is_admin(request.user)
    query = HeatmapQuery(request.GET, teams=led, every_team=every_team)
    partial = _htmx_swap(request)
    template = "performance/heatmap.html#heatmap" if partial else "performance/heatmap.html"
    if not query.is_valid():
        context = {
            "errors": _query_errors(query),
            "fallback_url": reverse("team-heatmap"),
        }
        return render(request, template, context, status=400)

    led_teams = list(led)
    chosen: Team | None = query.cleaned_data["team"]
    teams = [chosen] if chosen is not None else led_teams
    kind: PeriodKind = query.cleaned_data["kind"]
    channel = query.cleaned_data["channel"].code if query.cleaned_data["channel"] else ""
    zone = teams[0].time_zone if len(teams) == 1 else timezone.get_current_timezone_name()
    today = _today_in(zone)
    latest = period_containing(today - timedelta(days=1), kind)
    period = query.cleaned_data.get("resolved_period") or latest

    heatmap = selectors.team_heatmap(teams, kind=kind, day=period.start, channel=channel)
    context = {
        "switches": HeatmapQuery(
            teams=led,
            every_team=every_team,
            initial={"kind": kind, "channel": channel, "team": chosen.id if chosen else None},
        ),
        "teams": teams,
        "several_teams": len(led_teams) > 1,
        "kind": kind,
        "kind_adjective": KIND_ADJECTIVES[kind],
        "channel": channel,
        "heatmap": heatmap,
        "rows": selectors.heatmap_cells(heatmap),
        "tallies": selectors.heatmap_tallies(heatmap),
        "previous_url": heatmap_url(
            kind=kind, period=period.previous(), channel=channel, team=chosen
        ),
        "next_url": (
            heatmap_url(kind=kind, period=period.next(), channel=channel, team=chosen)
            if period.next().start <= today
            else ""
        ),
        "latest_url": heatmap_url(kind=kind, period=latest, channel=channel, team=chosen),
        "is_latest": period == latest,
    }
    response = render(request, template, context)
    if partial:
        # The switches send the raw choices (a week key with kind=month, say): the address
        # bar gets the canonical one of what was rendered.
        push_url(response, heatmap_url(kind=kind, period=period, channel=channel, team=chosen))
    return response
