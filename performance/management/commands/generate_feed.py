from __future__ import annotations

import argparse
import sys
import time
import zoneinfo
from datetime import date, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from performance.feeds.synthetic import DEFAULT_CHANNELS, FORMATS, write_synthetic_feed
from performance.periods import PeriodKeyError, check_within_range


class Command(BaseCommand):
    help = (
        "Write a synthetic KPI feed (believable interactions, deterministic per seed) for "
        "tests, demos and benchmarks. Needs no database."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="file to write, or - for standard output")
        parser.add_argument("--rows", type=int, required=True, help="interactions to write")
        parser.add_argument("--agents", type=int, default=200, help="default: 200")
        parser.add_argument("--days", type=int, default=30, help="default: 30")
        parser.add_argument(
            "--channels",
            default=",".join(DEFAULT_CHANNELS),
            help=f"comma-separated channel codes (default: {','.join(DEFAULT_CHANNELS)})",
        )
        parser.add_argument(
            "--start",
            type=_parse_date,
            help="first day, YYYY-MM-DD (default: today minus --days, so the feed ends yesterday)",
        )
        parser.add_argument("--seed", type=int, default=0, help="default: 0")
        parser.add_argument(
            "--format", choices=FORMATS, help="default: jsonl for a .jsonl file, else csv"
        )
        parser.add_argument("--agent-prefix", default="agent-", help="default: agent-")
        parser.add_argument("--id-prefix", default="", help="prefix of external ids and cases")
        parser.add_argument(
            "--time-zone", default="UTC", help="the agents' local zone for working hours"
        )

    def handle(self, *args, out: str, **options) -> None:
        rows, agents, days = options["rows"], options["agents"], options["days"]
        if rows < 0:
            raise CommandError("--rows must be 0 or more")
        if agents < 1 or days < 1:
            raise CommandError("--agents and --days must be at least 1")
        channels = [code.strip().lower() for code in options["channels"].split(",") if code.strip()]
        if not channels:
            raise CommandError("--channels names no channel")
        zone = options["time_zone"]
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"--time-zone {zone!r} is not an IANA time zone") from None
        try:
            start = options["start"] or timezone.localdate() - timedelta(days=days)
            check_within_range(start)
            check_within_range(start + timedelta(days=days - 1))
        except PeriodKeyError as error:
            raise CommandError(f"--start and --days: {error.message}") from None
        except OverflowError:
            raise CommandError(
                f"--days {days} reaches beyond the calendar (years 1 to 9999)"
            ) from None
        format = options["format"] or ("jsonl" if out.lower().endswith(".jsonl") else "csv")
        arguments = dict(
            rows=rows,
            agents=agents,
            days=days,
            channels=channels,
            start=start,
            seed=options["seed"],
            agent_prefix=options["agent_prefix"],
            format=format,
            id_prefix=options["id_prefix"],
            time_zone=zone,
        )
        began = time.perf_counter()
        try:
            if out == "-":
                written = write_synthetic_feed(sys.stdout, **arguments)
                sys.stdout.flush()
            else:
                with open(Path(out), "w", encoding="utf-8", newline="") as stream:
                    written = write_synthetic_feed(stream, **arguments)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        last_day = start + timedelta(days=days - 1)
        self.stderr.write(
            f"Wrote {written:,} {format} rows to {'stdout' if out == '-' else out}: "
            f"{agents:,} agents, {start} to {last_day}, {','.join(channels)}, seed "
            f"{options['seed']}, in {time.perf_counter() - began:.1f}s"
        )


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None
