from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from performance.feeds.synthetic import COLUMNS, write_synthetic_feed
from performance.models import FeedBatch, Interaction
from performance.services.ingest import ingest_feed_file
from performance.services.ingest.fact_store import FACT_FIELDS
from tests.factories import AgentExternalIdFactory, AgentFactory, FeedSourceFactory, TeamFactory

START = date(2026, 3, 2)


def synthetic_text(**options) -> str:
    out = io.StringIO()
    arguments = {"rows": 2000, "agents": 10, "days": 14, "start": START, **options}
    write_synthetic_feed(out, **arguments)
    return out.getvalue()


def synthetic_rows(**options) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(synthetic_text(**options))))


@pytest.fixture(scope="module")
def big_sample() -> list[dict[str, str]]:
    """Enough rows for the distributions to settle: 20 agents x 30 days."""
    return synthetic_rows(rows=30_000, agents=20, days=30, seed=3)


def numbers(rows: list[dict[str, str]], name: str) -> list[float]:
    return [float(row[name]) for row in rows if row[name]]


def test_the_same_seed_writes_the_same_file_and_another_seed_another():
    assert synthetic_text(seed=7) == synthetic_text(seed=7)
    assert synthetic_text(seed=7) != synthetic_text(seed=8)


def test_writes_the_requested_rows_with_canonical_columns_and_unique_ids():
    out = io.StringIO()
    written = write_synthetic_feed(
        out, rows=1234, agents=7, days=5, start=START, id_prefix="X-", agent_prefix="hd-"
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))

    assert written == len(rows) == 1234
    assert out.getvalue().splitlines()[0] == ",".join(COLUMNS)
    assert len({row["external_id"] for row in rows}) == 1234
    assert rows[0]["external_id"] == "X-000000001"
    assert {row["agent"] for row in rows} <= {f"hd-{n:05d}" for n in range(7)}
    assert len({row["agent"] for row in rows}) == 7


def test_zero_rows_writes_only_the_header():
    out = io.StringIO()
    assert write_synthetic_feed(out, rows=0, agents=3, days=2, start=START) == 0
    assert out.getvalue() == ",".join(COLUMNS) + "\n"


def test_values_stay_within_the_ranges_of_the_design():
    rows = synthetic_rows(rows=5000, channels=("phone", "email", "chat", "social", "messaging"))
    first, after_last = (
        datetime(2026, 3, 2, tzinfo=ZoneInfo("UTC")),
        datetime(2026, 3, 16, tzinfo=ZoneInfo("UTC")),
    )
    for row in rows:
        assert row["channel"] in {"phone", "email", "chat", "social", "messaging"}
        assert row["started_at"].endswith("Z")
        assert first <= datetime.fromisoformat(row["started_at"]) < after_last
        for name in ("handle_seconds", "first_response_seconds", "wait_seconds"):
            assert not row[name] or float(row[name]) >= 0
        for name in ("resolved", "first_contact_resolution", "transferred", "escalated"):
            assert row[name] in {"true", "false", ""}
        assert not row["csat"] or 1 <= int(row["csat"]) <= 5
        assert not row["nps"] or 0 <= int(row["nps"]) <= 10
        assert not row["ces"] or 1 <= int(row["ces"]) <= 7
        assert not row["qa_score"] or 0 <= float(row["qa_score"]) <= 100
        if row["abandoned"] == "true":
            assert row["channel"] in {"phone", "chat"}
            assert row["handle_seconds"] == "" and row["csat"] == "" and row["case_id"] == ""
        if row["channel"] in {"email", "social", "messaging"}:
            assert row["abandoned"] == "" and row["wait_seconds"] == ""
        if row["first_contact_resolution"] == "true":
            assert row["resolved"] == "true"


def test_rows_come_in_time_order():
    stamps = [row["started_at"] for row in synthetic_rows()]
    assert stamps == sorted(stamps)


