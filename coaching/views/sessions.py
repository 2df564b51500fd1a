"""Coaching session pages: a lead schedules sessions (from flags, one agent or back to back
for several), runs one (notes, outcome, action items, follow-up, held, moved, cancelled) and
reads whether coaching worked; the agent reads a held session, acknowledges it and ticks
their action items; both download the invitation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from coaching import selectors
from coaching.calendar import session_calendar
from coaching.models import ActionItem, CoachingFlag, CoachingSession
from coaching.models.sessions import (
    MAX_DURATION_MINUTES,
    MAX_EVERY_WEEKS,
    MIN_DURATION_MINUTES,
    TEXT_MAX_LENGTH,
)
from coaching.services.sessions import (
    action_item_add,
    action_item_set_done,
    series_create,
    series_stop,
    session_acknowledge,
    session_cancel,
    session_record,
    session_reschedule,
    session_schedule,
    sessions_schedule_back_to_back,
)
from coaching.views.common import add_errors, lead_or_404
from performance.forms import NativeDateInput, NativeTimeInput
from performance.roles import is_agent, is_team_lead
from performance.views.common import htmx_swap

SESSIONS_PER_PAGE = 30


class SessionTimeForm(forms.Form):
    """A day and a time in the agent's team zone, and a duration."""

    day = forms.DateField(label=_("Day"), widget=NativeDateInput())
    time = forms.TimeField(label=_("Time"), widget=NativeTimeInput())
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
        initial=30,
    )

    def starts_at(self, zone: ZoneInfo) -> datetime:
        return datetime.combine(self.cleaned_data["day"], self.cleaned_data["time"], tzinfo=zone)


