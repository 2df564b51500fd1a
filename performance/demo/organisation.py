"""The demo organisation: logins, teams, people, feed sources and their agent keys."""

from __future__ import annotations

import itertools
import random
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group

from performance.feeds.synthetic import synthetic_agent_key
from performance.models import (
    Agent,
    AgentExternalId,
    FeedBatch,
    FeedSource,
    Team,
)
from performance.roles import ADMIN_GROUP, AGENT_GROUP, QUALITY_ANALYST_GROUP, TEAM_LEAD_GROUP
from performance.services.organisation import agent_membership_open

TELEPHONY_TIME_ZONE = "America/Sao_Paulo"
# The telephony platform exports its own column names; the source maps them.
TELEPHONY_COLUMNS = {
    "call_id": "external_id",
    "agent_extension": "agent",
    "media": "channel",
    "call_start": "started_at",
    "talk_time": "handle_seconds",
    "answer_delay": "first_response_seconds",
    "queue_time": "wait_seconds",
    "ticket_ref": "case_id",
    "resolved": "resolved",
    "first_call_resolution": "first_contact_resolution",
    "transferred": "transferred",
    "escalated": "escalated",
    "abandoned": "abandoned",
    "ivr_csat": "csat",
    "ivr_nps": "nps",
    "ivr_effort": "ces",
    "qa_score": "qa_score",
}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    first_name: str
    last_name: str


ADMIN_LOGIN = DemoLogin("Admin", "admin", "atendo-admin", "Helena", "Vieira")
LEAD_LOGIN = DemoLogin("Team lead of Lisboa", "lead", "atendo-lead", "Marta", "Carvalho")
AGENT_LOGIN = DemoLogin("Agent in Lisboa", "agent", "atendo-agent", "Ana", "Ferreira")
MONITOR_LOGIN = DemoLogin("Quality analyst", "monitor", "atendo-monitor", "Paula", "Mendes")
DEMO_LOGINS = (ADMIN_LOGIN, LEAD_LOGIN, AGENT_LOGIN, MONITOR_LOGIN)


@dataclass(frozen=True)
class DemoTeam:
    name: str
    time_zone: str
    code: str
    agent_share: float
    lead: tuple[str, str, str]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]


DEMO_TEAMS = (
    DemoTeam(
        name="São Paulo",
        time_zone="America/Sao_Paulo",
        code="spo",
        agent_share=0.4,
        lead=("renata.moraes", "Renata", "Moraes"),
        first_names=(
            "Beatriz",
            "Bruno",
            "Camila",
            "Carlos",
            "Daniela",
            "Diego",
            "Fernanda",
            "Gabriel",
            "Juliana",
            "Lucas",
            "Larissa",
            "Marcos",
            "Rafaela",
            "Thiago",
            "Vanessa",
            "Letícia",
            "Felipe",
            "Aline",
        ),
        last_names=(
            "Silva",
            "Santos",
            "Oliveira",
            "Souza",
            "Lima",
            "Pereira",
            "Costa",
            "Rodrigues",
            "Almeida",
            "Nascimento",
            "Araújo",
            "Ribeiro",
            "Gomes",
            "Barbosa",
        ),
    ),
    DemoTeam(
        name="Lisboa",
        time_zone="Europe/Lisbon",
        code="lis",
        agent_share=0.35,
        lead=(LEAD_LOGIN.username, LEAD_LOGIN.first_name, LEAD_LOGIN.last_name),
        first_names=(
            "Inês",
            "João",
            "Tiago",
            "Rita",
            "Miguel",
            "Sofia",
            "Pedro",
            "Catarina",
            "Rui",
            "Mariana",
            "Diogo",
            "Gonçalo",
            "Leonor",
            "Nuno",
            "Joana",
            "Ricardo",
        ),
        last_names=(
            "Santos",
            "Pereira",
            "Costa",
            "Martins",
            "Sousa",
            "Fernandes",
            "Gonçalves",
            "Marques",
            "Lopes",
            "Pinto",
            "Teixeira",
            "Mendes",
            "Antunes",
        ),
    ),
    DemoTeam(
        name="Remoto",
        time_zone="UTC",
        code="rem",
        agent_share=0.25,
        lead=("daniel.okoye", "Daniel", "Okoye"),
        first_names=(
            "Priya",
            "Liam",
            "Aisha",
            "Mateo",
            "Chloe",
            "Kwame",
            "Hannah",
            "Yuki",
            "Omar",
            "Elena",
            "Noah",
            "Zara",
            "Lukas",
            "Amara",
        ),
        last_names=(
            "Nair",
            "O'Connor",
            "Khan",
            "Fernández",
            "Dubois",
            "Mensah",
            "Müller",
            "Tanaka",
            "Haddad",
            "Rossi",
            "Kowalski",
            "Jensen",
            "Novak",
        ),
    ),
)


