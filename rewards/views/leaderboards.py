"""Leaderboards: a board per scope and window, the viewer's own standing, and the wall
board for the contact-centre TV. htmx swaps only the board; every link works without it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from performance.models import Team
from performance.periods import PeriodKeyError
from performance.roles import is_team_lead
from performance.views.common import htmx_swap, query_errors
from rewards import selectors
from rewards.models import Leaderboard
from rewards.windows import SPAN_CHOICES, Window, parse_window

# How long the wall board shows each board before the next.
WALLBOARD_SECONDS = 30


class BoardQuery(forms.Form):
    window = forms.ChoiceField(choices=SPAN_CHOICES, required=False, label=_("Window"))
    period = forms.CharField(required=False, max_length=12, label=_("Period"))
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label=_("My team"), label=_("Team")
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, label=_("Page"))

    def __init__(self, *args: Any, board: Leaderboard, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.board = board
        self.fields["team"].queryset = Team.objects.filter(pk__in=[team.pk for team in teams])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        span = cleaned.get("window") or self.board.default_window
        try:
            cleaned["resolved_window"] = parse_window(
                span, cleaned.get("period") or "", today=timezone.localdate()
            )
        except PeriodKeyError as error:
            raise ValidationError({"period": error.message}) from None
        return cleaned


def board_url(board: Leaderboard, window: Window, team: Team | None, page: int = 1) -> str:
    params = {"window": window.span.value}
    if window.key:
        params["period"] = window.key
    if team is not None:
        params["team"] = str(team.pk)
    if page > 1:
        params["page"] = str(page)
    return f"{reverse('rewards:leaderboard', args=[board.slug])}?{urlencode(params)}"


def _board_or_404(boards: list[Leaderboard], slug: str) -> Leaderboard:
    for board in boards:
        if board.slug == slug:
            return board
    raise Http404(gettext("No such leaderboard."))


@login_required
@require_GET
def leaderboard_index(request: HttpRequest) -> HttpResponse:
    board = selectors.leaderboards_visible_to(request.user).first()
    if board is None:
        return render(request, "rewards/leaderboard.html", {"boards": [], "view": None})
    return redirect("rewards:leaderboard", slug=board.slug)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    boards = list(selectors.leaderboards_visible_to(request.user))
    board = _board_or_404(boards, slug)
    teams = selectors.board_teams_for(request.user) if board.scope == board.Scope.TEAM else []
    query = BoardQuery(request.GET, board=board, teams=teams)
    partial = htmx_swap(request)
    template = "rewards/leaderboard.html#board" if partial else "rewards/leaderboard.html"
    context: dict[str, Any] = {"board": board, "boards": boards, "teams": teams}
    if not query.is_valid():
        context |= {
            "errors": query_errors(query),
            "fallback_url": reverse("rewards:leaderboard", args=[board.slug]),
        }
        return render(request, template, context, status=400)
    if board.scope == board.Scope.TEAM and not teams:
        raise Http404(gettext("You are in no team whose board you may open."))
    team = query.cleaned_data["team"] or (teams[0] if teams else None)
    window: Window = query.cleaned_data["resolved_window"]
    view = selectors.leaderboard_for(
        board, window, viewer=request.user, team=team, page=query.cleaned_data["page"] or 1
    )
    previous_window, next_window = window.previous(), window.next()
    today = timezone.localdate()
    context |= {
        "view": view,
        "team": team,
        "spans": [
            (value, label, board_url(board, parse_window(value, "", today=today), team))
            for value, label in SPAN_CHOICES
        ],
        "previous_url": board_url(board, previous_window, team) if previous_window else "",
        "next_url": (
            board_url(board, next_window, team)
            if next_window and next_window.start <= today
            else ""
        ),
        "current_url": board_url(board, parse_window(window.span, "", today=today), team),
        "is_current": window.contains(today),
        "previous_page_url": board_url(board, window, team, view.page - 1) if view.page > 1 else "",
        "next_page_url": board_url(board, window, team, view.page + 1)
        if view.page < view.pages
        else "",
        "sees_names": selectors.sees_names(request.user),
    }
    response = render(request, template, context)
    if partial:
        push_url(response, board_url(board, window, team, view.page))
    return response


@login_required
@require_GET
def wallboard(request: HttpRequest) -> HttpResponse:
    """Full screen, large type, one board at a time, each in turn; the page reloads itself
    (a meta refresh: no script, so a locked-down TV browser shows it too). Set up by a lead
    or an admin; it shows what an agent would see, since the room sees it."""
    if not is_team_lead(request.user):
        raise Http404(gettext("Only team leads and admins open the wall board."))
    boards = list(
        selectors.leaderboards_visible_to(request.user)
        .filter(on_wallboard=True, ranks__in=[Leaderboard.Ranks.AGENTS, Leaderboard.Ranks.TEAMS])
        .exclude(scope=Leaderboard.Scope.TEAM)
    )
    try:
        index = int(request.GET.get("board", "0")) % max(len(boards), 1)
    except ValueError:
        index = 0
    context: dict[str, Any] = {"view": None, "seconds": WALLBOARD_SECONDS}
    if boards:
        board = boards[index]
        window = parse_window(board.default_window, "", today=timezone.localdate())
        context |= {
            "view": selectors.wallboard_for(board, window),
            "next_url": f"{reverse('rewards:wallboard')}?board={(index + 1) % len(boards)}",
            "position": index + 1,
            "count": len(boards),
        }
    return render(request, "rewards/wallboard.html", context)