class ScheduleForm(SessionTimeForm):
    agent = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("Choose…"), label=_("Agent")
    )
    flags = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Flags to work on"),
        help_text=_(
            "Their evidence fills the agenda. Several agents: one session each, back to back."
        ),
    )
    agenda = forms.CharField(
        label=_("Agenda"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Empty: the flags' evidence."),
    )
    every_weeks = forms.IntegerField(
        label=_("Repeat every (weeks)"),
        required=False,
        min_value=1,
        max_value=MAX_EVERY_WEEKS,
        help_text=_("For recurring one-to-ones with one agent; empty: once."),
    )
    ends_on = forms.DateField(label=_("Repeat until"), required=False, widget=NativeDateInput())

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agents = selectors.queue_agents(user)
        self.fields["agent"].queryset = agents
        self.fields["agent"].label_from_instance = lambda agent: (
            f"{agent.display_name} ({agent.team.name})"
        )
        self.fields["flags"].queryset = CoachingFlag.objects.select_related(
            "agent__user", "agent__team", "standard"
        ).filter(status=CoachingFlag.Status.OPEN, agent__in=agents.values("pk"))
        self.fields["flags"].label_from_instance = lambda flag: (
            f"{flag.agent.display_name}: {flag.standard.name}"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        agent, flags = data.get("agent"), list(data.get("flags") or [])
        if agent is None and not flags and "agent" not in self.errors:
            raise forms.ValidationError(_("Choose an agent, or flags to work on."))
        if agent is not None and any(flag.agent_id != agent.pk for flag in flags):
            self.add_error("flags", _("These flags are not all the chosen agent's."))
        if data.get("every_weeks") and (agent is None or flags):
            self.add_error(
                "every_weeks", _("A recurring one-to-one is with one agent, without flags.")
            )
        return data


class RecordForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What you talked about: the agent reads them."),
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    follow_up_on = forms.DateField(
        label=_("Follow-up on"),
        required=False,
        widget=NativeDateInput(),
        help_text=_("You are reminded that day."),
    )
    held = forms.BooleanField(label=_("The session was held"), required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why cancelled"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The agent reads it."),
    )


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(
        label=_("Your comment (optional)"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ActionItemForm(forms.Form):
    description = forms.CharField(label=_("To do"), max_length=300)
    owner = forms.ChoiceField(label=_("Owner"), choices=ActionItem.Owner.choices)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=NativeDateInput())


def _zone_of(agent) -> ZoneInfo:
    return ZoneInfo(agent.team.time_zone)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def session_list(request: HttpRequest) -> HttpResponse:
    if not is_team_lead(request.user) and is_agent(request.user):
        return redirect("coaching:me")
    lead_or_404(request)
    booked, others = selectors.lead_sessions(request.user)
    page = Paginator(others, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    template = "coaching/sessions.html#list" if htmx_swap(request) else "coaching/sessions.html"
    return render(request, template, {"booked": booked, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest) -> HttpResponse:
    lead_or_404(request)
    if request.method == "GET":
        initial: dict[str, Any] = {"flags": request.GET.getlist("flag")}
        if (agent_id := request.GET.get("agent", "")).isdigit():
            initial["agent"] = agent_id
        tomorrow = timezone.localdate() + timedelta(days=1)
        initial |= {"day": tomorrow, "time": "10:00", "duration_minutes": 30}
        form = ScheduleForm(user=request.user, initial=initial)
        return render(request, "coaching/session_new.html", {"form": form})
    form = ScheduleForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        flags = list(data["flags"])
        agents = {flag.agent_id for flag in flags}
        try:
            if data["every_weeks"]:
                series = series_create(
                    agent=data["agent"],
                    coach=request.user,
                    first_at=form.starts_at(_zone_of(data["agent"])),
                    every_weeks=data["every_weeks"],
                    duration_minutes=data["duration_minutes"],
                    ends_on=data["ends_on"],
                )
                created = list(series.sessions.order_by("scheduled_at"))
            elif data["agent"] is None and len(agents) > 1:
                zone = _zone_of(flags[0].agent)
                created = sessions_schedule_back_to_back(
                    flags=flags,
                    coach=request.user,
                    starts_at=form.starts_at(zone),
                    duration_minutes=data["duration_minutes"],
                )
            else:
                agent = data["agent"] or flags[0].agent
                created = [
                    session_schedule(
                        agent=agent,
                        coach=request.user,
                        scheduled_at=form.starts_at(_zone_of(agent)),
                        duration_minutes=data["duration_minutes"],
                        flags=flags,
                        agenda=data["agenda"] or None,
                    )
                ]
        except ValidationError as error:
            add_errors(form, error)
        else:
            if len(created) == 1 or (data["every_weeks"] and created):
                messages.success(
                    request,
                    gettext("Session with %(agent)s scheduled.")
                    % {"agent": created[0].agent.display_name},
                )
                return redirect("coaching:session", session_id=created[0].pk)
            messages.success(
                request, gettext("%(count)s sessions scheduled.") % {"count": len(created)}
            )
            return redirect("coaching:sessions")
    return render(request, "coaching/session_new.html", {"form": form}, status=400)


def _session_page(
    request: HttpRequest, session: CoachingSession, *, status: int = 200, **forms_given: Any
) -> HttpResponse:
    session = selectors.session_detail(session)
    runs = selectors.may_run(request.user, session)
    own = session.agent.user_id == request.user.pk
    zone = _zone_of(session.agent)
    local = timezone.localtime(session.scheduled_at, zone)
    writable = runs and session.status != CoachingSession.Status.CANCELLED
    context = {
        "session": session,
        "own": own,
        "runs": runs,
        "local_start": local,
        "zone": session.agent.team.time_zone,
        "flags": [
            (flag, selectors.flag_evidence(flag), flag.standard.metric_definition)
            for flag in session.flags.all()
        ],
        "effects": selectors.effects_of([session]).get(session.pk, []),
        "record_form": forms_given.get("record_form")
        or (
            RecordForm(
                initial={
                    "notes": session.notes,
                    "outcome": session.outcome,
                    "follow_up_on": session.follow_up_on,
                    "held": session.is_held,
                }
            )
            if writable and session.acknowledged_at is None
            else None
        ),
        "move_form": forms_given.get("move_form")
        or (
            SessionTimeForm(
                prefix="move",
                initial={
                    "day": local.date(),
                    "time": local.time().replace(second=0, microsecond=0),
                    "duration_minutes": session.duration_minutes,
                },
            )
            if runs and session.is_scheduled
            else None
        ),
        "cancel_form": forms_given.get("cancel_form")
        or (CancelForm(prefix="cancel") if runs and session.is_scheduled else None),
        "item_form": forms_given.get("item_form")
        or (ActionItemForm(prefix="item") if writable else None),
        "acknowledge_form": forms_given.get("acknowledge_form")
        or (AcknowledgeForm() if own and session.awaits_acknowledgement else None),
    }
    return render(request, "coaching/session.html", context, status=status)


def _runnable_or_404(request: HttpRequest, session_id: int) -> CoachingSession:
    session = selectors.session_for_user_or_404(request.user, session_id)
    if not selectors.may_run(request.user, session):
        raise Http404(gettext("Only a lead of the agent's team runs this session."))
    return session


@login_required
@require_GET
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    return _session_page(request, selectors.session_for_user_or_404(request.user, session_id))


def _act(
    request: HttpRequest,
    session: CoachingSession,
    form: forms.Form,
    form_name: str,
    action,
    success: str,
) -> HttpResponse:
    """Run a form's action on the session: redirect with the success message, or show the
    page again with the form's errors (400)."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, success)
            return redirect("coaching:session", session_id=session.pk)
    return _session_page(request, session, status=400, **{form_name: form})


@login_required
@require_POST
def session_record_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _runnable_or_404(request, session_id)
    return _act(
        request,
        session,
        RecordForm(request.POST),
        "record_form",
        lambda data: session_record(session=session, by=request.user, **data),
        gettext("Session record saved."),
    )


@login_required
@require_POST
def session_move_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _runnable_or_404(request, session_id)
    form = SessionTimeForm(request.POST, prefix="move")
    return _act(
        request,
        session,
        form,
        "move_form",
        lambda data: session_reschedule(
            session=session,
            scheduled_at=form.starts_at(_zone_of(session.agent)),
            duration_minutes=data["duration_minutes"],
            by=request.user,
        ),
        gettext("Session moved: the agent is told and the invitation updated."),
    )


@login_required
@require_POST
def session_cancel_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _runnable_or_404(request, session_id)
    return _act(
        request,
        session,
        CancelForm(request.POST, prefix="cancel"),
        "cancel_form",
        lambda data: session_cancel(session=session, reason=data["reason"], by=request.user),
        gettext("Session cancelled: the agent is told."),
    )


@login_required
@require_POST
def session_acknowledge_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.session_for_user_or_404(request.user, session_id)
    if session.agent.user_id != request.user.pk:
        raise Http404(gettext("Only the agent of a session acknowledges it."))
    return _act(
        request,
        session,
        AcknowledgeForm(request.POST),
        "acknowledge_form",
        lambda data: session_acknowledge(
            session=session, user=request.user, comment=data["comment"]
        ),
        gettext("Thank you: your coach sees that you have read it."),
    )


@login_required
@require_POST
def action_item_add_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _runnable_or_404(request, session_id)
    return _act(
        request,
        session,
        ActionItemForm(request.POST, prefix="item"),
        "item_form",
        lambda data: action_item_add(session=session, **data),
        gettext("Action item added."),
    )


@login_required
@require_POST
def action_item_done_view(request: HttpRequest, session_id: int, item_id: int) -> HttpResponse:
    """The coach ticks any item; the agent only those they own."""
    session = selectors.session_for_user_or_404(request.user, session_id)
    item = ActionItem.objects.filter(pk=item_id, session=session).first()
    runs = selectors.may_run(request.user, session)
    own = session.agent.user_id == request.user.pk and (
        item is not None and item.owner == ActionItem.Owner.AGENT
    )
    if item is None or not (runs or own):
        raise Http404(gettext("No such action item"))
    if session.status == CoachingSession.Status.CANCELLED:
        messages.error(request, gettext("This session was cancelled."))
    else:
        action_item_set_done(item=item, done=request.POST.get("done") == "1")
    return redirect("coaching:session", session_id=session.pk)


@login_required
@require_GET
def session_invitation(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.session_for_user_or_404(request.user, session_id)
    response = HttpResponse(session_calendar(session), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="coaching-session-{session.pk}.ics"'
    return response


@login_required
@require_GET
def effectiveness(request: HttpRequest) -> HttpResponse:
    lead_or_404(request)
    return render(
        request,
        "coaching/effectiveness.html",
        {"rollups": selectors.effectiveness_rollup(request.user)},
    )


@login_required
@require_POST
def series_stop_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _runnable_or_404(request, session_id)
    if session.series is None:
        raise Http404(gettext("This session is not part of a series."))
    try:
        cancelled = series_stop(series=session.series, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            gettext("Series stopped: %(count)s booked sessions cancelled.") % {"count": cancelled},
        )
    return redirect("coaching:session", session_id=session.pk)
