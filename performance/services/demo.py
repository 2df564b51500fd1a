"""The demo organisation behind `seed_demo`: people, teams, feed sources and months of facts.

Facts are loaded the way a customer's would be: synthetic feed files go through the one
ingest service (`ingest_feed_file`, via=SEED), so the demo also shows batches, a late-survey
correction batch and a rejected-rows report. Everything is deterministic for a seed and end
date, and a file whose exact bytes were already ingested for its source is not sent again,
so seeding twice duplicates nothing.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import random
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction
from django.utils import timezone

from performance.models import (
    Agent,
    AgentExternalId,
    FeedBatch,
    FeedSource,
    ServiceStandard,
    Team,
)
from performance.roles import ADMIN_GROUP, AGENT_GROUP, TEAM_LEAD_GROUP
from performance.services.evaluation import evaluate_periods
from performance.services.ingest import ingest_feed_file
from performance.services.standards import standard_save
from performance.services.synthetic import synthetic_agent_key, write_synthetic_feed
from performance.services.tokens import feed_source_rotate_token

CONTACTS_PER_AGENT_DAY = 25
PHONE_SHARE = 0.4
HELPDESK_CHANNELS = ("email", "chat", "social")
LATE_SURVEY_SHARE = 0.06
LATE_SURVEY_MIN_AGE = timedelta(days=3)
LATE_NPS_SHARE = 0.6
CSAT_VALUES = (1, 2, 3, 4, 5)
RESOLVED_CSAT = (2, 3, 10, 30, 55)
UNRESOLVED_CSAT = (15, 20, 25, 25, 15)
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
INTEGER_FIELDS = {"handle_seconds", "first_response_seconds", "wait_seconds", "csat", "nps", "ces"}
BOOLEAN_FIELDS = {"resolved", "first_contact_resolution", "transferred", "escalated", "abandoned"}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    first_name: str
    last_name: str


ADMIN_LOGIN = DemoLogin("Admin", "admin", "atendo-admin", "Helena", "Vieira")
LEAD_LOGIN = DemoLogin("Team lead of Lisbon", "lead", "atendo-lead", "Marta", "Carvalho")
AGENT_LOGIN = DemoLogin("Agent in Lisbon", "agent", "atendo-agent", "Ana", "Ferreira")
DEMO_LOGINS = (ADMIN_LOGIN, LEAD_LOGIN, AGENT_LOGIN)


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
        name="Sao Paulo",
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
        name="Lisbon",
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
        name="Remote",
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


def demo_organisation_seed(
    *,
    days: int = 90,
    agents: int = 40,
    seed: int = 0,
    end: date | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> DemoSeedResult:
    """Create (or complete) the demo organisation and ingest `days` days ending `end`."""
    if days < 1:
        raise ValueError("days must be at least 1")
    if agents < len(DEMO_TEAMS):
        raise ValueError(f"agents must be at least {len(DEMO_TEAMS)} (one per team)")
    began = time.perf_counter()
    end = end or timezone.localdate() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    people = demo_people(agents=agents, seed=seed)
    result = DemoSeedResult(teams=len(DEMO_TEAMS), agents=len(people), start=start, end=end)

    with transaction.atomic():
        _teams_and_people(people, log=log)
        helpdesk, telephony = _feed_sources()
        _agent_keys(people, helpdesk=helpdesk, telephony=telephony)
    for source in (helpdesk, telephony):
        if not source.token_hash:
            result.new_tokens[source.slug] = feed_source_rotate_token(source=source)

    with tempfile.TemporaryDirectory(prefix="atendo-demo-") as folder:
        directory = Path(folder)
        helpdesk_files: list[Path] = []
        for team_index, team in enumerate(DEMO_TEAMS):
            helpdesk_file, telephony_file = write_team_feeds(
                directory,
                team=team,
                members=sum(1 for person in people if person.team is team),
                start=start,
                days=days,
                seed=seed * len(DEMO_TEAMS) + team_index,
            )
            helpdesk_files.append(helpdesk_file)
            _ingest(helpdesk_file, helpdesk, result, log=log)
            _ingest(telephony_file, telephony, result, log=log)

        surveys_file = directory / f"helpdesk-late-surveys-{end}.csv"
        write_late_surveys(
            helpdesk_files, surveys_file, before=end - LATE_SURVEY_MIN_AGE, seed=seed
        )
        _ingest(surveys_file, helpdesk, result, log=log)

        manual_file = directory / f"helpdesk-manual-export-{end}.csv"
        lisbon = [person for person in people if person.team.name == "Lisbon"]
        write_manual_export_with_mistakes(manual_file, agents=lisbon, day=end)
        lead = get_user_model().objects.get(username=LEAD_LOGIN.username)
        _ingest(manual_file, helpdesk, result, log=log, uploaded_by=lead)

    result.standards = len(demo_standards(active_from=start))
    result.evaluations = evaluate_periods(since=start, until=end).total
    log(f"  evaluated {result.evaluations:,} agent x standard x period judgements")
    result.seconds = time.perf_counter() - began
    return result


# --- standards ---------------------------------------------------------------------------

# Close to common industry targets; AHT is gated on CSAT: speed never pays when quality fails.
DEMO_STANDARDS = (
    {
        "name": "CSAT",
        "metric": "csat",
        "period": "week",
        "target": 80,
        "stretch_target": 90,
        "min_sample": 10,
        "points_met": 30,
        "points_exceeded": 50,
    },
    {
        "name": "First-contact resolution",
        "metric": "fcr",
        "period": "week",
        "target": 70,
        "stretch_target": 80,
        "min_sample": 20,
        "points_met": 30,
        "points_exceeded": 50,
    },
    {
        "name": "Chat service level (60 s)",
        "metric": "sla",
        "channel": "chat",
        "period": "day",
        "threshold_seconds": 60,
        "target": 80,
        "stretch_target": 90,
        "min_sample": 5,
        "points_met": 5,
        "points_exceeded": 10,
    },
    {
        "name": "E-mail first response (4 h)",
        "metric": "frt",
        "channel": "email",
        "period": "week",
        "target": 4 * 3600,
        "stretch_target": 2 * 3600,
        "min_sample": 5,
        "points_met": 20,
        "points_exceeded": 30,
    },
    {
        "name": "Phone handle time (6 min)",
        "metric": "aht",
        "channel": "phone",
        "period": "week",
        "target": 360,
        "stretch_target": 300,
        "min_sample": 10,
        "points_met": 20,
        "points_exceeded": 30,
        "gate": "CSAT",
    },
    {
        "name": "Quality score",
        "metric": "qa",
        "period": "month",
        "target": 85,
        "stretch_target": 92,
        "min_sample": 3,
        "points_met": 50,
        "points_exceeded": 80,
    },
    {
        "name": "NPS",
        "metric": "nps",
        "period": "month",
        "target": 30,
        "stretch_target": 50,
        "min_sample": 10,
        "points_met": 50,
        "points_exceeded": 80,
    },
)


def demo_standards(*, active_from: date) -> list[ServiceStandard]:
    """The demo's default standards (created once; existing ones are left as they are)."""
    standards: dict[str, ServiceStandard] = {}
    for spec in DEMO_STANDARDS:
        fields = dict(spec)
        gate = fields.pop("gate", None)
        standard = ServiceStandard.objects.filter(name=fields["name"]).first()
        if standard is None:
            standard = ServiceStandard(
                active_from=active_from,
                quality_gate=standards.get(gate) if gate else None,
                **fields,
            )
            standard.full_clean(exclude=["teams"])
            standard_save(standard=standard, rescore=False)  # the seed evaluates everything
        standards[standard.name] = standard
    return list(standards.values())


