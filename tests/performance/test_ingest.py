"""Upsert semantics, accounting and re-processing of feed batches (DESIGN invariants 1, 2)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command

from performance.models import FeedBatch, FeedBatchTouch, Interaction
from performance.services.ingest import (
    batch_file_path,
    feed_batch_process,
    feed_batch_requeue,
    feed_batch_resume,
)
from performance.services.ingest.batches import FRESH_REPORT
from performance.tasks import process_feed_batch
from tests.performance.helpers import errors_of, ingest_text

HEADER = "external_id,agent,channel,started_at,handle_seconds,csat,nps"
FILE = (
    f"{HEADER}\n"
    "i1,A1,phone,2026-10-29T10:00:00Z,300,5,\n"
    "i2,A1,chat,2026-10-29T23:30:00Z,200,,\n"
    "i3,P1,email,2026-10-30T02:30:00Z,50,2,9\n"
)


def snapshot() -> list[tuple]:
    return list(
        Interaction.objects.order_by("external_id").values_list(
            "external_id",
            "agent_id",
            "channel",
            "started_at",
            "handle_seconds",
            "csat",
            "nps",
            "updated_at",
        )
    )


@pytest.fixture
def agents(alice, paulo):
    return alice, paulo


@pytest.mark.django_db
class TestUpsert:
    def test_first_ingest_creates_and_keeps_the_raw_file(self, source, agents, tmp_path):
        batch = ingest_text(source, FILE, tmp_path)
        assert (batch.rows_read, batch.created_count, batch.rejected_count) == (3, 3, 0)
        stored = batch_file_path(batch).read_bytes()
        assert stored == FILE.encode()
        assert batch.checksum_sha256 == hashlib.sha256(stored).hexdigest()
        assert batch.size_bytes == len(stored)

    def test_reingesting_the_same_file_changes_nothing(self, source, agents, tmp_path):
        ingest_text(source, FILE, tmp_path)
        before = snapshot()
        again = ingest_text(source, FILE, tmp_path, name="again.csv")
        assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
        assert snapshot() == before
        assert not again.touches.exists()

    def test_a_repeated_row_inside_one_file_is_unchanged(self, source, agents, tmp_path):
        lines = FILE.splitlines()
        batch = ingest_text(source, "\n".join([*lines, lines[1], lines[1]]) + "\n", tmp_path)
        assert (batch.created_count, batch.unchanged_count) == (3, 2)

    def test_a_correction_updates_the_fact(self, source, agents, tmp_path):
        ingest_text(source, FILE, tmp_path)
        batch = ingest_text(
            source, f"{HEADER}\ni1,A1,phone,2026-10-29T10:00:00Z,320,4,\n", tmp_path, name="fix.csv"
        )
        assert (batch.updated_count, batch.unchanged_count) == (1, 0)
        i1 = Interaction.objects.get(external_id="i1")
        assert (i1.handle_seconds, i1.csat, i1.batch_id) == (320, 4, batch.id)

    def test_a_late_survey_updates_only_the_fields_it_carries(self, source, agents, tmp_path):
        ingest_text(source, FILE, tmp_path)
        batch = ingest_text(
            source, "external_id,csat,nps\ni2,4,10\ni3,,6\n", tmp_path, name="late.csv"
        )
        assert (batch.updated_count, batch.rejected_count) == (2, 0)
        i2 = Interaction.objects.get(external_id="i2")
        assert (i2.handle_seconds, i2.channel, i2.csat, i2.nps) == (200, "chat", 4, 10)
        i3 = Interaction.objects.get(external_id="i3")
        assert (i3.csat, i3.nps) == (2, 6)  # a blank cell never blanks a stored value

    def test_a_late_survey_for_an_unknown_interaction_is_rejected(self, source, agents, tmp_path):
        batch = ingest_text(source, "external_id,csat\nnope,4\n", tmp_path)
        assert [field for _, field, _ in errors_of(batch)] == ["agent", "channel", "started_at"]

    def test_the_same_key_in_another_source_is_another_fact(self, source, agents, tmp_path):
        from tests.factories import AgentExternalIdFactory, FeedSourceFactory

        other = FeedSourceFactory(slug="telephony")
        AgentExternalIdFactory(agent=agents[0], source=other, external_id="A1")
        ingest_text(source, FILE, tmp_path)
        batch = ingest_text(other, FILE.replace("P1", "A1"), tmp_path, name="other.csv")
        assert batch.created_count == 3
        assert Interaction.objects.count() == 6

    def test_good_rows_are_kept_beside_bad_ones(self, source, agents, tmp_path):
        batch = ingest_text(source, FILE + "i4,A1,phone,not-a-date,1,1,1\n", tmp_path)
        assert (batch.created_count, batch.rejected_count, batch.status) == (3, 1, "completed")
        assert errors_of(batch)[0][:2] == (5, "started_at")


@pytest.mark.django_db
class TestTouchedPeriods:
    def test_touches_are_local_dates_in_the_agents_team_zone(self, source, agents, tmp_path):
        batch = ingest_text(source, FILE, tmp_path)
        touched = set(
            FeedBatchTouch.objects.filter(batch=batch).values_list(
                "agent__user__username", "local_date"
            )
        )
        # alice is in Lisbon (UTC+0 in late October after DST ends on the 25th); paulo in Sao Paulo (UTC-3)
        assert touched == {
            ("alice", date(2026, 10, 29)),
            ("paulo", date(2026, 10, 29)),  # 02:30 UTC is 23:30 the day before in Sao Paulo
        }

    def test_a_correction_that_moves_a_fact_touches_both_periods(self, source, agents, tmp_path):
        ingest_text(source, FILE, tmp_path)
        batch = ingest_text(
            source,
            f"{HEADER}\ni1,P1,phone,2026-10-31T12:00:00Z,300,5,\n",
            tmp_path,
            name="move.csv",
        )
        touched = set(batch.touches.values_list("agent__user__username", "local_date"))
        assert touched == {("alice", date(2026, 10, 29)), ("paulo", date(2026, 10, 31))}


@pytest.mark.django_db
class TestReprocessing:
    def test_reprocessing_a_batch_leaves_the_facts_as_they_were(self, source, agents, tmp_path):
        batch = ingest_text(source, FILE + "bad,A1,fax,2026-10-29T10:00:00Z,1,1,1\n", tmp_path)
        before = snapshot()
        assert feed_batch_requeue(batch_id=batch.id)
        again = feed_batch_process(batch_id=batch.id)
        assert snapshot() == before
        assert (again.runs, again.unchanged_count, again.rejected_count) == (2, 3, 1)
        assert len(errors_of(again)) == 1  # errors of the earlier run are replaced, not doubled

    def test_a_duplicated_task_delivery_does_nothing_the_second_time(
        self, source, agents, tmp_path
    ):
        batch = ingest_text(source, FILE, tmp_path)
        Interaction.objects.all().delete()
        # Waiting with an empty report, as received: a waiting batch with rows counted is a
        # resumed one, which continues after them.
        FeedBatch.objects.filter(pk=batch.pk).update(
            status=FeedBatch.Status.RECEIVED, **FRESH_REPORT
        )
        process_feed_batch.apply(args=[batch.id])
        first = snapshot()
        claimed = FeedBatch.objects.filter(pk=batch.pk).values().get()

        # The broker delivers the same message again: the batch is no longer RECEIVED.
        assert process_feed_batch.apply(args=[batch.id]).get() == FeedBatch.Status.COMPLETED
        assert snapshot() == first
        assert FeedBatch.objects.filter(pk=batch.pk).values().get() == claimed
        assert claimed["runs"] == 2
        assert Interaction.objects.count() == 3

    def test_a_running_batch_is_not_claimed_again(self, source, agents, tmp_path):
        batch = ingest_text(source, FILE, tmp_path)
        FeedBatch.objects.filter(pk=batch.pk).update(status=FeedBatch.Status.PROCESSING)
        before = FeedBatch.objects.filter(pk=batch.pk).values().get()
        assert feed_batch_process(batch_id=batch.id).status == FeedBatch.Status.PROCESSING
        assert not feed_batch_requeue(batch_id=batch.id)
        assert FeedBatch.objects.filter(pk=batch.pk).values().get() == before

    def test_a_batch_whose_worker_died_is_resumed_with_its_report(
        self, source, agents, tmp_path, settings
    ):
        # Its worker died after the last chunk, before finishing: the lease runs out. The
        # old rule sent it back from the top after 6 hours, reporting its 3 new facts as
        # unchanged; it now resumes after the rows it applied and keeps their report.
        batch = ingest_text(source, FILE, tmp_path)
        long_ago = batch.started_at - timedelta(seconds=settings.FEED_BATCH_LEASE_SECONDS + 1)
        FeedBatch.objects.filter(pk=batch.pk).update(
            status=FeedBatch.Status.PROCESSING, heartbeat_at=long_ago
        )
        assert not feed_batch_requeue(batch_id=batch.id)  # not finished: resumed instead
        assert feed_batch_resume(batch_id=batch.id)
        again = feed_batch_process(batch_id=batch.id)
        assert (again.status, again.runs) == ("completed", 2)
        assert (again.rows_read, again.created_count, again.unchanged_count) == (3, 3, 0)

    def test_reprocessing_after_a_fix_applies_the_rows_that_failed(self, source, agents, tmp_path):
        batch = ingest_text(
            source, f"{HEADER}\nn1,NEWBIE,chat,2026-10-29T10:00:00Z,10,,\n", tmp_path
        )
        assert batch.rejected_count == 1
        from tests.factories import AgentExternalIdFactory

        AgentExternalIdFactory(agent=agents[0], source=source, external_id="NEWBIE")
        assert feed_batch_requeue(batch_id=batch.id)
        again = feed_batch_process(batch_id=batch.id)
        assert (again.created_count, again.rejected_count) == (1, 0)
        assert not again.row_errors.exists()


@pytest.mark.django_db
class TestIngestCommand:
    def test_prints_the_report(self, source, agents, tmp_path, capsys):
        path = tmp_path / "f.csv"
        path.write_text(FILE + "bad,A1,fax,2026-10-29T10:00:00Z,1,1,1\n")
        call_command("ingest", str(path), "--source", "helpdesk")
        out = capsys.readouterr().out
        assert "rows 4: created 3, updated 0, unchanged 0, rejected 1" in out
        assert "line 5: channel: unknown channel 'fax'" in out

    def test_json_report(self, source, agents, tmp_path, capsys):
        path = tmp_path / "f.csv"
        path.write_text(FILE + "bad,A1,fax,2026-10-29T10:00:00Z,1,1,1\n")
        call_command("ingest", str(path), "--source", "helpdesk", "--json")
        report = json.loads(capsys.readouterr().out)
        assert {
            k: report[k] for k in ("status", "rows", "created", "updated", "unchanged", "rejected")
        } == {
            "status": "completed",
            "rows": 4,
            "created": 3,
            "updated": 0,
            "unchanged": 0,
            "rejected": 1,
        }
        assert report["errors"][0]["line"] == 5 and report["errors"][0]["field"] == "channel"
        assert isinstance(report["batch"], int)

    def test_a_failed_file_exits_non_zero(self, source, agents, tmp_path, capsys):
        path = tmp_path / "f.csv"
        path.write_text("")
        with pytest.raises(CommandError, match="the file is empty") as raised:
            call_command("ingest", str(path), "--source", "helpdesk", "--json")
        assert raised.value.returncode == 2
        assert json.loads(capsys.readouterr().out)["status"] == "failed"

    def test_unknown_source(self, source, tmp_path):
        path = tmp_path / "f.csv"
        path.write_text(FILE)
        with pytest.raises(CommandError, match="no feed source 'nope' \\(known: helpdesk\\)"):
            call_command("ingest", str(path), "--source", "nope")

    def test_format_override(self, source, agents, tmp_path, capsys):
        path = tmp_path / "f.txt"
        path.write_text(
            '{"external_id": "j1", "agent": "A1", "channel": "chat", "started_at": "2026-10-29T10:00:00Z"}\n'
        )
        call_command("ingest", str(path), "--source", "helpdesk", "--format", "jsonl", "--json")
        assert json.loads(capsys.readouterr().out)["created"] == 1
