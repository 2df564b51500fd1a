"""Points pages: an agent's balances, provisional points and history; a lead's view of an
agent they lead, with manual adjustments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from performance.access import agent_for_user_or_404, agents_visible_to
from performance.models import Agent, Evaluation
from performance.roles import is_agent, is_team_lead
from performance.views.common import htmx_swap
from rewards import selectors
from rewards.models import SPENDING_KINDS, PointsEntry
from rewards.services.ledger import MANUAL_ADJUSTMENT_LIMIT, manual_adjustment_create

ENTRIES_PER_PAGE = 25
AGENTS_PER_PAGE = 50


class ManualAdjustmentForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-MANUAL_ADJUSTMENT_LIMIT,
        max_value=MANUAL_ADJUSTMENT_LIMIT,
        help_text=_("Negative to take points away."),
    )
    note = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the adjustment and shown to the agent."),
    )


def may_adjust(user, agent: Agent) -> bool:
    """Leads adjust the agents they lead (agent_for_user_or_404 has checked that), never
    their own points."""
    return is_team_lead(user) and agent.user_id != user.pk


def _evaluation_links(agent: Agent, entries: list[PointsEntry]) -> dict[int, str]:
    """entry id -> the interactions behind its evaluation, for the entries of a page."""
    wanted = {(e.standard_id, e.earned_on) for e in entries if e.standard_id}
    if not wanted:
        return {}
    found = {
        (standard_id, start): pk
        for pk, standard_id, start in Evaluation.objects.filter(
            agent=agent,
            standard_id__in={standard_id for standard_id, _ in wanted},
            period_start__in={start for _, start in wanted},
        ).values_list("pk", "standard_id", "period_start")
    }
    return {
        entry.pk: reverse("evaluation-interactions", args=[found[key]])
        for entry in entries
        if (key := (entry.standard_id, entry.earned_on)) in found
    }


def _points_page(
    request: HttpRequest, agent: Agent, form: ManualAdjustmentForm | None
) -> HttpResponse:
    page = Paginator(selectors.agent_history(agent), ENTRIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    entries = list(page.object_list)
    links = _evaluation_links(agent, entries)
    own = agent.user_id == request.user.pk
    redemptions = reverse("rewards:my-redemptions" if own else "rewards:approvals")
    links.update({entry.pk: redemptions for entry in entries if entry.kind in SPENDING_KINDS})
    for entry in entries:
        if entry.kind == PointsEntry.Kind.CHALLENGE_PRIZE:
            challenge_id = entry.reference.removeprefix("challenge:")
            if challenge_id.isdigit():
                links[entry.pk] = reverse("rewards:challenge", args=[int(challenge_id)])
        elif entry.kind == PointsEntry.Kind.TRAINING_COMPLETED:
            assignment_id = entry.reference.removeprefix("training:")
            if assignment_id.isdigit():
                links[entry.pk] = reverse("coaching:assignment", args=[int(assignment_id)])
        elif entry.kind == PointsEntry.Kind.BADGE:
            links[entry.pk] = "#badges"
    provisional = selectors.agent_provisional_points(agent)
    balance = selectors.agent_balance(agent)
    context: dict[str, Any] = {
        "agent": agent,
        "own": own,
        "balance": balance,
        "level": selectors.level_progress(balance.lifetime),
        "streaks": selectors.agent_streaks(agent),
        "badges": selectors.agent_badges(agent),
        "provisional": provisional,
        "provisional_total": sum(item.points for item in provisional),
        "page": page,
        "entries": [(entry, links.get(entry.pk)) for entry in entries],
        "form": form,
    }
    template = (
        "rewards/points.html#history"
        if htmx_swap(request) and request.htmx.target == "history"
        else "rewards/points.html"
    )
    return render(request, template, context)


@login_required
@require_GET
def team_points(request: HttpRequest) -> HttpResponse:
    """The balances of the agents a lead leads (an admin: everyone's), by team."""
    if not is_team_lead(request.user):
        raise Http404(gettext("Only team leads see their teams' points."))
    agents = selectors.agents_with_balances(
        agents_visible_to(request.user).filter(active=True).exclude(user=request.user)
    )
    page = Paginator(agents, AGENTS_PER_PAGE).get_page(request.GET.get("page"))
    swap = htmx_swap(request) and request.htmx.target == "agents"
    template = "rewards/team_points.html#agents" if swap else "rewards/team_points.html"
    return render(request, template, {"page": page})


@login_required
@require_GET
def adjustment_list(request: HttpRequest) -> HttpResponse:
    """Every manual adjustment of the agents a lead leads (an admin: everyone's)."""
    if not is_team_lead(request.user):
        raise Http404(gettext("Only team leads see their teams' adjustments."))
    entries = selectors.adjustments_of(agents_visible_to(request.user))
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    swap = htmx_swap(request) and request.htmx.target == "adjustments"
    template = "rewards/adjustments.html#adjustments" if swap else "rewards/adjustments.html"
    return render(request, template, {"page": page})


@login_required
@require_GET
def my_points(request: HttpRequest) -> HttpResponse:
    if not is_agent(request.user):
        raise Http404(gettext("You have no points of your own: you are not set up as an agent."))
    return _points_page(request, request.user.agent, None)


@login_required
@require_http_methods(["GET", "POST"])
def agent_points(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent = agent_for_user_or_404(request.user, agent_id)
    adjustable = may_adjust(request.user, agent)
    if request.method == "POST":
        if not adjustable:
            raise Http404(gettext("You cannot adjust this agent's points."))
        form = ManualAdjustmentForm(request.POST)
        if form.is_valid():
            try:
                entry = manual_adjustment_create(
                    agent=agent,
                    points=form.cleaned_data["points"],
                    note=form.cleaned_data["note"],
                    created_by=request.user,
                    earned_on=timezone.localdate(),
                )
            except ValidationError as error:
                for field, field_errors in error.message_dict.items():
                    for message in field_errors:
                        form.add_error(field, message)
            else:
                messages.success(
                    request,
                    gettext("%(points)+d points recorded for %(agent)s.")
                    % {"points": entry.points, "agent": agent.display_name},
                )
                return redirect("rewards:agent-points", agent_id=agent.pk)
        return _points_page(request, agent, form)
    return _points_page(request, agent, ManualAdjustmentForm() if adjustable else None)
