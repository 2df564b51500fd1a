"""The write scope of a batch: whose facts it may create or change (DESIGN, roles and access).

A lead's upload writes facts of the agents of the teams they lead only. A row is refused, with
its reason, when it names an agent outside them, when it changes a fact whose agent is outside
them (a late survey carries no agent, yet writes that agent's fact; a reassignment writes
both the old and the new agent's), or when it would create an agent in a team outside them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_noop

from performance.access import teams_written_by_batch
from performance.feeds import RowError, row_error
from performance.models import FeedBatch, Team

AGENT_OUTSIDE = gettext_noop(
    "agent %(key)s is not in a team the uploader leads (%(teams)s); a lead uploads facts of "
    "their own teams' agents only: ask that agent's lead or an admin"
)
FACT_OUTSIDE = gettext_noop(
    "interaction %(key)s belongs to an agent outside the teams the uploader leads "
    "(%(teams)s); it cannot be changed or reassigned from this upload: ask an admin"
)
NEW_AGENT_OUTSIDE = gettext_noop(
    "unknown agent %(key)s would be created in %(team)s, the source's default team, which the "
    "uploader does not lead; ask an admin to add the agent"
)


@dataclass(frozen=True)
class WriteScope:
    """The teams a scoped batch writes facts of (an empty set: none at all)."""

    team_ids: frozenset[int]
    # The uploader's teams as the reasons name them.
    team_names: str

    @classmethod
    def of_batch(cls, batch: FeedBatch) -> WriteScope | None:
        """None for a batch that may write facts of any agent of its source."""
        team_ids = teams_written_by_batch(batch)
        if team_ids is None:
            return None
        names = Team.objects.filter(pk__in=team_ids).order_by("name").values_list("name", flat=True)
        return cls(team_ids=team_ids, team_names=", ".join(names) or "-")

    def covers(self, team_id: int | None) -> bool:
        return team_id in self.team_ids

    def agent_refused(self, line: int, key: str | None) -> RowError:
        return row_error(line, "agent", AGENT_OUTSIDE, key=repr(key), teams=self.team_names)

    def fact_refused(self, line: int, external_id: str) -> RowError:
        return row_error(
            line, "external_id", FACT_OUTSIDE, key=repr(external_id), teams=self.team_names
        )

    def new_agent_refused(self, line: int, key: str, team: Team | None) -> RowError:
        return row_error(line, "agent", NEW_AGENT_OUTSIDE, key=repr(key), team=str(team))
