"""The demo organisation behind `seed_demo`: people, teams, feed sources and months of facts.

Facts are loaded the way a customer's would be: synthetic feed files go through the one
ingest service (`ingest_feed_file`, via=SEED), so the demo also shows batches, a late-survey
correction batch and a rejected-rows report. Everything is deterministic for a seed and end
date, and a file whose exact bytes were already ingested for its source is not sent again,
so seeding twice duplicates nothing."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from performance.demo.feeds import (
    LATE_SURVEY_MIN_AGE,
    ingest_demo_file,
    write_late_surveys,
    write_manual_export_with_mistakes,
    write_team_feeds,
)
from performance.demo.organisation import (
    DEMO_TEAMS,
    LEAD_LOGIN,
    DemoSeedResult,
    agent_keys,
    demo_people,
    feed_sources,
    teams_and_people,
)
from performance.demo.standards import demo_standards
from performance.services.evaluation import evaluate_periods
from performance.services.tokens import feed_source_rotate_token


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
        teams_and_people(people, log=log)
        helpdesk, telephony = feed_sources()
        agent_keys(people, helpdesk=helpdesk, telephony=telephony)
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
            ingest_demo_file(helpdesk_file, helpdesk, result, log=log)
            ingest_demo_file(telephony_file, telephony, result, log=log)

        surveys_file = directory / f"helpdesk-late-surveys-{end}.csv"
        write_late_surveys(
            helpdesk_files, surveys_file, before=end - LATE_SURVEY_MIN_AGE, seed=seed
        )
        ingest_demo_file(surveys_file, helpdesk, result, log=log)

        manual_file = directory / f"helpdesk-manual-export-{end}.csv"
        lisbon = [person for person in people if person.team.code == "lis"]
        write_manual_export_with_mistakes(manual_file, agents=lisbon, day=end)
        lead = get_user_model().objects.get(username=LEAD_LOGIN.username)
        ingest_demo_file(manual_file, helpdesk, result, log=log, uploaded_by=lead)

    result.standards = len(demo_standards(active_from=start))
    result.evaluations = evaluate_periods(since=start, until=end).total
    log(f"  evaluated {result.evaluations:,} agent x standard x period judgements")
    result.seconds = time.perf_counter() - began
    return result
