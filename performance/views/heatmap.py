"""The team heatmap: agents x standards for one period, switched in place with htmx."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from performance import selectors
from performance.access import (
    agent_ids_visible_to,
    teams_led_by,
)
from performance.models import (
    Channel,
    Team,
)
from performance.periods import Period, PeriodKind, last_complete_period, period_containing
from performance.roles import is_admin, is_team_lead
from performance.templatetags.metric_format import channel_label
from performance.views.common import (
    KIND_ADJECTIVES,
    KIND_CHOICES,
    PeriodKeyField,
    htmx_swap,
    query_errors,
    today_in,
)

# --- the team heatmap ----------------------------------------------------------------------


class HeatmapQuery(forms.Form):
    kind = forms.ChoiceField(choices=KIND_CHOICES, required=False, label=_("Period length"))
    period = PeriodKeyField(required=False, label=_("Period"))
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=_("All channels"),
        label=_("Channel"),
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label=_("All my teams"), label=_("Team")
    )

    def __init__(self, *args: Any, teams: QuerySet[Team], every_team: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["channel"].label_from_instance = lambda channel: channel_label(channel.code)
        if every_team:
            self.fields["team"].empty_label = _("All teams")

    def clean_kind(self) -> PeriodKind:
        return PeriodKind(self.cleaned_data["kind"] or PeriodKind.WEEK)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        named = cleaned.get("period")
        kind = cleaned.get("kind")
        if named and kind:
            # Read as another kind, a key keeps its place: 2026-W44 as a month is the month
            # its Monday falls in.
            cleaned["resolved_period"] = period_containing(named.start, kind)
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
        raise PermissionDenied(_("Only team leads and admins see the team heatmap."))
    led = teams_led_by(request.user)
    every_team = is_admin(request.user)
    query = HeatmapQuery(request.GET, teams=led, every_team=every_team)
    partial = htmx_swap(request)
    template = "performance/heatmap.html#heatmap" if partial else "performance/heatmap.html"
    if not query.is_valid():
        context = {
            "errors": query_errors(query),
            "fallback_url": reverse("team-heatmap"),
        }
        return render(request, template, context, status=400)

    led_teams = list(led)
    chosen: Team | None = query.cleaned_data["team"]
    teams = [chosen] if chosen is not None else led_teams
    kind: PeriodKind = query.cleaned_data["kind"]
    channel = query.cleaned_data["channel"].code if query.cleaned_data["channel"] else ""
    zone = teams[0].time_zone if len(teams) == 1 else timezone.get_current_timezone_name()
    today = today_in(zone)
    latest = last_complete_period(kind, today=today)
    period = query.cleaned_data.get("resolved_period") or latest
    in_progress = not period.is_complete(today)

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
        # Agents who left the team since show with their results of then, but only a
        # viewer who may see them now (their current team's lead, an admin) opens them.
        "rows": selectors.heatmap_cells(
            heatmap,
            openable=agent_ids_visible_to(request.user, selectors.heatmap_moved_agent_ids(heatmap)),
        ),
        "in_progress": in_progress,
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
