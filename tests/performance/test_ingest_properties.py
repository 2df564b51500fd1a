"""Property: for any mix of valid, invalid, duplicate and partial rows, the accounting adds
up and the facts equal the last valid value per key and field."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.models import Interaction
from performance.services.ingest import chunks
from tests.performance.helpers import ingest_text

COLUMNS = ["external_id", "agent", "channel", "started_at", "csat", "nps", "handle_seconds"]
SURVEY_FIELDS = ["csat", "nps", "handle_seconds"]
keys = st.sampled_from(["k0", "k1", "k2", "k3"])
surveys = st.fixed_dictionaries(
    {},
    optional={
        "csat": st.integers(1, 5),
        "nps": st.integers(0, 10),
        "handle_seconds": st.integers(0, 3600),
    },
)
full_rows = st.builds(
    lambda key, agent, channel, hour, extra: {
        "external_id": key,
        "agent": agent,
        "channel": channel,
        "started_at": f"2026-10-29T{hour:02d}:00:00Z",
        **extra,
    },
    keys,
    st.sampled_from(["A1", "P1"]),
    st.sampled_from(["phone", "chat"]),
    st.integers(0, 23),
    surveys,
)
partial_rows = st.builds(lambda key, extra: {"external_id": key, **extra}, keys, surveys)
invalid_rows = st.builds(
    lambda key, problem: {"external_id": key, **problem},
    keys,
    st.sampled_from(
        [
            {"csat": "9"},
            {"nps": "-1"},
            {"handle_seconds": "-5"},
            {"agent": "ghost", "channel": "chat", "started_at": "2026-10-29T10:00:00Z"},
            {"channel": "fax"},
            {"started_at": "soon"},
        ]
    ),
)
feeds = st.lists(st.one_of(full_rows, partial_rows, invalid_rows), min_size=1, max_size=25)


def expected_facts(
    rows: list[dict], start: dict[str, dict] | None = None
) -> tuple[dict[str, dict], int]:
    """The reference model: apply rows in order; return final facts and the rejected count."""
    facts: dict[str, dict] = dict(start or {})
    rejected = 0
    for row in rows:
        values = {k: v for k, v in row.items() if k != "external_id"}
        bad = (
            values.get("csat") == "9"
            or values.get("nps") == "-1"
            or values.get("handle_seconds") == "-5"
            or values.get("agent") == "ghost"
            or values.get("channel") == "fax"
            or values.get("started_at") == "soon"
        )
        key = row["external_id"]
        if bad or (key not in facts and "agent" not in values):
            rejected += 1
            continue
        facts[key] = {**facts.get(key, {}), **values}
    return facts, rejected


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def stored_facts() -> dict[str, dict]:
    facts = {}
    for i in Interaction.objects.select_related("agent__user"):
        fact = {
            "agent": {"alice": "A1", "paulo": "P1"}[i.agent.user.username],
            "channel": i.channel,
            "started_at": i.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        fact.update(
            {f: (int(getattr(i, f)) if getattr(i, f) is not None else None) for f in SURVEY_FIELDS}
        )
        facts[i.external_id] = {k: v for k, v in fact.items() if v is not None}
    return facts


counter = itertools.count()


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=feeds, chunk_rows=st.sampled_from([2, 7, 20_000]))
def test_accounting_adds_up_and_facts_equal_the_last_valid_values(
    rows, chunk_rows, source, alice, paulo, tmp_path
):
    Interaction.objects.all().delete()
    original = chunks.CHUNK_ROWS
    chunks.CHUNK_ROWS = chunk_rows
    try:
        batch = ingest_text(source, to_csv(rows), tmp_path, name=f"f{next(counter)}.csv")
        facts, rejected = expected_facts(rows)
        assert batch.rows_read == len(rows)
        assert (
            batch.created_count + batch.updated_count + batch.unchanged_count + batch.rejected_count
            == len(rows)
        )
        assert batch.rejected_count == rejected
        assert batch.created_count == len(facts)
        assert stored_facts() == facts

        # Sending the file again: a partial row that came before its interaction's first row is
        # now applied (the interaction exists); everything else is unchanged.
        again = ingest_text(source, to_csv(rows), tmp_path, name=f"f{next(counter)}.csv")
        facts_again, rejected_again = expected_facts(rows, start=facts)
        assert again.created_count == 0
        assert again.rejected_count == rejected_again
        assert again.updated_count + again.unchanged_count + again.rejected_count == len(rows)
        assert stored_facts() == facts_again
        if facts_again == facts and chunk_rows >= len(rows):
            assert again.updated_count == 0
    finally:
        chunks.CHUNK_ROWS = original
