"""The demo's feed files (synthetic team feeds, a telephony export, late surveys, a manual
export with mistakes), ingested the way a customer's would be."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractUser

from performance.demo.organisation import (
    TELEPHONY_COLUMNS,
    TELEPHONY_TIME_ZONE,
    DemoPerson,
    DemoSeedResult,
    DemoTeam,
    helpdesk_agent_prefix,
    telephony_agent_prefix,
)
from performance.feeds import FIELD_BY_NAME, Kind
from performance.feeds.synthetic import write_synthetic_feed
from performance.models import (
    FeedBatch,
    FeedSource,
)
from performance.services.ingest import ingest_feed_file

CONTACTS_PER_AGENT_DAY = 25
PHONE_SHARE = 0.4
HELPDESK_CHANNELS = ("email", "chat", "social")
LATE_SURVEY_SHARE = 0.06
LATE_SURVEY_MIN_AGE = timedelta(days=3)
LATE_NPS_SHARE = 0.6
CSAT_VALUES = (1, 2, 3, 4, 5)
RESOLVED_CSAT = (2, 3, 10, 30, 55)
UNRESOLVED_CSAT = (15, 20, 25, 25, 15)


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
                kind = FIELD_BY_NAME[name].kind
                if kind == Kind.DATETIME:
                    moment = datetime.fromisoformat(value).astimezone(zone)
                    record[column_for[name]] = moment.strftime("%Y-%m-%d %H:%M:%S")
                elif kind in (Kind.INTEGER, Kind.DURATION):
                    # The platform writes whole seconds and scores as JSON numbers.
                    record[column_for[name]] = int(value)
                elif kind == Kind.BOOLEAN:
                    record[column_for[name]] = value == "true"
                elif kind == Kind.NUMBER:
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


def ingest_demo_file(
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
