"""Reads of the leaderboards: boards ranked from the kept totals, the wall board, and the
totals' own check against the ledger."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone

from performance.access import teams_led_by
from performance.models import Agent, Evaluation, Team
from performance.roles import is_agent, is_team_lead
from performance.selectors import local_today_resolver
from rewards import board_cache
from rewards.models import (
    SPENDING_KINDS,
    Leaderboard,
    PointsEntry,
    PointsTotal,
)
from rewards.services.totals import totals_expected
from rewards.windows import Span, Window, window_containing


@dataclass(frozen=True)
class BoardRow:
    rank: int
    points: int
    name: str  # "" when anonymised for the viewer
    team_name: str
    agent_id: int | None = None
    team_id: int | None = None
    is_viewer: bool = False
    provisional: int = 0
    active_agents: int = 0


@dataclass(frozen=True)
class OwnStanding:
    rank: int
    points: int
    gap_to_next: int | None  # points to the next rank up; None at the top
    on_page: bool
    neighbours: list[BoardRow]  # the rows around the viewer when off the page


@dataclass(frozen=True)
class BoardView:
    board: Leaderboard
    window: Window
    team: Team | None
    rows: list[BoardRow]
    ranked: int  # agents (or teams) with points in the window
    page: int
    pages: int
    own: OwnStanding | None
    names_hidden: bool  # others are anonymised for this viewer
    provisional_shown: bool
    unranked_teams: list[BoardRow] = field(default_factory=list)


def sees_names(user: AbstractBaseUser) -> bool:
    """Leads and admins always see names; an agent sees what the board's privacy allows."""
    return is_team_lead(user)


def leaderboards_visible_to(user: AbstractBaseUser) -> QuerySet[Leaderboard]:
    boards = Leaderboard.objects.filter(active=True)
    if is_team_lead(user) or is_agent(user):
        return boards
    return boards.none()


def board_teams_for(user: AbstractBaseUser) -> list[Team]:
    """The teams whose board the user may open: those they lead, and their own."""
    teams = {team.pk: team for team in teams_led_by(user)}
    if is_agent(user):
        teams.setdefault(user.agent.team_id, user.agent.team)
    return sorted(teams.values(), key=lambda team: team.name)


def _totals(board: Leaderboard, window: Window, team_id: int | None) -> QuerySet[PointsTotal]:
    totals = PointsTotal.objects.filter(
        span=window.span.value,
        starts_on=window.start,
        channel=board.board_channel,
        agent__active=True,
    ).exclude(points=0)
    if team_id is not None:
        totals = totals.filter(agent__team_id=team_id)
    return totals


def _rank_of(totals: QuerySet[PointsTotal], points: int) -> int:
    return totals.filter(points__gt=points).count() + 1


def _ranked_rows(
    values: list[dict], first_rank: int, viewer_agent_id: int | None, *, position: int = 1
) -> list[BoardRow]:
    """Rows in board order from `position` (1-based) on, the first ranked `first_rank`:
    ties share a rank, the next rank skips (1, 2, 2, 4)."""
    rows: list[BoardRow] = []
    for index, row in enumerate(values):
        if not rows:
            rank = first_rank
        elif rows[-1].points == row["points"]:
            rank = rows[-1].rank
        else:
            rank = position + index
        rows.append(
            BoardRow(
                rank=rank,
                points=row["points"],
                name=_person_name(row),
                team_name=row["agent__team__name"],
                agent_id=row["agent_id"],
                team_id=row["agent__team_id"],
                is_viewer=row["agent_id"] == viewer_agent_id,
            )
        )
    return rows


ROW_FIELDS = (
    "agent_id",
    "points",
    "agent__user__first_name",
    "agent__user__last_name",
    "agent__user__username",
    "agent__team_id",
    "agent__team__name",
)


def _full_name(first: str, last: str, username: str) -> str:
    """Agent.display_name, from the user's columns."""
    return f"{first} {last}".strip() or username


def _person_name(row: dict) -> str:
    return _full_name(
        row["agent__user__first_name"], row["agent__user__last_name"], row["agent__user__username"]
    )


# Every viewer of a board reads the same names: kept this long, so a rename or a move to
# another team shows on the boards within a minute.
LABEL_SECONDS = 60


@dataclass(frozen=True)
class AgentLabel:
    name: str
    team_id: int
    team_name: str


