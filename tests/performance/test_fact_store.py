"""The fast ingest paths: fact stores, recognising re-sent rows, and quick validation.

The PostgreSQL store (COPY, staged merge) and the portable one (batched upserts) must give
the same facts for the same file; a file sent again must write nothing; a row recognised
as already applied must really be unable to change anything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.feeds import CellValidator, FieldParsers, validate_row
from performance.models import AgentExternalId, Channel, Interaction
from performance.services.ingest import batches, chunks, fact_store
from tests.factories import AgentFactory
from tests.performance.helpers import errors_of, ingest_text

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"
)

HEADER = (
    "external_id,agent,channel,started_at,ended_at,handle_seconds,first_response_seconds,"
    "wait_seconds,case_id,resolved,first_contact_resolution,transferred,escalated,abandoned,"
    "csat,nps,ces,qa_score"
)
# Every field, naive and offset timestamps, a derived handle time, a late survey, a
# correction, a row repeated, a row sent back to an earlier value, and bad rows.
FEED = (
    f"{HEADER}\n"
    "f1,A1,phone,2026-10-29T10:00:00Z,,312.5,,22,C1,true,true,false,false,false,5,9,2,88.5\n"
    "f2,P1,chat,2026-10-29 11:00:00,2026-10-29 11:07:30,,41,,C2,sim,nao,1,0,,,,,\n"
    "f3,A1,email,2026-10-29T23:30:00-03:00,,180,7200,,,,,,,,,,,\n"
    "f4,P1,social,2026-10-30T08:00:00Z,,60,900,,C4,no,no,no,yes,,1,0,7,\n"
    "f1,,,,,,,,,,,,,,4,,,\n"
    "f3,A1,email,2026-10-29T23:30:00-03:00,,200,7200,,,,,,,,,,,\n"
    "f4,P1,social,2026-10-30T08:00:00Z,,60,900,,C4,no,no,no,yes,,1,0,7,\n"
    "f5,A1,chat,2026-10-30T09:00:00Z,,30,5,,,,,,,,,,,\n"
    "f5,A1,chat,2026-10-30T09:00:00Z,,31,5,,,,,,,,,,,\n"
    "f5,A1,chat,2026-10-30T09:00:00Z,,30,5,,,,,,,,,,,\n"
    "f6,ZZ,chat,2026-10-30T09:00:00Z,,30,5,,,,,,,,,,,\n"
    "f7,A1,fax,2026-10-30T09:00:00Z,,-4,5,,,,,,,,9,,,\n"
    "f8,,,,,,,,,,,,,,3,,,\n"
)


def facts() -> dict[str, dict]:
    """Every fact with the fields it has (None and an empty case_id left out)."""
    return {
        external_id: {
            name: value
            for name, value in zip(fact_store.FACT_FIELDS, values, strict=True)
            if value is not None and value != ""
        }
        for external_id, *values in Interaction.objects.values_list(
            "external_id", *fact_store.FACT_FIELDS
        )
    }


def writes() -> dict[str, tuple]:
    """What any write of a fact changes, even one that rewrites the same values."""
    columns = ["external_id", "updated_at", "batch_id", "row_digest"]
    rows = Interaction.objects.values_list(*columns)
    written = {row[0]: (*row[1:3], bytes(row[3] or b"")) for row in rows}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT external_id, ctid::text FROM {fact_store.TABLE}")
            for key, ctid in cursor.fetchall():
                written[key] = (*written[key], ctid)
    return written


@pytest.fixture
def agents(alice, paulo):
    return alice, paulo


@pytest.fixture
def sao_paulo_source(source):
    source.time_zone = "America/Sao_Paulo"
    source.save()
    return source


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.django_db
class TestSameFactsOnEveryDatabase:
    def expected(self, alice, paulo) -> dict[str, dict]:
        a, p = alice.id, paulo.id
        return {key: {**fact, "qa_reviewed": False} for key, fact in self.fed(a, p).items()}

    def fed(self, a: int, p: int) -> dict[str, dict]:
        return {
            "f1": {
                **{"agent_id": a, "channel": "phone", "started_at": at("2026-10-29T10:00Z")},
                **{"handle_seconds": 312.5, "wait_seconds": 22.0, "case_id": "C1"},
                **{"resolved": True, "first_contact_resolution": True, "transferred": False},
                **{"escalated": False, "abandoned": False},
                **{"csat": 4, "nps": 9, "ces": 2, "qa_score": 88.5, "feed_qa_score": 88.5},
            },
            "f2": {
                **{"agent_id": p, "channel": "chat", "started_at": at("2026-10-29T11:00-03:00")},
                **{"ended_at": at("2026-10-29T11:07:30-03:00"), "handle_seconds": 450.0},
                **{"first_response_seconds": 41.0, "case_id": "C2"},
                **{"resolved": True, "first_contact_resolution": False, "transferred": True},
                **{"escalated": False},
            },
            "f3": {
                **{"agent_id": a, "channel": "email", "started_at": at("2026-10-29T23:30-03:00")},
                **{"handle_seconds": 200.0, "first_response_seconds": 7200.0},
            },
            "f4": {
                **{"agent_id": p, "channel": "social", "started_at": at("2026-10-30T08:00Z")},
                **{"handle_seconds": 60.0, "first_response_seconds": 900.0, "case_id": "C4"},
                **{"resolved": False, "first_contact_resolution": False, "transferred": False},
                **{"escalated": True, "csat": 1, "nps": 0, "ces": 7},
            },
            "f5": {
                **{"agent_id": a, "channel": "chat", "started_at": at("2026-10-30T09:00Z")},
                **{"handle_seconds": 30.0, "first_response_seconds": 5.0},
            },
        }

    def test_the_facts_are_exactly_the_expected_ones(
        self, sao_paulo_source, alice, paulo, tmp_path
    ):
        batch = ingest_text(sao_paulo_source, FEED, tmp_path)
        assert facts() == self.expected(alice, paulo)
        assert (batch.rows_read, batch.created_count, batch.updated_count) == (13, 5, 4)
        assert (batch.unchanged_count, batch.rejected_count) == (1, 3)
        assert [(line, field) for line, field, _ in errors_of(batch)] == [
            (12, "agent"),
            (13, "handle_seconds"),
            (13, "csat"),
            (14, "agent"),
            (14, "channel"),
            (14, "started_at"),
        ]

    @pytest.mark.parametrize("chunk_rows", [1, 2, 3, 5])
    def test_chunk_boundaries_change_nothing(
        self, sao_paulo_source, alice, paulo, tmp_path, monkeypatch, chunk_rows
    ):
        monkeypatch.setattr(chunks, "CHUNK_ROWS", chunk_rows)
        batch = ingest_text(sao_paulo_source, FEED, tmp_path)
        assert facts() == self.expected(alice, paulo)
        assert batch.created_count + batch.updated_count + batch.unchanged_count == 10

    @on_postgresql
    def test_postgresql_store_and_portable_store_give_the_same_facts(
        self, sao_paulo_source, agents, tmp_path, monkeypatch
    ):
        ingest_text(sao_paulo_source, FEED, tmp_path, name="postgres.csv")
        with_copy = facts()
        Interaction.objects.all().delete()
        # The batched upserts of the SQLite store are portable SQL: run them here too.
        monkeypatch.setattr(batches, "fact_store", fact_store.SQLiteFactStore)
        ingest_text(sao_paulo_source, FEED, tmp_path, name="portable.csv")
        assert facts() == with_copy

    @on_postgresql
    def test_copy_types_match_the_facts_table(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, atttypid::regtype::text FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0",
                [fact_store.TABLE],
            )
            column_types = dict(cursor.fetchall())
        aliases = {
            "bigint": "int8",
            "character varying": "text",
            "double precision": "float8",
            "boolean": "bool",
            "smallint": "int2",
            "timestamp with time zone": "timestamptz",
        }
        assert [
            aliases.get(column_types[column], column_types[column])
            for column in fact_store.WRITE_COLUMNS
        ] == list(fact_store.COPY_TYPES)

    def test_looking_up_keys_that_hold_the_separator(self, source, agents, tmp_path):
        key = "odd\x1fkey"
        text = (
            "external_id,agent,channel,started_at\n"
            f'"{key}",A1,chat,2026-10-29T10:00:00Z\n'
            "plain,A1,chat,2026-10-29T10:00:00Z\n"
        )
        ingest_text(source, text, tmp_path)
        store = fact_store.fact_store()
        assert set(store.probe(source.id, [key, "plain", "missing"])) == {key, "plain"}
        assert set(store.fetch(source.id, [key])) == {key}


@pytest.mark.django_db
class TestSendingAFileAgain:
    def test_writes_nothing(self, sao_paulo_source, agents, tmp_path):
        ingest_text(sao_paulo_source, FEED, tmp_path)
        before_facts, before_writes = facts(), writes()
        again = ingest_text(sao_paulo_source, FEED, tmp_path, name="again.csv")
        assert (again.created_count, again.updated_count, again.rejected_count) == (0, 0, 3)
        assert again.unchanged_count == 10
        assert facts() == before_facts
        assert writes() == before_writes
        assert not again.touches.exists()

    def test_jsonl_writes_nothing(self, source, agents, tmp_path):
        text = (
            '{"external_id": "j1", "agent": "A1", "channel": "chat", '
            '"started_at": "2026-10-29T10:00:00Z", "csat": 5, "resolved": true}\n'
            '{"external_id": 7, "agent": "P1", "channel": "email", '
            '"started_at": "2026-10-29T10:00:00Z"}\n'
        )
        ingest_text(source, text, tmp_path, format="jsonl")
        before = writes()
        again = ingest_text(source, text, tmp_path, format="jsonl", name="again.jsonl")
        assert (again.unchanged_count, again.created_count, again.updated_count) == (2, 0, 0)
        assert writes() == before

    def test_a_row_sent_back_to_an_earlier_value_is_applied(self, source, agents, tmp_path):
        first = "external_id,agent,channel,started_at,csat\nk,A1,chat,2026-10-29T10:00:00Z,3\n"
        second = "external_id,csat\nk,5\n"
        ingest_text(source, first, tmp_path)
        ingest_text(source, second, tmp_path, name="second.csv")
        batch = ingest_text(source, first, tmp_path, name="first-again.csv")
        assert batch.updated_count == 1
        assert Interaction.objects.get().csat == 3

    def test_a_row_after_another_row_of_its_key_is_applied(self, source, agents, tmp_path):
        full = "k,A1,chat,2026-10-29T10:00:00Z,3"
        header = "external_id,agent,channel,started_at,csat"
        ingest_text(source, f"{header}\n{full}\n", tmp_path)
        header = "external_id,agent,channel,started_at,csat"
        batch = ingest_text(
            source,
            f"{header}\nk,A1,chat,2026-10-29T10:00:00Z,5\n{full}\n",
            tmp_path,
            name="again.csv",
        )
        assert (batch.updated_count, batch.unchanged_count) == (0, 2)
        assert Interaction.objects.get().csat == 3

    def test_an_agent_mapped_to_another_person_moves_the_facts(self, source, agents, tmp_path):
        alice, _ = agents
        ingest_text(source, FEED, tmp_path)
        someone = AgentFactory(team=alice.team)
        AgentExternalId.objects.filter(source=source, external_id="A1").update(agent=someone)
        batch = ingest_text(source, FEED, tmp_path, name="again.csv")
        # Each row of a moved fact changes it on the way (f1: 2 rows, f3: 2, f5: 3).
        assert (batch.updated_count, batch.unchanged_count) == (7, 3)
        moved = Interaction.objects.filter(agent=someone).values_list("external_id", flat=True)
        assert set(moved) == {"f1", "f3", "f5"}

    def test_a_new_source_time_zone_rereads_naive_timestamps(self, source, agents, tmp_path):
        ingest_text(source, FEED, tmp_path)
        source.time_zone = "America/Sao_Paulo"
        source.save()
        batch = ingest_text(source, FEED, tmp_path, name="again.csv")
        assert batch.updated_count == 1
        assert Interaction.objects.get(external_id="f2").started_at == datetime(
            2026, 10, 29, 11, tzinfo=ZoneInfo("America/Sao_Paulo")
        )

    def test_a_channel_no_longer_known_rejects_its_rows(self, source, agents, tmp_path):
        ingest_text(source, FEED, tmp_path)
        Channel.objects.filter(code="social").delete()
        batch = ingest_text(source, FEED, tmp_path, name="again.csv")
        channel_errors = [line for line, field, _ in errors_of(batch) if field == "channel"]
        assert channel_errors == [5, 8, 14]

    def test_cells_holding_the_digest_separator_are_still_recognised(
        self, source, agents, tmp_path
    ):
        text = (
            "external_id,agent,channel,started_at,case_id\n"
            'k,A1,chat,2026-10-29T10:00:00Z,"a\x1fb"\n'
        )
        ingest_text(source, text, tmp_path)
        assert Interaction.objects.get().row_digest is None
        before = writes()
        again = ingest_text(source, text, tmp_path, name="again.csv")
        assert again.unchanged_count == 1
        assert writes() == before


COMMON_AND_ODD_CELLS = (
    *("0", "1", "5", "-3", "4.5", "1,5", "nan", "inf", "1e3", "", " ", " 7 ", "x" * 129),
    *("true", "TRUE", "sim", "não", "maybe", "chat", "29/10/2026", " 2026-10-29T10:00:00Z"),
    *("2026-10-29T10:00:00Z", "2026-10-29 10:00:00", "2026-10-29T10:00:00+01:00"),
)
CELLS = st.one_of(st.sampled_from(COMMON_AND_ODD_CELLS), st.text(max_size=6))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(CELLS, min_size=18, max_size=18),
    decimal_comma=st.booleans(),
    zone=st.sampled_from(["UTC", "America/Sao_Paulo"]),
)
def test_quick_validation_agrees_with_the_exact_rules(cells, decimal_comma, zone):
    fields = HEADER.split(",")
    parsers = FieldParsers(time_zone=ZoneInfo(zone), decimal_comma=decimal_comma)
    quick = CellValidator(fields, parsers)(cells, 7)
    exact = validate_row(dict(zip(fields, cells, strict=True)), line=7, parsers=parsers)
    assert quick == exact