def test_channels_have_believable_distributions(big_sample):
    by_channel = defaultdict(list)
    for row in big_sample:
        by_channel[row["channel"]].append(row)
    answered = {
        channel: [row for row in rows if row["abandoned"] != "true"]
        for channel, rows in by_channel.items()
    }

    assert 4 * 60 <= statistics.mean(numbers(answered["phone"], "handle_seconds")) <= 8 * 60
    assert 10 <= statistics.mean(numbers(by_channel["phone"], "wait_seconds")) <= 60
    assert 30 <= statistics.median(numbers(answered["chat"], "first_response_seconds")) <= 90
    assert 8 * 60 <= statistics.mean(numbers(answered["chat"], "handle_seconds")) <= 12 * 60
    email_response = statistics.median(numbers(answered["email"], "first_response_seconds"))
    assert 3600 <= email_response <= 8 * 3600
    assert statistics.mean(numbers(answered["email"], "handle_seconds")) < 6 * 60
    social_response = statistics.median(numbers(answered["social"], "first_response_seconds"))
    assert 60 < social_response < email_response
    for channel in ("phone", "chat"):
        abandoned = sum(row["abandoned"] == "true" for row in by_channel[channel])
        assert 0.01 < abandoned / len(by_channel[channel]) < 0.10
    assert by_channel.keys() == {"phone", "email", "chat", "social"}
    assert len(by_channel["phone"]) > len(by_channel["social"])


def test_surveys_qa_and_repeat_contacts_come_in_realistic_shares(big_sample):
    total = len(big_sample)

    def share(name: str) -> float:
        return sum(1 for row in big_sample if row[name]) / total

    assert 0.20 < share("csat") < 0.30
    assert 0.11 < share("nps") < 0.19
    assert 0.07 < share("ces") < 0.13
    assert 0.015 < share("qa_score") < 0.045
    csat = [int(row["csat"]) for row in big_sample if row["csat"]]
    assert sum(score >= 4 for score in csat) / len(csat) > 0.7
    answered = [row for row in big_sample if row["abandoned"] != "true"]
    assert 0.6 < sum(row["resolved"] == "true" for row in answered) / len(answered) < 0.9
    cases = Counter(row["case_id"] for row in answered)
    repeat_contacts = sum(count - 1 for count in cases.values())
    assert 0.05 < repeat_contacts / total < 0.15


def test_agents_differ_and_keep_their_strengths(big_sample):
    halves: dict[str, list[list[float]]] = defaultdict(lambda: [[], []])
    for row in big_sample:
        if row["channel"] == "phone" and row["handle_seconds"]:
            half = 0 if row["started_at"] < "2026-03-17" else 1
            halves[row["agent"]][half].append(float(row["handle_seconds"]))
    agents = sorted(halves)
    first = [statistics.mean(halves[agent][0]) for agent in agents]
    second = [statistics.mean(halves[agent][1]) for agent in agents]

    assert max(first) / min(first) > 1.3
    assert statistics.correlation(first, second) > 0.6


def test_working_hours_follow_the_agents_time_zone():
    zone = ZoneInfo("America/Sao_Paulo")
    rows = synthetic_rows(time_zone="America/Sao_Paulo")
    local_hours = {datetime.fromisoformat(row["started_at"]).astimezone(zone).hour for row in rows}
    assert min(local_hours) >= 7 and max(local_hours) <= 21


def test_an_agent_keeps_the_same_rota_in_feeds_of_other_channels():
    def days_worked(text: str) -> dict[str, set[str]]:
        worked = defaultdict(set)
        for row in csv.DictReader(io.StringIO(text)):
            worked[row["agent"]].add(row["started_at"][:10])
        return worked

    phone = days_worked(synthetic_text(rows=3000, agents=4, seed=5, channels=("phone",)))
    email = days_worked(synthetic_text(rows=3000, agents=4, seed=5, channels=("email",)))
    assert phone == email


def test_jsonl_writes_one_object_per_row_without_nulls():
    out = io.StringIO()
    written = write_synthetic_feed(out, rows=300, agents=4, days=3, start=START, format="jsonl")
    records = [json.loads(line) for line in out.getvalue().splitlines()]

    assert written == len(records) == 300
    for record in records:
        assert None not in record.values()
        assert set(record) <= set(COLUMNS)
        assert {"external_id", "agent", "channel", "started_at"} <= set(record)
        assert record.get("abandoned") in (True, False, None)


def test_rejects_impossible_arguments():
    with pytest.raises(ValueError, match="format"):
        write_synthetic_feed(io.StringIO(), rows=1, agents=1, days=1, start=START, format="xml")
    with pytest.raises(ValueError, match="agents and days"):
        write_synthetic_feed(io.StringIO(), rows=1, agents=0, days=1, start=START)