def _agent_labels(agent_ids: list[int]) -> dict[int, AgentLabel]:
    """The name and team shown for each agent on a board, from the cache (one round trip)
    and, for those it lacks, one query."""
    keys = {agent_id: f"rewards:board-label:{agent_id}" for agent_id in agent_ids}
    cached = cache.get_many(keys.values())
    labels = {agent_id: cached[key] for agent_id, key in keys.items() if key in cached}
    missing = [agent_id for agent_id in agent_ids if agent_id not in labels]
    if missing:
        fresh = {
            agent_id: AgentLabel(_full_name(first, last, username), team_id, team_name)
            for agent_id, first, last, username, team_id, team_name in Agent.objects.filter(
                pk__in=missing
            ).values_list(
                "pk",
                "user__first_name",
                "user__last_name",
                "user__username",
                "team_id",
                "team__name",
            )
        }
        cache.set_many({keys[agent_id]: label for agent_id, label in fresh.items()}, LABEL_SECONDS)
        labels |= fresh
    return labels


def _provisional_by_agent(
    board: Leaderboard, window: Window, agent_ids: list[int]
) -> dict[int, int]:
    """Points of periods under way in the window, per agent: never in the totals."""
    if not agent_ids:
        return {}
    rows = Evaluation.objects.filter(
        agent_id__in=agent_ids,
        period_start__gte=window.start,
        period_start__lt=window.end,
        period_end__gt=timezone.now().date() - timedelta(days=2),
    ).exclude(points=0)
    if board.board_channel:
        rows = rows.filter(standard__channel=board.board_channel)
    values = list(rows.values_list("agent_id", "period_start", "period_end", "points"))
    if not values:
        return {}
    today = local_today_resolver({agent_id for agent_id, *_ in values})
    provisional: dict[int, int] = {}
    for agent_id, start, end, points in values:
        if end > today(agent_id, start):
            provisional[agent_id] = provisional.get(agent_id, 0) + points
    return provisional


def _anonymised(rows: list[BoardRow]) -> list[BoardRow]:
    return [row if row.is_viewer else replace(row, name="", agent_id=None) for row in rows]


def _own_standing(
    totals: QuerySet[PointsTotal], agent: Agent, rows: list[BoardRow], *, neighbours: int
) -> OwnStanding:
    mine = totals.filter(agent=agent).values_list("points", flat=True).first() or 0
    ahead = totals.filter(points__gt=mine).aggregate(count=Count("id"), next_up=Min("points"))
    rank = ahead["count"] + 1
    gap = ahead["next_up"] - mine if ahead["next_up"] is not None else None
    on_page = any(row.agent_id == agent.pk for row in rows)
    around: list[BoardRow] = []
    if not on_page and neighbours:
        above = list(
            totals.filter(Q(points__gt=mine) | Q(points=mine, agent_id__lt=agent.pk))
            .order_by("points", "-agent_id")
            .values(*ROW_FIELDS)[:neighbours]
        )[::-1]
        below = list(
            totals.filter(Q(points__lt=mine) | Q(points=mine, agent_id__gt=agent.pk))
            .order_by("-points", "agent_id")
            .values(*ROW_FIELDS)[:neighbours]
        )
        for row in above:
            around.append(_ranked_rows([row], _rank_of(totals, row["points"]), agent.pk)[0])
        around.append(
            BoardRow(
                rank=rank,
                points=mine,
                name=agent.display_name,
                team_name=agent.team.name,
                agent_id=agent.pk,
                team_id=agent.team_id,
                is_viewer=True,
            )
        )
        for row in below:
            around.append(_ranked_rows([row], _rank_of(totals, row["points"]), agent.pk)[0])
    return OwnStanding(rank, mine, gap, on_page, around)


