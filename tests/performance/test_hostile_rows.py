"""No row can fail a batch (issue 7, section 2): every malformed value is a row rejection with
line, field and reason, a file-level problem is one message with no partial effect, CSV and
JSON Lines follow the same rules, and a batch that stops still re-scores what it committed."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.feeds.files import MAX_COLUMNS
from performance.models import Evaluation, FeedBatch, FeedRowError, Interaction
from performance.services.ingest import chunks, feed_batch_requeue
from performance.services.ingest.chunks import ChunkApplier
from tests.factories import make_standard
from tests.performance.helpers import errors_of, ingest_text

HEADER = "external_id,agent,channel,started_at,csat,qa_score"
GOOD = "g1,A1,phone,2026-10-29T10:00:00Z,5,80"


@pytest.fixture
def agents(alice, paulo):
    return alice, paulo


def jsonl(*lines: str | dict) -> str:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def record(**values) -> dict:
    return {
        "external_id": "j1",
        "agent": "A1",
        "channel": "phone",
        "started_at": "2026-10-29T10:00:00Z",
        **values,
    }


def csv_batch(source, tmp_path, *rows: str) -> FeedBatch:
    return ingest_text(source, "\n".join([HEADER, GOOD, *rows]) + "\n", tmp_path)


def jsonl_batch(source, tmp_path, *lines: str | dict) -> FeedBatch:
    first = record(external_id="g1", csat=5, qa_score=80)
    return ingest_text(source, jsonl(first, *lines), tmp_path, format="jsonl", name="f.jsonl")


def completed_with(batch: FeedBatch, *, rejected: int) -> list[tuple[int, str, str]]:
    """The batch completed, applied its good row and rejected `rejected` rows; its errors."""
    batch.refresh_from_db()
    assert batch.status == FeedBatch.Status.COMPLETED, batch.error
    assert (batch.created_count, batch.rejected_count) == (1, rejected)
    return errors_of(batch)


EXTREME_MOMENTS = [
    ("0001-01-01T00:00:00+05:00", "before 2000-01-01 or too far in the future"),
    ("9999-12-31T23:59:59-05:00", "before 2000-01-01 or too far in the future"),
    ("0001-01-01T00:00:00", "before 2000-01-01 or too far in the future"),
    ("1999-12-31T23:59:59Z", "before 2000-01-01 or too far in the future"),
    ("9999-12-31T23:59:59Z", "9999-12-31 23:59 UTC is in the future"),
]


@pytest.mark.django_db
class TestMalformedValuesAreRowRejections:
    @pytest.mark.parametrize(("moment", "reason"), EXTREME_MOMENTS)
    def test_extreme_timestamps_csv(self, source, agents, tmp_path, moment, reason):
        batch = csv_batch(source, tmp_path, f"t1,A1,phone,{moment},,")
        [(line, field, message)] = completed_with(batch, rejected=1)
        assert (line, field) == (3, "started_at")
        assert message.endswith(reason)

    @pytest.mark.parametrize(("moment", "reason"), EXTREME_MOMENTS)
    def test_extreme_timestamps_jsonl(self, source, agents, tmp_path, moment, reason):
        batch = jsonl_batch(source, tmp_path, record(started_at=moment))
        [(line, field, message)] = completed_with(batch, rejected=1)
        assert (line, field) == (2, "started_at")
        assert message.endswith(reason)

    def test_extreme_timestamps_in_a_source_zone_east_of_utc(self, source, agents, tmp_path):
        source.time_zone = "Asia/Tokyo"
        source.save()
        batch = csv_batch(source, tmp_path, "t1,A1,phone,0001-01-01 00:00:00,,")
        assert [e[:2] for e in completed_with(batch, rejected=1)] == [(3, "started_at")]

    def test_an_ended_at_far_ahead_is_rejected(self, source, agents, tmp_path):
        batch = jsonl_batch(source, tmp_path, record(ended_at="9999-12-31T23:59:59-05:00"))
        assert [e[:2] for e in completed_with(batch, rejected=1)] == [(2, "ended_at")]

    @pytest.mark.parametrize("digits", [400, 1000, 4000])
    def test_huge_integers_in_json_lines(self, source, agents, tmp_path, digits):
        huge = "9" * digits
        lines = [
            f'{{"external_id": "h1", "agent": "A1", "channel": "phone", '
            f'"started_at": "2026-10-29T10:00:00Z", "{name}": {huge}}}'
            for name in ("csat", "qa_score", "handle_seconds")
        ]
        errors = completed_with(jsonl_batch(source, tmp_path, *lines), rejected=3)
        assert [e[:2] for e in errors] == [(2, "csat"), (3, "qa_score"), (4, "handle_seconds")]
        assert all(e[2].startswith("9" * 59 + "…") and len(e[2]) < 200 for e in errors)

    def test_an_integer_too_long_to_read_in_json_lines(self, source, agents, tmp_path):
        line = '{"external_id": "h1", "csat": ' + "9" * 5000 + "}"
        [(row, field, message)] = completed_with(jsonl_batch(source, tmp_path, line), rejected=1)
        assert (row, field, message) == (2, "", "holds a number too long to read")

    def test_deep_nesting_in_json_lines(self, source, agents, tmp_path):
        line = '{"external_id": "h1", "csat": ' + "[" * 100_000 + "]" * 100_000 + "}"
        [(row, field, message)] = completed_with(jsonl_batch(source, tmp_path, line), rejected=1)
        assert (row, field, message) == (2, "", "is nested too deeply to read")

    @pytest.mark.parametrize("column", [0, 1, 2, 3, 4, 5])
    def test_a_nul_byte_in_any_csv_field(self, source, agents, tmp_path, column):
        cells = ["n1", "A1", "phone", "2026-10-29T10:00:00Z", "4", "70"]
        cells[column] = cells[column][:1] + "\x00" + cells[column][1:]
        batch = csv_batch(source, tmp_path, ",".join(cells))
        [(line, field, message)] = completed_with(batch, rejected=1)
        assert (line, field) == (3, HEADER.split(",")[column])
        assert "NUL character" in message
        assert FeedRowError.objects.get(batch=batch).raw == ",".join(cells).replace(
            "\x00", "\ufffd"
        )
        assert not Interaction.objects.filter(external_id__startswith="n").exists()

    @pytest.mark.parametrize("field", ["external_id", "agent", "channel", "started_at"])
    def test_a_nul_in_any_json_lines_field(self, source, agents, tmp_path, field):
        raw = record(external_id="n1")
        raw[field] = raw[field][:1] + "\x00" + raw[field][1:]
        batch = jsonl_batch(source, tmp_path, json.dumps(raw))
        assert [e[:2] for e in completed_with(batch, rejected=1)] == [(2, field)]

    def test_a_raw_nul_byte_in_a_json_line(self, source, agents, tmp_path):
        batch = jsonl_batch(source, tmp_path, '{"external_id": "n\x001"}')
        [(line, field, message)] = completed_with(batch, rejected=1)
        assert (line, field) == (2, "")
        assert message.startswith("not valid JSON: Invalid control character")
        assert "\x00" not in FeedRowError.objects.get(batch=batch).raw

    def test_half_a_surrogate_pair_in_json_lines(self, source, agents, tmp_path):
        batch = jsonl_batch(source, tmp_path, json.dumps(record(external_id="s\ud8001")))
        assert [e[:2] for e in completed_with(batch, rejected=1)] == [(2, "external_id")]

    def test_a_cell_over_the_csv_field_limit_is_a_row_rejection(self, source, agents, tmp_path):
        batch = csv_batch(source, tmp_path, f'b1,A1,phone,2026-10-29T10:00:00Z,"{"x" * 200_000}",')
        errors = completed_with(batch, rejected=1)
        assert errors[0][0] == 3 and "field larger than field limit" in errors[0][2]


@pytest.mark.django_db
class TestFileLevelProblems:
    def test_a_header_field_over_the_csv_field_limit(self, source, agents, tmp_path):
        batch = ingest_text(source, f'external_id,"{"x" * 200_000}"\ng1,1\n', tmp_path)
        assert batch.status == FeedBatch.Status.FAILED
        assert batch.error.startswith("the header row cannot be read as CSV")
        assert not Interaction.objects.exists()

    def test_columns_are_capped(self, source, agents, tmp_path):
        header = ",".join(["external_id", *["csat"] * 100_000])
        batch = ingest_text(source, f"{header}\n", tmp_path)
        assert batch.status == FeedBatch.Status.FAILED
        assert batch.error == f"the file has 100001 columns; at most {MAX_COLUMNS} are read"

    def test_duplicate_columns_are_found_among_many(self, source, agents, tmp_path):
        header = ",".join(["external_id", "csat", *[f"x{i}" for i in range(150)], "CSAT"])
        batch = ingest_text(source, f"{header}\n", tmp_path)
        assert batch.error == "column for csat appears more than once"

    def test_a_json_object_with_too_many_keys(self, source, agents, tmp_path):
        wide = record(**{f"x{i}": i for i in range(MAX_COLUMNS)})
        [(line, field, message)] = completed_with(jsonl_batch(source, tmp_path, wide), rejected=1)
        assert (line, field) == (2, "")
        assert message.endswith(f"keys; at most {MAX_COLUMNS} are read")


@pytest.mark.django_db
class TestCsvAndJsonLinesAgree:
    @pytest.mark.parametrize("value", ["5.0", "4.5"])
    def test_an_integer_field_refuses_a_decimal(self, source, agents, tmp_path, value):
        batch = csv_batch(source, tmp_path, f"w1,A1,phone,2026-10-29T10:00:00Z,{value},")
        csv_errors = completed_with(batch, rejected=1)
        Interaction.objects.all().delete()
        line = jsonl_batch(source, tmp_path, record(csat=float(value)))
        json_errors = completed_with(line, rejected=1)
        assert [e[1:] for e in csv_errors] == [("csat", f"'{value}' is not a whole number")]
        assert [e[1:] for e in json_errors] == [("csat", f"{value} is not a whole number")]

    @pytest.mark.parametrize("second", ["csat", "CSAT", " Csat "])
    def test_json_lines_rejects_a_key_given_twice(self, source, agents, tmp_path, second):
        line = json.dumps(record(csat=5))[:-1] + f', "{second}": 1}}'
        [(row, field, message)] = completed_with(jsonl_batch(source, tmp_path, line), rejected=1)
        assert (row, field) == (2, "csat")
        assert message.startswith("csat is given more than once")
        assert not Interaction.objects.filter(external_id="j1").exists()

    def test_minus_zero_is_stored_as_zero(self, source, agents, tmp_path):
        batch = ingest_text(
            source,
            "external_id,agent,channel,started_at,qa_score,handle_seconds\n"
            "z1,A1,phone,2026-10-29T10:00:00Z,-0,-0.0\n",
            tmp_path,
        )
        assert batch.created_count == 1
        lines = jsonl(record(external_id="z2", qa_score=-0.0, handle_seconds=-0.0, nps=-0))
        ingest_text(source, lines, tmp_path, format="jsonl", name="z.jsonl")
        for fact in Interaction.objects.all():
            for value in (fact.qa_score, fact.handle_seconds):
                assert str(value) == "0.0"


@pytest.mark.django_db
class TestRawTextAndDownload:
    def test_a_rejected_csv_row_keeps_its_quoting(self, source, agents, tmp_path):
        row = '"r1",A1,"pho,ne","2026-10-29T10:00:00Z",9,'
        batch = csv_batch(source, tmp_path, row)
        completed_with(batch, rejected=1)
        assert FeedRowError.objects.get(batch=batch).raw == 'r1,A1,"pho,ne",2026-10-29T10:00:00Z,9,'

    def test_a_rejected_json_line_is_kept_as_received(self, source, agents, tmp_path):
        line = '{"external_id":"r1",  "csat": 9, "agent":"A1"}'
        batch = jsonl_batch(source, tmp_path, line)
        completed_with(batch, rejected=1)
        assert FeedRowError.objects.get(batch=batch).raw == line

    def test_the_download_neutralises_formulas(self, client, dave, source, agents, tmp_path):
        from django.urls import reverse

        from tests.scenarios import login

        rows = [f"{start}x,A1,phone,2026-10-29T10:00:00Z,9," for start in ("=", "+", "-", "@")]
        rows.append('"\tx",A1,phone,2026-10-29T10:00:00Z,9,')
        batch = csv_batch(source, tmp_path, *rows)
        login(client, dave)
        response = client.get(reverse("feed-batch-rejected", args=[batch.id]))
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        cells = [row[3] for row in csv.reader(io.StringIO(body))][1:]
        assert [cell[:2] for cell in cells] == ["'=", "'+", "'-", "'@", "'\t"]


@pytest.mark.django_db
def test_a_failed_batch_rescores_the_periods_of_its_committed_chunks(
    source, alice, paulo, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    standard = make_standard(metric="volume", target=1)
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 1)
    apply = ChunkApplier.apply
    calls = itertools.count(1)

    def failing_second_chunk(self, chunk):
        if next(calls) == 2:
            raise RuntimeError("the database went away")
        return apply(self, chunk)

    monkeypatch.setattr(ChunkApplier, "apply", failing_second_chunk)
    text = f"{HEADER}\n{GOOD}\ng2,A1,phone,2026-10-30T10:00:00Z,4,\n"
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        ingest_text(source, text, tmp_path)
    batch = FeedBatch.objects.get()
    assert batch.status == FeedBatch.Status.FAILED
    assert batch.created_count == 1
    assert set(
        Evaluation.objects.filter(standard=standard, agent=alice, sample_size=1).values_list(
            "period_start", flat=True
        )
    ) == {date(2026, 10, 29)}

    monkeypatch.setattr(ChunkApplier, "apply", apply)
    with django_capture_on_commit_callbacks(execute=True):
        assert feed_batch_requeue(batch_id=batch.id)
    batch.refresh_from_db()
    assert batch.status == FeedBatch.Status.COMPLETED
    assert Interaction.objects.count() == 2


# --- property: hostile rows ------------------------------------------------------------------

COLUMNS = ["external_id", "agent", "channel", "started_at", "ended_at", "csat", "qa_score"]
HOSTILE_TEXT = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "\x01\x1f\x7f",
        "\u2028",
        "\ufeff",
        "\r",
        '"',
        '""x"',
        ",;\t",
        "=1+2",
        "ção",
        "x" * 300,
        " ",
        "",
    ]
)
HOSTILE_NUMBERS = st.sampled_from(
    ["1e309", "-1e309", "nan", "inf", "5e-324", "-0", "-0.0", "5.0", "1_0", "0x5", "٣", "9" * 500]
)
HOSTILE_MOMENTS = st.sampled_from(
    [
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01",
        "9999-12-31",
        "2026-13-01",
        "2026-10-29T25:00:00",
        "1999-12-31T23:59:59Z",
        "2026-10-29T10:00:00+99:00",
    ]
)
GOOD_VALUES = {
    "external_id": st.sampled_from(["k0", "k1", "k2"]),
    "agent": st.sampled_from(["A1", "P1"]),
    "channel": st.sampled_from(["phone", "chat"]),
    "started_at": st.sampled_from(["2026-10-29T10:00:00Z", "2026-10-29T11:00:00-03:00"]),
    "ended_at": st.sampled_from(["", "2026-10-29T12:00:00Z"]),
    "csat": st.sampled_from(["", "1", "5"]),
    "qa_score": st.sampled_from(["", "0", "99.5"]),
}


def hostile_value(name: str) -> st.SearchStrategy:
    bad = [HOSTILE_TEXT, HOSTILE_NUMBERS, HOSTILE_MOMENTS]
    return (
        st.one_of(GOOD_VALUES[name], *bad)
        if name != "external_id"
        else st.one_of(GOOD_VALUES[name], HOSTILE_TEXT)
    )


hostile_rows = st.lists(
    st.fixed_dictionaries({name: hostile_value(name) for name in COLUMNS}), min_size=1, max_size=8
)
as_json_value = st.sampled_from(["text", "number", "nested"])


def hostile_csv(rows: list[dict], quoting: int, latin_cells: bool) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\r\n", quoting=quoting)
    writer.writeheader()
    writer.writerows(rows)
    text = out.getvalue()
    if not latin_cells:
        return text.encode()
    # Mixed encodings: a part of the file in Windows-1252, the rest in UTF-8.
    half = len(text) // 2
    return text[:half].encode() + text[half:].encode("windows-1252", errors="replace")


def hostile_jsonl(rows: list[dict], shapes: list[str]) -> bytes:
    lines = []
    for row, shape in zip(rows, itertools.cycle(shapes), strict=False):
        obj: dict = {}
        for name, value in row.items():
            if shape == "number" and name in ("csat", "qa_score"):
                try:
                    obj[name] = json.loads(value)
                except ValueError:
                    obj[name] = value
            elif shape == "nested" and name == "channel":
                obj[name] = {"v": [value]}
            else:
                obj[name] = value
        lines.append(json.dumps(obj, ensure_ascii=shape == "text"))
    return ("\n".join(lines) + "\n").encode()


hostile_counter = itertools.count()


@pytest.mark.django_db
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=hostile_rows,
    format=st.sampled_from(["csv", "jsonl"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    latin_cells=st.booleans(),
    shapes=st.lists(as_json_value, min_size=1, max_size=3),
    chunk_rows=st.sampled_from([2, 20_000]),
)
def test_hostile_rows_never_fail_a_batch(
    rows, format, quoting, latin_cells, shapes, chunk_rows, source, alice, paulo, tmp_path
):
    Interaction.objects.exclude(external_id="keep").delete()
    keep = Interaction.objects.filter(external_id="keep")
    if not keep.exists():
        ingest_text(source, f"{HEADER}\nkeep,P1,chat,2026-10-28T10:00:00Z,3,50\n", tmp_path)
    before = list(keep.values())
    original = chunks.CHUNK_ROWS
    chunks.CHUNK_ROWS = chunk_rows
    try:
        if format == "csv":
            data = hostile_csv(rows, quoting, latin_cells)
        else:
            data = hostile_jsonl(rows, shapes)
        name = f"h{next(hostile_counter)}.{format}"
        batch = ingest_text(source, data, tmp_path, format=format, name=name)
    finally:
        chunks.CHUNK_ROWS = original
    assert batch.status == FeedBatch.Status.COMPLETED, batch.error
    assert batch.rows_read == len(rows)
    assert (
        batch.created_count + batch.updated_count + batch.unchanged_count + batch.rejected_count
        == batch.rows_read
    )
    assert list(keep.values()) == before
