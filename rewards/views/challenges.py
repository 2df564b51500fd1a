"""Challenges: the ones a person may see, live standings, and a lead's or admin's form to
start one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from performance.access import teams_led_by
from performance.forms import NativeDateInput
from performance.models import Channel, ServiceStandard, Team
from performance.roles import is_admin, is_agent, is_team_lead
from performance.views.common import htmx_swap
from rewards.models import CHALLENGE_METRIC_CHOICES, Badge, Challenge
from rewards.models.challenges import DEFAULT_GRACE_DAYS
from rewards.selectors.challenges import (
    challenge_for_user_or_404,
    challenge_standings,
    challenge_today,
    challenges_visible_to,
)
from rewards.services.challenges import MAX_PRIZES, ChallengeDraft, challenge_create


class ChallengeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    kind = forms.ChoiceField(label=_("Who competes"), choices=Challenge.Kind.choices)
    measure = forms.ChoiceField(label=_("Ranked on"), choices=Challenge.Measure.choices)
    metric = forms.ChoiceField(
        label=_("Metric"), choices=[("", "—"), *CHALLENGE_METRIC_CHOICES], required=False
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    minimum_sample = forms.IntegerField(
        label=_("Minimum sample"),
        min_value=1,
        max_value=100_000,
        initial=1,
        help_text=_("Metric: rows behind the number (e.g. 30 surveys); teams: active agents."),
    )
    target = forms.IntegerField(
        label=_("Exceeded periods to reach"),
        min_value=1,
        max_value=1_000,
        required=False,
        help_text=_("First to N: who first exceeds a standard in N closed periods wins."),
    )
    standard = forms.ModelChoiceField(
        label=_("Standard"),
        queryset=ServiceStandard.objects.none(),
        required=False,
        empty_label=_("Any standard"),
        help_text=_("First to N: only this standard's periods count."),
    )
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams taking part"), queryset=Team.objects.none()
    )
    starts_on = forms.DateField(label=_("First day"), widget=NativeDateInput())
    ends_on = forms.DateField(label=_("Last day"), widget=NativeDateInput())
    grace_days = forms.IntegerField(
        label=_("Grace days"),
        min_value=0,
        max_value=30,
        initial=DEFAULT_GRACE_DAYS,
        help_text=_("Late data still re-ranks it for these days after the end."),
    )
    prizes = forms.CharField(
        label=_("Prizes"),
        max_length=200,
        required=False,
        help_text=_(
            "Points for 1st, 2nd, 3rd ... place, separated by commas: 300, 200, 100 "
            "(0 where the badge alone is the prize)."
        ),
    )
    badge = forms.ModelChoiceField(
        label=_("Badge prize"),
        queryset=Badge.objects.none(),
        required=False,
        empty_label=_("No badge"),
        help_text=_("Badges of the criterion “a prize in a challenge”, set up by admins."),
    )
    badge_places = forms.IntegerField(
        label=_("Places that win the badge"),
        min_value=1,
        max_value=MAX_PRIZES,
        initial=1,
        required=False,
    )

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = (
            Team.objects.order_by("name") if is_admin(user) else teams_led_by(user).order_by("name")
        )
        self.fields["standard"].queryset = ServiceStandard.objects.order_by("name")
        self.fields["badge"].queryset = Badge.objects.filter(
            criterion=Badge.Criterion.CHALLENGE, active=True
        )
        self.fields["channel"].choices = [
            ("", _("All channels")),
            *Channel.objects.order_by("name").values_list("code", "name"),
        ]

    def clean_prizes(self) -> list[int]:
        raw = [part.strip() for part in self.cleaned_data["prizes"].split(",") if part.strip()]
        try:
            points = [int(part) for part in raw]
        except ValueError:
            raise ValidationError(_("Write whole numbers separated by commas.")) from None
        if len(points) > MAX_PRIZES or any(p < 0 or p > 100_000 for p in points):
            raise ValidationError(
                _("Give up to %(count)s prizes of 0 to 100,000 points.") % {"count": MAX_PRIZES}
            )
        return points

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "prizes" in cleaned and not cleaned["prizes"] and not cleaned.get("badge"):
            self.add_error("prizes", _("Give the points of at least one place, or a badge."))
        if cleaned.get("measure") == Challenge.Measure.FIRST_TO and not cleaned.get("target"):
            self.add_error("target", _("Give the number of exceeded periods to reach first."))
        return cleaned


def _may_create(user) -> bool:
    return is_team_lead(user)


@login_required
@require_GET
def challenge_list(request: HttpRequest) -> HttpResponse:
    if not (is_agent(request.user) or is_team_lead(request.user)):
        raise Http404(gettext("Challenges are for agents and their leads."))
    today = timezone.localdate()
    groups: dict[str, list[Challenge]] = {status: [] for status in Challenge.Status.values}
    for challenge in challenges_visible_to(request.user):
        groups[challenge.status_on(challenge_today(challenge))].append(challenge)
    context = {
        "groups": [
            (status, label, groups[status])
            for status, label in Challenge.Status.choices
            if groups[status]
        ],
        "may_create": _may_create(request.user),
        "today": today,
    }
    return render(request, "rewards/challenges.html", context)


@login_required
@require_GET
def challenge_detail(request: HttpRequest, challenge_id: int) -> HttpResponse:
    challenge = challenge_for_user_or_404(request.user, challenge_id)
    own_agent_id = request.user.agent.pk if is_agent(request.user) else None
    own_team_id = request.user.agent.team_id if is_agent(request.user) else None
    context = {
        "challenge": challenge,
        "status": challenge.status_on(challenge_today(challenge)),
        "standings": challenge_standings(challenge),
        "own_agent_id": own_agent_id,
        "own_team_id": own_team_id,
    }
    swap = htmx_swap(request) and request.htmx.target == "standings"
    template = "rewards/challenge.html#standings" if swap else "rewards/challenge.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def challenge_new(request: HttpRequest) -> HttpResponse:
    if not _may_create(request.user):
        raise Http404(gettext("Only team leads and admins start challenges."))
    form = ChallengeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            challenge = challenge_create(
                created_by=request.user,
                draft=ChallengeDraft(
                    name=data["name"],
                    description=data["description"],
                    kind=data["kind"],
                    measure=data["measure"],
                    metric=data["metric"],
                    channel=data["channel"],
                    minimum_sample=data["minimum_sample"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    grace_days=data["grace_days"],
                    teams=list(data["teams"]),
                    prizes=data["prizes"],
                    target=data["target"],
                    standard=data["standard"],
                    badge=data["badge"],
                    badge_places=data["badge_places"] or 1,
                ),
            )
        except ValidationError as error:
            for field, field_errors in error.message_dict.items():
                for message in field_errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, gettext("Challenge %(name)s created.") % {"name": challenge})
            return redirect("rewards:challenge", challenge_id=challenge.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "rewards/challenge_form.html", {"form": form}, status=status)