# --- people ----------------------------------------------------------------------------


def demo_people(*, agents: int, seed: int) -> list[DemoPerson]:
    """The demo's agents with real-looking names, split over the teams (stable per seed)."""
    counts = _split(agents, [team.agent_share for team in DEMO_TEAMS])
    taken = {login.username for login in DEMO_LOGINS} | {team.lead[0] for team in DEMO_TEAMS}
    people = []
    for team, count in zip(DEMO_TEAMS, counts, strict=True):
        names = _names(team, seed)
        for number in range(count):
            if team.name == "Lisbon" and number == 0:
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


def _teams_and_people(people: list[DemoPerson], *, log: Callable[[str], None]) -> None:
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
    created = 0
    for person in people:
        login = AGENT_LOGIN if person.username == AGENT_LOGIN.username else None
        user = _user(person.username, person.first_name, person.last_name, login=login)
        user.groups.add(groups[AGENT_GROUP])
        _, was_created = Agent.objects.get_or_create(
            user=user, defaults={"team": teams[person.team.name]}
        )
        created += was_created
    log(
        f"Organisation: {len(teams)} teams, {len(people)} agents ({created} new), "
        f"{len(DEMO_TEAMS)} team leads and an admin"
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


def _feed_sources() -> tuple[FeedSource, FeedSource]:
    helpdesk, _ = FeedSource.objects.get_or_create(
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
    return helpdesk, telephony


def _agent_keys(people: list[DemoPerson], *, helpdesk: FeedSource, telephony: FeedSource) -> None:
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


# --- feed files ------------------------------------------------------------------------


def write_team_feeds(
    directory: Path, *, team: DemoTeam, members: int, start: date, days: int, seed: int
) -> tuple[Path, Path]:
    """One team's history: a helpdesk CSV and a telephony JSON Lines export."""
    end = start + timedelta(days=days - 1)
    rows = members * days * CONTACTS_PER_AGENT_DAY
    phone_rows = round(rows * PHONE_SHARE)
    helpdesk_file = directory / f"helpdesk-{team.code}-{start}-{end}.csv"
    with open(helpdesk_file, "w", encoding="utf-8", newline="") as out:
        write_synthetic_feed(
            out,
            rows=rows - phone_rows,
            agents=members,
            days=days,
            channels=HELPDESK_CHANNELS,
            start=start,
            seed=seed,
            agent_prefix=helpdesk_agent_prefix(team),
            id_prefix=f"HD-{team.code.upper()}-",
            time_zone=team.time_zone,
        )
    calls_file = directory / f"calls-{team.code}.csv"
    with open(calls_file, "w", encoding="utf-8", newline="") as out:
        write_synthetic_feed(
            out,
            rows=phone_rows,
            agents=members,
            days=days,
            channels=("phone",),
            start=start,
            seed=seed,
            agent_prefix=telephony_agent_prefix(team),
            id_prefix=f"CALL-{team.code.upper()}-",
            time_zone=team.time_zone,
        )
    telephony_file = directory / f"telephony-{team.code}-{start}-{end}.jsonl"
    write_telephony_export(calls_file, telephony_file)
    calls_file.unlink()
    return helpdesk_file, telephony_file


def write_telephony_export(canonical_csv: Path, out_path: Path) -> int:
    """Rewrite a canonical phone feed the way the telephony platform exports it.

    Its own column names (mapped by the source) and naive local timestamps in the
    platform's zone, which the source's time zone turns back into UTC.
    """
    zone = ZoneInfo(TELEPHONY_TIME_ZONE)
    column_for = {canonical: column for column, canonical in TELEPHONY_COLUMNS.items()}
    written = 0
    with (
        open(canonical_csv, encoding="utf-8", newline="") as source,
        open(out_path, "w", encoding="utf-8") as out,
    ):
        for row in csv.DictReader(source):
            record: dict[str, object] = {}
            for name, value in row.items():
                if value == "":
                    continue
                if name == "started_at":
                    moment = datetime.fromisoformat(value).astimezone(zone)
                    record[column_for[name]] = moment.strftime("%Y-%m-%d %H:%M:%S")
                elif name in INTEGER_FIELDS:
                    record[column_for[name]] = int(value)
                elif name in BOOLEAN_FIELDS:
                    record[column_for[name]] = value == "true"
                elif name == "qa_score":
                    record[column_for[name]] = float(value)
                else:
                    record[column_for[name]] = value
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            written += 1
    return written


def write_late_surveys(
    helpdesk_files: list[Path], out_path: Path, *, before: date, seed: int
) -> int:
    """Surveys answered days after the contact: partial rows (external_id, csat, nps)."""
    rng = random.Random(f"{seed}|late-surveys")
    cutoff = before.isoformat()
    written = 0
    with open(out_path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["external_id", "csat", "nps"])
        for path in helpdesk_files:
            with open(path, encoding="utf-8", newline="") as source:
                for row in csv.DictReader(source):
                    answered_late = (
                        row["started_at"][:10] < cutoff
                        and not row["csat"]
                        and row["abandoned"] != "true"
                        and rng.random() < LATE_SURVEY_SHARE
                    )
                    if not answered_late:
                        continue
                    weights = RESOLVED_CSAT if row["resolved"] == "true" else UNRESOLVED_CSAT
                    csat = rng.choices(CSAT_VALUES, weights)[0]
                    nps: int | str = ""
                    if rng.random() < LATE_NPS_SHARE:
                        nps = min(10, max(0, round(csat * 2 + rng.gauss(0, 1))))
                    writer.writerow([row["external_id"], csat, nps])
                    written += 1
    return written


MANUAL_EXPORT_COLUMNS = (
    "external_id",
    "agent",
    "channel",
    "started_at",
    "handle_seconds",
    "first_response_seconds",
    "csat",
)


def write_manual_export_with_mistakes(
    out_path: Path, *, agents: list[DemoPerson], day: date
) -> None:
    """A lead's hand-edited export: four good rows and six the report rejects with reasons."""
    keys = [person.helpdesk_key for person in agents]

    def key(number: int) -> str:
        return keys[number % len(keys)]

    def at(clock: str) -> str:
        return f"{day}T{clock}Z"

    rows = [
        MANUAL_EXPORT_COLUMNS,
        ("HD-MAN-0001", key(0), "email", at("09:12:00"), "240", "5400", "5"),
        ("HD-MAN-0002", key(1), "chat", at("10:03:30"), "610", "42", ""),
        ("HD-MAN-0003", key(2), "social", at("11:45:10"), "300", "1800", "4"),
        ("HD-MAN-0004", key(0), "chat", at("14:20:00"), "505", "35", ""),
        ("HD-MAN-0005", "hd-lis-09999", "email", at("09:30:00"), "200", "7200", ""),
        ("HD-MAN-0006", key(1), "chat", at("12:00:00"), "480", "40", "7"),
        ("HD-MAN-0007", key(2), "email", at("13:15:00"), "-45", "3600", ""),
        ("HD-MAN-0008", key(0), "chat", f"{day:%d/%m/%Y} 15:05", "390", "55", ""),
        ("HD-MAN-0009", key(0), "fax", at("16:40:00"), "120", "", ""),
        ("", key(0), "email", at("17:00:00"), "150", "4000", ""),
    ]
    with open(out_path, "w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)


def _ingest(
    path: Path,
    source: FeedSource,
    result: DemoSeedResult,
    *,
    log: Callable[[str], None],
    uploaded_by: AbstractUser | None = None,
) -> None:
    checksum = hashlib.sha256(path.read_bytes()).hexdigest()
    if FeedBatch.objects.filter(
        source=source, checksum_sha256=checksum, status=FeedBatch.Status.COMPLETED
    ).exists():
        result.skipped_files.append(path.name)
        log(f"  {path.name}: already ingested, skipped")
        return
    batch = ingest_feed_file(
        path=path, source=source, via=FeedBatch.Via.SEED, uploaded_by=uploaded_by
    )
    result.batches.append(batch)
    log(
        f"  {path.name} -> {source.slug} batch {batch.id}: {batch.rows_read:,} rows, "
        f"created {batch.created_count:,}, updated {batch.updated_count:,}, "
        f"unchanged {batch.unchanged_count:,}, rejected {batch.rejected_count:,} "
        f"({batch.duration_seconds or 0:.1f}s)"
    )
