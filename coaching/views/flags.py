"""Coaching flag pages: a lead's queue (their teams' open flags by severity, filtered by team,
standard and agent; htmx swaps the table, the GET form works without it), a flag with its
evidence and the lead's resolve/dismiss, opening a flag by hand, and an agent's own open
flags framed as goals."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from coaching import selectors
from coaching.models import CoachingFlag
from coaching.selectors.quality import agent_reviews, reviews_visible_to
from coaching.services.flags import (
    NOTE_MAX_LENGTH,
    flag_dismiss,
    flag_open_by_hand,
    flag_resolve,
)
from coaching.views.common import add_errors, lead_or_404
from performance.models import Agent, ServiceStandard, Team
from performance.roles import is_agent
from performance.views.common import htmx_swap, query_errors

FLAGS_PER_PAGE = 50


class QueueQuery(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label=_("All my teams"), label=_("Team")
    )
    standard = forms.ModelChoiceField(
        queryset=ServiceStandard.objects.order_by("name"),
        required=False,
        empty_label=_("All standards"),
        label=_("Standard"),
    )
    agent = forms.ModelChoiceField(
        queryset=Agent.objects.none(), required=False, empty_label=_("All agents"), label=_("Agent")
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, label=_("Page"))

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agents = selectors.queue_agents(user)
        self.fields["agent"].queryset = agents
        self.fields["agent"].label_from_instance = lambda agent: agent.display_name
        self.fields["team"].queryset = Team.objects.filter(
            pk__in=agents.values("team_id")
        ).order_by("name")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the flag and shown to the agent."),
    )


class OpenFlagForm(forms.Form):
    agent = forms.ModelChoiceField(
        queryset=Agent.objects.none(), empty_label=_("Choose…"), label=_("Agent")
    )
    standard = forms.ModelChoiceField(
        queryset=ServiceStandard.objects.order_by("name"),
        empty_label=_("Choose…"),
        label=_("Standard"),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why coaching is needed: the agent reads it."),
    )

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = selectors.queue_agents(user)
        self.fields["agent"].label_from_instance = lambda agent: (
            f"{agent.display_name} ({agent.team.name})"
        )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def queue(request: HttpRequest) -> HttpResponse:
    lead_or_404(request)
    query = QueueQuery(request.GET, user=request.user)
    template = "coaching/queue.html#flags" if htmx_swap(request) else "coaching/queue.html"
    context: dict[str, Any] = {"query": query}
    if not query.is_valid():
        context["errors"] = query_errors(query)
        return render(request, template, context, status=400)
    data = query.cleaned_data
    flags = selectors.coaching_queue(
        request.user,
        team_id=data["team"].pk if data["team"] else None,
        standard_id=data["standard"].pk if data["standard"] else None,
        agent_id=data["agent"].pk if data["agent"] else None,
    )
    page = Paginator(flags, FLAGS_PER_PAGE).get_page(data["page"])
    filters = request.GET.copy()
    filters.pop("page", None)
    context |= {"page": page, "filters": filters.urlencode()}
    return render(request, template, context)


def _flag_page(
    request: HttpRequest,
    flag: CoachingFlag,
    *,
    resolve_form: ReasonForm | None = None,
    dismiss_form: ReasonForm | None = None,
    errors: list[str] = (),
    status: int = 200,
) -> HttpResponse:
    actionable = flag.is_open and selectors.may_act_on(request.user, flag)
    context = {
        "flag": flag,
        "own": flag.agent.user_id == request.user.pk,
        "goal": selectors.flag_goal(flag.standard),
        "metric": flag.standard.metric_definition,
        "evidence": selectors.flag_evidence(flag),
        "sessions": selectors.flag_sessions(request.user, flag),
        "errors": list(errors),
        "resolve_form": (resolve_form or ReasonForm(prefix="resolve")) if actionable else None,
        "dismiss_form": (dismiss_form or ReasonForm(prefix="dismiss")) if actionable else None,
    }
    return render(request, "coaching/flag.html", context, status=status)


@login_required
@require_GET
def flag_detail(request: HttpRequest, flag_id: int) -> HttpResponse:
    return _flag_page(request, selectors.flag_for_user_or_404(request.user, flag_id))


def _close(request: HttpRequest, flag_id: int, *, dismiss: bool) -> HttpResponse:
    flag = selectors.flag_for_user_or_404(request.user, flag_id)
    if not selectors.may_act_on(request.user, flag):
        raise Http404(gettext("You cannot close this flag."))
    prefix = "dismiss" if dismiss else "resolve"
    form = ReasonForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            if dismiss:
                flag_dismiss(
                    flag=flag, dismissed_by=request.user, reason=form.cleaned_data["reason"]
                )
            else:
                flag_resolve(
                    flag=flag, resolved_by=request.user, reason=form.cleaned_data["reason"]
                )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                (
                    gettext("Flag on %(standard)s for %(agent)s dismissed.")
                    if dismiss
                    else gettext("Flag on %(standard)s for %(agent)s resolved.")
                )
                % {"standard": flag.standard.name, "agent": flag.agent.display_name},
            )
            return redirect("coaching:queue")
    forms_by_kind = {"dismiss_form" if dismiss else "resolve_form": form}
    return _flag_page(request, flag, errors=form.non_field_errors(), status=400, **forms_by_kind)


@login_required
@require_POST
def flag_resolve_view(request: HttpRequest, flag_id: int) -> HttpResponse:
    return _close(request, flag_id, dismiss=False)


@login_required
@require_POST
def flag_dismiss_view(request: HttpRequest, flag_id: int) -> HttpResponse:
    return _close(request, flag_id, dismiss=True)


@login_required
@require_http_methods(["GET", "POST"])
def flag_open(request: HttpRequest) -> HttpResponse:
    lead_or_404(request)
    if request.method == "POST":
        form = OpenFlagForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                flag = flag_open_by_hand(
                    agent=form.cleaned_data["agent"],
                    standard=form.cleaned_data["standard"],
                    opened_by=request.user,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(
                    request,
                    gettext("Flag on %(standard)s opened for %(agent)s.")
                    % {"standard": flag.standard.name, "agent": flag.agent.display_name},
                )
                return redirect("coaching:flag", flag_id=flag.pk)
        return render(request, "coaching/flag_open.html", {"form": form}, status=400)
    initial = {}
    if (agent_id := request.GET.get("agent", "")).isdigit():
        initial["agent"] = agent_id
    if (review_id := request.GET.get("review", "")).isdigit():
        initial |= _from_review(request, int(review_id))
    form = OpenFlagForm(user=request.user, initial=initial)
    return render(request, "coaching/flag_open.html", {"form": form})


def _from_review(request: HttpRequest, review_id: int) -> dict[str, Any]:
    """A flag opened from a QA review: its agent, a quality standard, a note naming it."""
    review = reviews_visible_to(request.user).filter(pk=review_id, status="finished").first()
    if review is None:
        return {}
    standard = ServiceStandard.objects.filter(metric="qa").order_by("-active_from", "name").first()
    note = gettext("From the QA review of %(interaction)s (%(form)s): score %(score)s.") % {
        "interaction": review.interaction.external_id,
        "form": review.version.form.name,
        "score": floatformat(review.score, "-2"),
    }
    return {"agent": review.agent_id, "standard": standard.pk if standard else None, "note": note}


@login_required
@require_GET
def my_coaching(request: HttpRequest) -> HttpResponse:
    if not is_agent(request.user):
        raise Http404(gettext("You have no coaching of your own: you are not set up as an agent."))
    agent = request.user.agent
    return render(
        request,
        "coaching/me.html",
        {
            "goals": selectors.agent_goals(agent),
            "sessions": selectors.agent_sessions(agent),
            "training": selectors.agent_training(agent),
            "reviews_to_acknowledge": agent_reviews(agent)
            .filter(acknowledged_at__isnull=True)
            .count(),
        },
    )
