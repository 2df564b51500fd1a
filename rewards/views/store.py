"""The reward store: agents redeem items with spendable points and follow their
redemptions; leads and admins approve or reject them (the approvals queue)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from performance.roles import is_agent, is_team_lead
from performance.views.common import htmx_swap
from rewards import selectors
from rewards.models import Redemption
from rewards.services.store import (
    MAX_IDEMPOTENCY_KEY,
    IdempotencyKeyReused,
    redemption_approve,
    redemption_cancel,
    redemption_reject,
    redemption_request,
)

REDEMPTIONS_PER_PAGE = 25


class RedeemForm(forms.Form):
    item = forms.IntegerField(min_value=1, label=_("Item"))
    # Rendered with the page: a double click or a resubmitted form redeems once.
    idempotency_key = forms.CharField(max_length=MAX_IDEMPOTENCY_KEY, label=_("Request key"))


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The agent sees it; the points go back to them."),
    )


def _decide_and_say(request: HttpRequest, decide: Callable[[], object], success: str) -> None:
    """Run a decision service; flash its refusal, or `success` once it went through."""
    try:
        decide()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)


def _form_errors(form: forms.Form) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]


def _store_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    own_agent = request.user.agent if is_agent(request.user) else None
    balance = selectors.agent_balance(own_agent) if own_agent else None
    context: dict[str, Any] = {
        "offers": selectors.store_offers_for(
            request.user, spendable=balance.spendable if balance else None
        ),
        "balance": balance,
        "may_redeem": own_agent is not None,
        "request_key": uuid.uuid4().hex,
    }
    return render(request, "rewards/store.html", context, status=status)


@login_required
@require_GET
def store(request: HttpRequest) -> HttpResponse:
    if not (is_agent(request.user) or is_team_lead(request.user)):
        raise Http404(gettext("The store is for agents and their leads."))
    return _store_page(request)


@login_required
@require_POST
def redeem(request: HttpRequest) -> HttpResponse:
    if not is_agent(request.user):
        raise Http404(gettext("Only agents redeem points: you are not set up as an agent."))
    form = RedeemForm(request.POST)
    if not form.is_valid():
        for message in _form_errors(form):
            messages.error(request, message)
        return _store_page(request, status=400)
    try:
        outcome = redemption_request(
            agent=request.user.agent,
            item_id=form.cleaned_data["item"],
            requested_by=request.user,
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except IdempotencyKeyReused:
        messages.error(request, gettext("That form was already used: try again from the store."))
        return _store_page(request, status=409)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _store_page(request, status=400)
    if outcome.created:
        messages.success(
            request,
            gettext("%(item)s redeemed: %(cost)s points are held until your lead approves it.")
            % {"item": outcome.redemption.item, "cost": outcome.redemption.cost},
        )
    return redirect("rewards:my-redemptions")


@login_required
@require_GET
def my_redemptions(request: HttpRequest) -> HttpResponse:
    if not is_agent(request.user):
        raise Http404(gettext("You have no redemptions: you are not set up as an agent."))
    agent = request.user.agent
    page = Paginator(selectors.agent_redemptions(agent), REDEMPTIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    swap = htmx_swap(request) and request.htmx.target == "redemptions"
    template = "rewards/redemptions.html#redemptions" if swap else "rewards/redemptions.html"
    return render(request, template, {"page": page, "balance": selectors.agent_balance(agent)})


@login_required
@require_POST
def cancel_redemption(request: HttpRequest, redemption_id: int) -> HttpResponse:
    redemption = selectors.redemption_own_or_404(request.user, redemption_id)
    _decide_and_say(
        request,
        lambda: redemption_cancel(redemption=redemption, cancelled_by=request.user),
        gettext("%(item)s cancelled: %(cost)s points are yours to spend again.")
        % {"item": redemption.item, "cost": redemption.cost},
    )
    return redirect("rewards:my-redemptions")


def _approvals_page(
    request: HttpRequest, *, reject_forms: dict[int, RejectForm] | None = None, status: int = 200
) -> HttpResponse:
    pending = list(selectors.redemptions_awaiting(request.user))
    reject_forms = reject_forms or {}
    decided = Paginator(
        selectors.redemptions_decidable_by(request.user)
        .exclude(status=Redemption.Status.PENDING)
        .order_by("-decided_at", "-id"),
        REDEMPTIONS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    context = {
        "pending": [(r, reject_forms.get(r.pk) or RejectForm(prefix=str(r.pk))) for r in pending],
        "decided": decided,
    }
    swap = htmx_swap(request) and request.htmx.target == "decided"
    template = "rewards/approvals.html#decided" if swap else "rewards/approvals.html"
    return render(request, template, context, status=status)


@login_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    if not is_team_lead(request.user):
        raise Http404(gettext("Only team leads approve redemptions."))
    return _approvals_page(request)


@login_required
@require_POST
def approve_redemption(request: HttpRequest, redemption_id: int) -> HttpResponse:
    redemption = selectors.redemption_for_decision_or_404(request.user, redemption_id)
    _decide_and_say(
        request,
        lambda: redemption_approve(redemption=redemption, decided_by=request.user),
        gettext("Approved %(item)s for %(agent)s.")
        % {"item": redemption.item, "agent": redemption.agent.display_name},
    )
    return redirect("rewards:approvals")


@login_required
@require_POST
def reject_redemption(request: HttpRequest, redemption_id: int) -> HttpResponse:
    redemption = selectors.redemption_for_decision_or_404(request.user, redemption_id)
    form = RejectForm(request.POST, prefix=str(redemption.pk))
    if not form.is_valid():
        return _approvals_page(request, reject_forms={redemption.pk: form}, status=400)
    _decide_and_say(
        request,
        lambda: redemption_reject(
            redemption=redemption, decided_by=request.user, reason=form.cleaned_data["reason"]
        ),
        gettext("Rejected %(item)s for %(agent)s: the points went back to them.")
        % {"item": redemption.item, "agent": redemption.agent.display_name},
    )
    return redirect("rewards:approvals")