@dataclass
class DemoPerson:
    team: DemoTeam
    number: int
    username: str
    first_name: str
    last_name: str

    @property
    def helpdesk_key(self) -> str:
        return synthetic_agent_key(helpdesk_agent_prefix(self.team), self.number)

    @property
    def telephony_key(self) -> str:
        return synthetic_agent_key(telephony_agent_prefix(self.team), self.number)


@dataclass
class DemoSeedResult:
    teams: int = 0
    agents: int = 0
    start: date | None = None
    end: date | None = None
    batches: list[FeedBatch] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    new_tokens: dict[str, str] = field(default_factory=dict)
    standards: int = 0
    evaluations: int = 0
    seconds: float = 0.0


def helpdesk_agent_prefix(team: DemoTeam) -> str:
    return f"hd-{team.code}-"


def telephony_agent_prefix(team: DemoTeam) -> str:
    return f"ext-{team.code}-"


def demo_organisation_exists() -> bool:
    """True once any organisation is set up (the demo's or a real one)."""
    return Team.objects.exists() or Agent.objects.exists() or FeedSource.objects.exists()


def demo_logins_present() -> bool:
    usernames = [login.username for login in DEMO_LOGINS]
    return get_user_model().objects.filter(username__in=usernames).count() == len(usernames)


# --- people ----------------------------------------------------------------------------


def demo_people(*, agents: int, seed: int) -> list[DemoPerson]:
    """The demo's agents with real-looking names, split over the teams (stable per seed)."""
    counts = _split(agents, [team.agent_share for team in DEMO_TEAMS])
    taken = {login.username for login in DEMO_LOGINS} | {team.lead[0] for team in DEMO_TEAMS}
    people = []
    for team, count in zip(DEMO_TEAMS, counts, strict=True):
        names = _names(team, seed)
        for number in range(count):
            if team.code == "lis" and number == 0:
                people.append(
                    DemoPerson(
                        team,
                        number,
                        AGENT_LOGIN.username,
                        AGENT_LOGIN.first_name,
                        AGENT_LOGIN.last_name,
                    )
                )
                continue
            for first, last, suffix in names:
                username = _username(first, last) + suffix
                if username not in taken:
                    taken.add(username)
                    people.append(DemoPerson(team, number, username, first, last))
                    break
    return people


def _split(total: int, shares: list[float]) -> list[int]:
    counts = [max(1, int(total * share)) for share in shares]
    position = 0
    while sum(counts) < total:
        counts[position % len(counts)] += 1
        position += 1
    while sum(counts) > total:
        largest = counts.index(max(counts))
        counts[largest] -= 1
    return counts


def _names(team: DemoTeam, seed: int) -> Iterator[tuple[str, str, str]]:
    pairs = list(itertools.product(team.first_names, team.last_names))
    random.Random(f"{seed}|names|{team.code}").shuffle(pairs)
    for round_number in itertools.count():
        suffix = str(round_number + 1) if round_number else ""
        for first, last in pairs:
            yield first, last, suffix


def _username(first: str, last: str) -> str:
    text = unicodedata.normalize("NFKD", f"{first}.{last}".lower())
    return "".join(c for c in text if c.isascii() and (c.isalnum() or c == "."))