def _cached_board(
    board: Leaderboard,
    window: Window,
    totals: QuerySet[PointsTotal],
    team: Team | None,
    page: int,
    per_page: int,
    paged: bool,
    viewer_agent: Agent | None,
    neighbours: int,
) -> tuple[int, list[BoardRow], OwnStanding | None, int, int]:
    """The board from the Redis sorted set, and the names of the agents shown."""

    def fetch(offset: int) -> board_cache.Ranking:
        return board_cache.ranking(
            span=window.span.value,
            start=window.start,
            channel=board.board_channel,
            team_id=team.pk if team else None,
            load=lambda: list(totals.values_list("agent_id", "points")),
            offset=offset,
            limit=per_page,
            viewer_agent_id=viewer_agent.pk if viewer_agent else None,
            neighbours=neighbours,
        )

    found = fetch((max(page, 1) - 1) * per_page)
    pages = max(1, -(-found.ranked // per_page)) if paged else 1
    if min(max(page, 1), pages) != max(page, 1):
        page = pages
        found = fetch((page - 1) * per_page)
    page = max(page, 1)
    shown = [agent_id for agent_id, _ in found.page] + [
        agent_id for agent_id, *_ in found.above + found.below
    ]
    labels = _agent_labels(shown)
    viewer_id = viewer_agent.pk if viewer_agent else None

    def row(agent_id: int, points: int, rank: int) -> BoardRow:
        label = labels[agent_id]
        return BoardRow(
            rank=rank,
            points=points,
            name=label.name,
            team_name=label.team_name,
            agent_id=agent_id,
            team_id=label.team_id,
            is_viewer=agent_id == viewer_id,
        )

    rows: list[BoardRow] = []
    position = (page - 1) * per_page + 1
    for index, (agent_id, points) in enumerate(found.page):
        if not rows:
            rank = found.first_rank
        elif rows[-1].points == points:
            rank = rows[-1].rank
        else:
            rank = position + index
        rows.append(row(agent_id, points, rank))
    own = None
    if viewer_agent is not None:
        on_page = any(r.agent_id == viewer_id for r in rows)
        around: list[BoardRow] = []
        if not on_page and neighbours:
            around = [row(*item) for item in found.above]
            around.append(
                BoardRow(
                    rank=found.own_rank,
                    points=found.own_points,
                    name=viewer_agent.display_name,
                    team_name=viewer_agent.team.name,
                    agent_id=viewer_id,
                    team_id=viewer_agent.team_id,
                    is_viewer=True,
                )
            )
            around += [row(*item) for item in found.below]
        own = OwnStanding(found.own_rank, found.own_points, found.gap_to_next, on_page, around)
    return found.ranked, rows, own, page, pages


def leaderboard_for(
    board: Leaderboard,
    window: Window,
    *,
    viewer: AbstractBaseUser,
    team: Team | None = None,
    page: int = 1,
) -> BoardView:
    """One page of a board for a viewer (team: the team of a team board, which the caller
    has checked the viewer may open)."""
    viewer_agent = viewer.agent if is_agent(viewer) else None
    if board.ranks == Leaderboard.Ranks.TEAMS:
        return _team_board(
            board, window, viewer_team=viewer_agent.team_id if viewer_agent else None
        )
    return _agent_board(
        board, window, team=team, page=page, names=sees_names(viewer), viewer_agent=viewer_agent
    )


def wallboard_for(board: Leaderboard, window: Window) -> BoardView:
    """A board as the room sees it on the TV: an agent's view, with no agent of its own."""
    if board.ranks == Leaderboard.Ranks.TEAMS:
        return _team_board(board, window, viewer_team=None)
    return _agent_board(board, window, team=None, page=1, names=False, viewer_agent=None)


@dataclass(frozen=True)
class AgentStanding:
    board: Leaderboard
    window: Window
    rank: int
    points: int
    gap_to_next: int | None
    ranked: int


def agent_standings(agent: Agent, *, today: date) -> list[AgentStanding]:
    """The agent's rank this month on the first everyone board and the first team board
    that rank agents: what their home shows (one query for the boards, two per board)."""
    window = window_containing(today, Span.MONTH)
    boards: dict[str, Leaderboard] = {}
    for board in Leaderboard.objects.filter(
        active=True,
        scope__in=[Leaderboard.Scope.EVERYONE, Leaderboard.Scope.TEAM],
        ranks=Leaderboard.Ranks.AGENTS,
    ).order_by("position", "name"):
        boards.setdefault(board.scope, board)
    standings = []
    for scope in (Leaderboard.Scope.EVERYONE, Leaderboard.Scope.TEAM):
        if (board := boards.get(scope)) is None:
            continue
        team_id = agent.team_id if scope == Leaderboard.Scope.TEAM else None
        totals = _totals(board, window, team_id)
        mine = totals.filter(agent=agent).values_list("points", flat=True).first() or 0
        counts = totals.aggregate(
            ranked=Count("id"),
            ahead=Count("id", filter=Q(points__gt=mine)),
            next_up=Min("points", filter=Q(points__gt=mine)),
        )
        gap = counts["next_up"] - mine if counts["next_up"] is not None else None
        standings.append(
            AgentStanding(board, window, counts["ahead"] + 1, mine, gap, counts["ranked"])
        )
    return standings


def _agent_board(
    board: Leaderboard,
    window: Window,
    *,
    team: Team | None,
    page: int,
    names: bool,
    viewer_agent: Agent | None,
    neighbours: int = 2,
) -> BoardView:
    if board.scope != Leaderboard.Scope.TEAM:
        team = None
    elif viewer_agent is not None and viewer_agent.team_id != team.pk:
        viewer_agent = None  # a lead opening a team they lead, not their own
    totals = _totals(board, window, team.pk if team else None)
    per_page = board.top_n
    paged = names or board.privacy != Leaderboard.Privacy.TOP_AND_NEIGHBOURS
    if board_cache.enabled():
        ranked, rows, own, page, pages = _cached_board(
            board, window, totals, team, page, per_page, paged, viewer_agent, neighbours
        )
    else:
        ranked = totals.count()
        pages = max(1, -(-ranked // per_page)) if paged else 1
        page = min(max(page, 1), pages)
        offset = (page - 1) * per_page
        values = list(
            totals.order_by("-points", "agent_id").values(*ROW_FIELDS)[offset : offset + per_page]
        )
        first_rank = _rank_of(totals, values[0]["points"]) if values and offset else 1
        rows = _ranked_rows(
            values, first_rank, viewer_agent.pk if viewer_agent else None, position=offset + 1
        )
        own = (
            _own_standing(totals, viewer_agent, rows, neighbours=neighbours)
            if viewer_agent is not None
            else None
        )
    provisional_shown = window.end > timezone.now().date() - timedelta(days=1)
    if provisional_shown:
        shown = rows + (own.neighbours if own else [])
        provisional = _provisional_by_agent(board, window, [row.agent_id for row in shown])

        def with_provisional(board_rows: list[BoardRow]) -> list[BoardRow]:
            return [replace(r, provisional=provisional.get(r.agent_id, 0)) for r in board_rows]

        rows = with_provisional(rows)
        if own:
            own = replace(own, neighbours=with_provisional(own.neighbours))
    hidden = not names and board.privacy == Leaderboard.Privacy.ANONYMISED
    if hidden:
        rows = _anonymised(rows)
        if own:
            own = replace(own, neighbours=_anonymised(own.neighbours))
    return BoardView(
        board=board,
        window=window,
        team=team,
        rows=rows,
        ranked=ranked,
        page=page,
        pages=pages,
        own=own,
        names_hidden=hidden,
        provisional_shown=provisional_shown,
    )


def _team_board(board: Leaderboard, window: Window, *, viewer_team: int | None) -> BoardView:
    """Teams ranked by points per active agent, so teams of unequal size compete fairly;
    teams under the board's minimum of active agents are listed unranked."""
    active = dict(
        Agent.objects.filter(active=True)
        .values("team_id")
        .annotate(agents=Count("id"))
        .values_list("team_id", "agents")
    )
    points = dict(
        PointsTotal.objects.filter(
            span=window.span.value,
            starts_on=window.start,
            channel=board.board_channel,
            agent__active=True,
        )
        .values("agent__team_id")
        .annotate(points=Sum("points"))
        .values_list("agent__team_id", "points")
    )
    teams = Team.objects.filter(pk__in=active.keys()).values_list("pk", "name")
    candidates = [
        BoardRow(
            rank=0,
            points=round(points.get(team_id, 0) / active[team_id]),
            name=name,
            team_name=name,
            team_id=team_id,
            is_viewer=team_id == viewer_team,
            active_agents=active[team_id],
        )
        for team_id, name in teams
    ]
    per_agent = {
        row.team_id: Fraction(points.get(row.team_id, 0), row.active_agents) for row in candidates
    }
    eligible = sorted(
        (row for row in candidates if row.active_agents >= board.minimum_agents),
        key=lambda row: (-per_agent[row.team_id], row.name),
    )
    rows: list[BoardRow] = []
    for index, row in enumerate(eligible):
        tied = rows and per_agent[rows[-1].team_id] == per_agent[row.team_id]
        rows.append(replace(row, rank=rows[-1].rank if tied else index + 1))
    unranked = sorted(
        (row for row in candidates if row.active_agents < board.minimum_agents),
        key=lambda row: row.name,
    )
    return BoardView(
        board=board,
        window=window,
        team=None,
        rows=rows,
        ranked=len(rows),
        page=1,
        pages=1,
        own=None,
        names_hidden=False,
        provisional_shown=False,
        unranked_teams=unranked,
    )


@dataclass(frozen=True)
class TotalMismatch:
    agent_id: int
    span: str
    starts_on: date
    channel: str
    kept: int
    ledger: int


def total_mismatches(agent_ids: Iterable[int] | None = None) -> list[TotalMismatch]:
    """Leaderboard totals that differ from what the agents' ledger entries add up to."""
    entries = PointsEntry.objects.exclude(kind__in=SPENDING_KINDS)
    kept_rows = PointsTotal.objects.exclude(points=0)
    if agent_ids is not None:
        agent_ids = list(agent_ids)
        entries = entries.filter(agent_id__in=agent_ids)
        kept_rows = kept_rows.filter(agent_id__in=agent_ids)
    rows = list(
        entries.values_list("agent_id", "earned_on", "standard_id")
        .annotate(points=Sum("points"))
        .order_by()
    )
    expected = {key: points for key, points in totals_expected(rows).items() if points}
    kept = {
        (agent_id, span, starts_on, channel): points
        for agent_id, span, starts_on, channel, points in kept_rows.values_list(
            "agent_id", "span", "starts_on", "channel", "points"
        )
    }
    return [
        TotalMismatch(*key, kept.get(key, 0), expected.get(key, 0))
        for key in sorted(expected.keys() | kept.keys())
        if kept.get(key, 0) != expected.get(key, 0)
    ]