# --- through the real ingest service ----------------------------------------------------


@pytest.fixture
def feed_source(db):
    source = FeedSourceFactory(slug="synthetic", time_zone="UTC")
    team = TeamFactory(name="Lisbon", time_zone="Europe/Lisbon")
    for number in range(6):
        AgentExternalIdFactory(
            agent=AgentFactory(team=team), source=source, external_id=f"agent-{number:05d}"
        )
    return source


def write_recent_feed(path, *, format: str = "csv", seed: int = 1) -> int:
    start = timezone.localdate() - timedelta(days=10)
    with open(path, "w", encoding="utf-8", newline="") as out:
        return write_synthetic_feed(
            out, rows=1500, agents=6, days=10, start=start, seed=seed, format=format
        )


def test_a_synthetic_csv_feed_ingests_with_no_rejected_rows(feed_source, tmp_path):
    path = tmp_path / "synthetic.csv"
    written = write_recent_feed(path)

    batch = ingest_feed_file(path=path, source=feed_source)

    assert batch.status == FeedBatch.Status.COMPLETED, batch.error
    assert (batch.rows_read, batch.created_count, batch.rejected_count) == (written, written, 0)
    assert list(batch.row_errors.all()) == []
    assert Interaction.objects.filter(source=feed_source).count() == written

    again = ingest_feed_file(path=path, source=feed_source)
    assert (again.unchanged_count, again.created_count, again.updated_count) == (written, 0, 0)


def test_a_synthetic_jsonl_feed_gives_the_same_facts_as_its_csv(feed_source, tmp_path):
    other = FeedSourceFactory(slug="synthetic-jsonl", format="jsonl")
    for external in feed_source.agent_ids.all():
        AgentExternalIdFactory(agent=external.agent, source=other, external_id=external.external_id)
    write_recent_feed(tmp_path / "feed.csv")
    written = write_recent_feed(tmp_path / "feed.jsonl", format="jsonl")

    csv_batch = ingest_feed_file(path=tmp_path / "feed.csv", source=feed_source)
    jsonl_batch = ingest_feed_file(path=tmp_path / "feed.jsonl", source=other)

    assert jsonl_batch.status == FeedBatch.Status.COMPLETED, jsonl_batch.error
    assert (jsonl_batch.created_count, jsonl_batch.rejected_count) == (written, 0)
    assert csv_batch.created_count == written

    def facts(source):
        return sorted(
            Interaction.objects.filter(source=source).values_list("external_id", *FACT_FIELDS)
        )

    assert facts(feed_source) == facts(other)


# --- generate_feed ------------------------------------------------------------------------


def test_generate_feed_writes_a_file_and_reports_on_stderr(tmp_path):
    path = tmp_path / "feed.csv"
    stderr = io.StringIO()

    call_command(
        "generate_feed",
        str(path),
        "--rows",
        "250",
        "--agents",
        "5",
        "--days",
        "3",
        "--start",
        "2026-03-02",
        "--seed",
        "4",
        "--channels",
        "phone,chat",
        stderr=stderr,
    )

    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 250
    assert {row["channel"] for row in rows} == {"phone", "chat"}
    assert {row["started_at"][:10] for row in rows} == {"2026-03-02", "2026-03-03", "2026-03-04"}
    assert "Wrote 250 csv rows" in stderr.getvalue()
    assert path.read_text() == synthetic_text(
        rows=250, agents=5, days=3, seed=4, channels=("phone", "chat")
    )


def test_generate_feed_defaults_to_the_days_up_to_yesterday_in_jsonl_for_a_jsonl_file(
    tmp_path,
):
    path = tmp_path / "feed.jsonl"
    call_command("generate_feed", str(path), "--rows", "40", "--days", "2", stderr=io.StringIO())

    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == 40
    days = {record["started_at"][:10] for record in records}
    today = timezone.localdate()
    assert days <= {str(today - timedelta(days=2)), str(today - timedelta(days=1))}


def test_generate_feed_writes_to_stdout_for_a_dash(capsys):
    call_command("generate_feed", "-", "--rows", "3", "--agents", "2", stderr=io.StringIO())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == 4