def teams_and_people(people: list[DemoPerson], *, log: Callable[[str], None]) -> None:
    groups = {group.name: group for group in Group.objects.all()}
    teams: dict[str, Team] = {}
    for demo_team in DEMO_TEAMS:
        team, _ = Team.objects.get_or_create(
            name=demo_team.name, defaults={"time_zone": demo_team.time_zone}
        )
        teams[team.name] = team
        username, first_name, last_name = demo_team.lead
        login = LEAD_LOGIN if username == LEAD_LOGIN.username else None
        user = _user(username, first_name, last_name, login=login)
        user.groups.add(groups[TEAM_LEAD_GROUP])
        team.leads.add(user)
    admin = _user(
        ADMIN_LOGIN.username,
        ADMIN_LOGIN.first_name,
        ADMIN_LOGIN.last_name,
        login=ADMIN_LOGIN,
        is_staff=True,
        is_superuser=True,
    )
    admin.groups.add(groups[ADMIN_GROUP])
    monitor = _user(
        MONITOR_LOGIN.username,
        MONITOR_LOGIN.first_name,
        MONITOR_LOGIN.last_name,
        login=MONITOR_LOGIN,
    )
    monitor.groups.add(groups[QUALITY_ANALYST_GROUP])
    for team in teams.values():
        team.quality_analysts.add(monitor)
    created = 0
    for person in people:
        login = AGENT_LOGIN if person.username == AGENT_LOGIN.username else None
        user = _user(person.username, person.first_name, person.last_name, login=login)
        user.groups.add(groups[AGENT_GROUP])
        agent, was_created = Agent.objects.get_or_create(
            user=user, defaults={"team": teams[person.team.name]}
        )
        if was_created:
            agent_membership_open(agent=agent)
        created += was_created
    log(
        f"Organisation: {len(teams)} teams, {len(people)} agents ({created} new), "
        f"{len(DEMO_TEAMS)} team leads, a quality analyst and an admin"
    )


def _user(
    username: str,
    first_name: str,
    last_name: str,
    *,
    login: DemoLogin | None,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> AbstractUser:
    user, created = get_user_model().objects.get_or_create(
        username=username,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "email": f"{username}@example.com",
            "is_staff": is_staff,
            "is_superuser": is_superuser,
        },
    )
    if created:
        # Only the three demo logins can sign in; hashing 40 passwords would be slow.
        if login:
            user.set_password(login.password)
        else:
            user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def feed_sources() -> tuple[FeedSource, FeedSource]:
    """The helpdesk takes the leads' manual exports (from every demo team); the telephony
    system only sends through its token."""
    helpdesk, created = FeedSource.objects.get_or_create(
        slug="helpdesk",
        defaults={
            "name": "Helpdesk (e-mail, chat, social)",
            "format": FeedSource.Format.CSV,
            "time_zone": "UTC",
            "agent_match": FeedSource.AgentMatch.EXTERNAL_ID,
        },
    )
    telephony, _ = FeedSource.objects.get_or_create(
        slug="telephony",
        defaults={
            "name": "Telephony (calls)",
            "format": FeedSource.Format.JSONL,
            "time_zone": TELEPHONY_TIME_ZONE,
            "agent_match": FeedSource.AgentMatch.EXTERNAL_ID,
            "column_mapping": TELEPHONY_COLUMNS,
        },
    )
    if created:
        helpdesk.upload_teams.set(Team.objects.filter(name__in=[t.name for t in DEMO_TEAMS]))
    return helpdesk, telephony


def agent_keys(people: list[DemoPerson], *, helpdesk: FeedSource, telephony: FeedSource) -> None:
    agent_ids = dict(
        Agent.objects.filter(user__username__in=[p.username for p in people]).values_list(
            "user__username", "id"
        )
    )
    existing = set(
        AgentExternalId.objects.filter(source__in=[helpdesk, telephony]).values_list(
            "source_id", "external_id"
        )
    )
    wanted = [
        AgentExternalId(agent_id=agent_ids[person.username], source=source, external_id=key)
        for person in people
        for source, key in ((helpdesk, person.helpdesk_key), (telephony, person.telephony_key))
        if (source.id, key) not in existing
    ]
    AgentExternalId.objects.bulk_create(wanted)
