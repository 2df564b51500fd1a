"""Each parsing and validation rule of a feed, through the real ingest service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from performance.models import FeedBatch, FeedSource, Interaction
from tests.performance.helpers import errors_of, ingest_text

HEADER = "external_id,agent,channel,started_at"


def fact(external_id: str) -> Interaction:
    return Interaction.objects.get(external_id=external_id)


@pytest.fixture
def agents(alice, paulo):
    return alice, paulo


@pytest.mark.django_db
class TestCsvDialects:
    def test_comma_delimited_utf8(self, source, agents, tmp_path):
        batch = ingest_text(
            source, f"{HEADER},handle_seconds\nc1,A1,phone,2026-10-29T11:42:06Z,312.5\n", tmp_path
        )
        assert batch.status == FeedBatch.Status.COMPLETED
        assert fact("c1").handle_seconds == 312.5

    def test_semicolon_with_bom_and_decimal_comma(self, source, agents, tmp_path):
        text = "\ufeffexternal_id;agent;channel;started_at;handle_seconds;qa_score\n"
        text += "c1;A1;phone;2026-10-29T11:42:06Z;312,5;88,25\n"
        batch = ingest_text(source, text.encode("utf-8"), tmp_path)
        assert batch.created_count == 1
        assert (fact("c1").handle_seconds, fact("c1").qa_score) == (312.5, 88.25)

    def test_decimal_comma_is_not_accepted_with_comma_delimiter(self, source, agents, tmp_path):
        batch = ingest_text(
            source, f'{HEADER},handle_seconds\nc1,A1,phone,2026-10-29T11:42:06Z,"312,5"\n', tmp_path
        )
        assert errors_of(batch) == [(2, "handle_seconds", "'312,5' is not a number")]

    def test_crlf_line_endings_and_quoted_fields(self, source, agents, tmp_path):
        text = f'{HEADER},case_id\r\nc1,A1,phone,2026-10-29T11:42:06Z,"case, with comma"\r\n'
        batch = ingest_text(source, text, tmp_path)
        assert batch.created_count == 1
        assert fact("c1").case_id == "case, with comma"

    def test_header_names_are_case_and_space_insensitive(self, source, agents, tmp_path):
        text = " External_ID , Agent ,CHANNEL,started_at\nc1,A1,chat,2026-10-29T11:42:06Z\n"
        assert ingest_text(source, text, tmp_path).created_count == 1

    def test_column_mapping_renames_source_columns(self, source, agents, tmp_path):
        source.column_mapping = {
            "ticket": "external_id",
            "owner": "agent",
            "via": "channel",
            "opened": "started_at",
            "satisfaction": "csat",
        }
        source.save()
        text = "ticket,owner,via,opened,satisfaction,ignored\nt9,A1,email,2026-10-29 08:00:00,4,x\n"
        batch = ingest_text(source, text, tmp_path)
        assert batch.created_count == 1
        assert (fact("t9").channel, fact("t9").csat) == ("email", 4)


@pytest.mark.django_db
class TestValues:
    @pytest.mark.parametrize(
        ("word", "expected"),
        [
            ("true", True),
            ("1", True),
            ("yes", True),
            ("Sim", True),
            ("false", False),
            ("0", False),
            ("no", False),
            ("nao", False),
            ("não", False),
            ("NÃO", False),
        ],
    )
    def test_booleans(self, source, agents, tmp_path, word, expected):
        ingest_text(
            source, f"{HEADER},resolved\nb1,A1,chat,2026-10-29T10:00:00Z,{word}\n", tmp_path
        )
        assert fact("b1").resolved is expected

    def test_bad_boolean(self, source, agents, tmp_path):
        batch = ingest_text(
            source, f"{HEADER},escalated\nb1,A1,chat,2026-10-29T10:00:00Z,maybe\n", tmp_path
        )
        assert errors_of(batch)[0][:2] == (2, "escalated")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-10-29T11:42:06Z", datetime(2026, 10, 29, 11, 42, 6, tzinfo=UTC)),
            ("2026-10-29T11:42:06+01:00", datetime(2026, 10, 29, 10, 42, 6, tzinfo=UTC)),
            (
                "2026-10-29T11:42:06.250-03:00",
                datetime(2026, 10, 29, 14, 42, 6, 250000, tzinfo=UTC),
            ),
            # naive: read in the source's zone (America/Sao_Paulo, UTC-3)
            ("2026-10-29 11:42:06", datetime(2026, 10, 29, 14, 42, 6, tzinfo=UTC)),
        ],
    )
    def test_timestamps(self, source, agents, tmp_path, text, expected):
        source.time_zone = "America/Sao_Paulo"
        source.save()
        ingest_text(source, f"{HEADER}\nt1,A1,phone,{text}\n", tmp_path)
        assert fact("t1").started_at == expected

    def test_bad_timestamp(self, source, agents, tmp_path):
        batch = ingest_text(source, f"{HEADER}\nt1,A1,phone,29/10/2026 11:42\n", tmp_path)
        assert errors_of(batch)[0][:2] == (2, "started_at")
        assert "ISO 8601" in errors_of(batch)[0][2]

    def test_future_start_is_rejected(self, source, agents, tmp_path):
        batch = ingest_text(source, f"{HEADER}\nt1,A1,phone,2099-01-01T00:00:00Z\n", tmp_path)
        assert errors_of(batch) == [(2, "started_at", "2099-01-01 00:00 UTC is in the future")]

    def test_handle_seconds_derived_from_ended_at(self, source, agents, tmp_path):
        text = f"{HEADER},ended_at\nd1,A1,phone,2026-10-29T10:00:00Z,2026-10-29T10:05:30Z\n"
        ingest_text(source, text, tmp_path)
        assert fact("d1").handle_seconds == 330

    def test_ended_before_started(self, source, agents, tmp_path):
        text = f"{HEADER},ended_at\nd1,A1,phone,2026-10-29T10:00:00Z,2026-10-29T09:00:00Z\n"
        batch = ingest_text(source, text, tmp_path)
        assert errors_of(batch) == [(2, "ended_at", "is before started_at")]

    @pytest.mark.parametrize(
        ("column", "value", "reason"),
        [
            ("csat", "6", "6 is outside 1-5"),
            ("csat", "0", "0 is outside 1-5"),
            ("csat", "4.5", "'4.5' is not a whole number"),
            ("nps", "11", "11 is outside 0-10"),
            ("ces", "8", "8 is outside 1-7"),
            ("qa_score", "100.5", "100.5 is above the maximum 100"),
            ("qa_score", "-1", "-1 is below the minimum 0"),
            ("handle_seconds", "-3", "'-3' is negative; durations must be >= 0"),
            ("wait_seconds", "abc", "'abc' is not a number"),
            ("first_response_seconds", "nan", "'nan' is not a finite number"),
        ],
    )
    def test_ranges(self, source, agents, tmp_path, column, value, reason):
        batch = ingest_text(
            source, f"{HEADER},{column}\nr1,A1,chat,2026-10-29T10:00:00Z,{value}\n", tmp_path
        )
        assert errors_of(batch) == [(2, column, reason)]
        assert not Interaction.objects.exists()

    def test_bounds_are_inclusive(self, source, agents, tmp_path):
        text = f"{HEADER},csat,nps,ces,qa_score,handle_seconds\nr1,A1,chat,2026-10-29T10:00:00Z,5,0,7,100,0\n"
        batch = ingest_text(source, text, tmp_path)
        assert batch.created_count == 1

    def test_unknown_channel(self, source, agents, tmp_path):
        batch = ingest_text(source, f"{HEADER}\nr1,A1,fax,2026-10-29T10:00:00Z\n", tmp_path)
        line, field, reason = errors_of(batch)[0]
        assert (line, field) == (2, "channel")
        assert reason.startswith("unknown channel 'fax' (known: chat, email, messaging, phone")

    def test_channel_is_case_insensitive(self, source, agents, tmp_path):
        ingest_text(source, f"{HEADER}\nr1,A1,Chat,2026-10-29T10:00:00Z\n", tmp_path)
        assert fact("r1").channel == "chat"

    def test_unknown_agent(self, source, agents, tmp_path):
        batch = ingest_text(source, f"{HEADER}\nr1,ZZ,chat,2026-10-29T10:00:00Z\n", tmp_path)
        assert errors_of(batch) == [
            (
                2,
                "agent",
                "unknown agent 'ZZ' (matched by external id (per source)); add the agent or "
                "enable creating unknown agents",
            )
        ]

    def test_all_errors_of_a_row_are_reported(self, source, agents, tmp_path):
        batch = ingest_text(source, f"{HEADER},csat\nr1,ZZ,chat,yesterday,9\n", tmp_path)
        assert [field for _, field, _ in errors_of(batch)] == ["started_at", "csat", "agent"]
        assert batch.rejected_count == 1

    def test_required_fields_for_a_new_interaction(self, source, agents, tmp_path):
        batch = ingest_text(source, f"{HEADER},csat\nr1,,,,4\n", tmp_path)
        assert [field for _, field, _ in errors_of(batch)] == ["agent", "channel", "started_at"]
        assert "is required for a new interaction ('r1' is not known yet)" in errors_of(batch)[0][2]

    def test_missing_external_id(self, source, agents, tmp_path):
        batch = ingest_text(source, f"{HEADER}\n,A1,chat,2026-10-29T10:00:00Z\n", tmp_path)
        assert errors_of(batch) == [(2, "external_id", "is required")]

    def test_row_with_wrong_column_count(self, source, agents, tmp_path):
        batch = ingest_text(
            source, f"{HEADER}\nr1,A1,chat\nr2,A1,chat,2026-10-29T10:00:00Z\n", tmp_path
        )
        assert errors_of(batch) == [(2, "", "has 3 columns, the header has 4")]
        assert batch.created_count == 1

    def test_line_numbers_count_multiline_quoted_fields(self, source, agents, tmp_path):
        text = f'{HEADER},case_id\nr1,A1,chat,2026-10-29T10:00:00Z,"two\nlines"\nr2,A1,chat,bad,x\n'
        batch = ingest_text(source, text, tmp_path)
        assert errors_of(batch)[0][:2] == (4, "started_at")

    def test_blank_lines_are_skipped(self, source, agents, tmp_path):
        batch = ingest_text(source, f"{HEADER}\n\nr1,A1,chat,2026-10-29T10:00:00Z\n\n", tmp_path)
        assert (batch.rows_read, batch.created_count) == (1, 1)


@pytest.mark.django_db
class TestAgentMatching:
    def test_by_username(self, source, agents, tmp_path):
        source.agent_match = "username"
        source.save()
        ingest_text(source, f"{HEADER}\nu1,ALICE,chat,2026-10-29T10:00:00Z\n", tmp_path)
        assert fact("u1").agent == agents[0]

    def test_by_email(self, source, agents, tmp_path):
        source.agent_match = "email"
        source.save()
        ingest_text(source, f"{HEADER}\nu1,Paulo@Example.com,chat,2026-10-29T10:00:00Z\n", tmp_path)
        assert fact("u1").agent == agents[1]

    def test_unknown_agents_are_created_when_the_source_allows(self, source, lisbon, tmp_path):
        source.create_unknown_agents = True
        source.default_team = lisbon
        source.save()
        batch = ingest_text(
            source,
            f"{HEADER}\nu1,NEW7,chat,2026-10-29T10:00:00Z\nu2,NEW7,chat,2026-10-29T11:00:00Z\n",
            tmp_path,
        )
        assert batch.created_count == 2
        agent = fact("u1").agent
        assert (agent.team, agent.user.username, agent.user.has_usable_password()) == (
            lisbon,
            "helpdesk-NEW7",
            False,
        )
        assert agent.external_ids.get().external_id == "NEW7"


@pytest.mark.django_db
class TestWholeFileFailures:
    """A file that cannot be read as a whole fails with one message and changes no fact."""

    @pytest.fixture
    def existing(self, source, agents, tmp_path):
        ingest_text(
            source,
            f"{HEADER},csat\nkeep,A1,chat,2026-10-29T10:00:00Z,5\n",
            tmp_path,
            name="first.csv",
        )
        return fact("keep")

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"", "the file is empty"),
            (
                b"\n\nkeep,A1,chat,2026-10-29T10:00:00Z\n",
                "the first line is blank; it must be the header row",
            ),
            (
                b"agent,channel,started_at,csat\nA1,chat,2026-10-29T10:00:00Z,1\n",
                "required column external_id is missing (columns found: agent, channel, started_at, csat)",
            ),
            (
                b"external_id,agent,csat\nkeep,A1,1\n",
                "required column channel, started_at is missing (a file that carries agent must also carry channel, started_at)",
            ),
            (b"external_id,foo\nkeep,1\n", "the file carries no field besides external_id"),
            (b"external_id,csat,satisfaction\nkeep,1,2\n", None),
            (
                "external_id;agent;channel;started_at;csat\nkeep;A1;chat;2026-10-29T10:00:00Z;1\n".encode(
                    "latin-1"
                )
                + b"caf\xe9 x\n",
                "the file is not UTF-8 text (undecodable byte on line 3, byte offset 81); export it as UTF-8",
            ),
        ],
    )
    def test_file_fails_and_changes_nothing(self, source, existing, tmp_path, content, message):
        source.column_mapping = {"satisfaction": "csat"}
        # A fixed encoding: automatic would read the Latin-1 byte as Windows-1252.
        source.encoding = FeedSource.Encoding.UTF8
        source.save()
        batch = ingest_text(source, content, tmp_path)
        assert batch.status == FeedBatch.Status.FAILED
        assert batch.error == (message or "column for csat appears more than once")
        assert fact("keep").csat == 5
        assert Interaction.objects.count() == 1

    def test_file_over_max_bytes(self, source, existing, tmp_path, settings):
        settings.FEED_MAX_BYTES = 50
        batch = ingest_text(
            source, f"{HEADER},csat\n" + "keep,A1,chat,2026-10-29T10:00:00Z,1\n" * 3, tmp_path
        )
        assert batch.status == FeedBatch.Status.FAILED
        assert (
            batch.error
            == "the file is larger than FEED_MAX_BYTES (50 bytes); split it into smaller files"
        )
        assert fact("keep").csat == 5

    def test_jsonl_that_is_really_csv(self, source, existing, tmp_path):
        batch = ingest_text(
            source,
            f"{HEADER},csat\nkeep,A1,chat,2026-10-29T10:00:00Z,1\n",
            tmp_path,
            format="jsonl",
        )
        assert batch.status == FeedBatch.Status.FAILED
        assert "the first line is not a JSON object" in batch.error
        assert fact("keep").csat == 5


@pytest.mark.django_db
class TestJsonLines:
    def test_canonical_and_mapped_keys_with_native_types(self, source, agents, tmp_path):
        source.column_mapping = {"id": "external_id"}
        source.save()
        text = (
            '{"id": "j1", "agent": "A1", "channel": "chat", "started_at": "2026-10-29T10:00:00Z",'
            ' "handle_seconds": 61.5, "resolved": true, "csat": 5, "nps": null, "extra": [1]}\n'
            '{"id": "j2", "agent": "P1", "channel": "email", "started_at": "2026-10-29T10:00:00Z", "escalated": "sim"}\n'
        )
        batch = ingest_text(source, text, tmp_path, format="jsonl", name="feed.jsonl")
        assert batch.created_count == 2
        j1 = fact("j1")
        assert (j1.handle_seconds, j1.resolved, j1.csat, j1.nps) == (61.5, True, 5, None)
        assert fact("j2").escalated is True

    def test_bad_lines_are_rejected_with_their_reason(self, source, agents, tmp_path):
        text = (
            '{"external_id": "j1", "agent": "A1", "channel": "chat", "started_at": "2026-10-29T10:00:00Z"}\n'
            '{"external_id": "j2", \n'
            "[1, 2]\n"
            '{"external_id": "j3", "agent": "A1", "channel": "chat", "started_at": "2026-10-29T10:00:00Z", "csat": true}\n'
        )
        batch = ingest_text(source, text, tmp_path, format="jsonl")
        assert errors_of(batch) == [
            (
                2,
                "",
                "not valid JSON: Expecting property name enclosed in double quotes at column 23",
            ),
            (3, "", "each line must be a JSON object"),
            (4, "csat", "expected a whole number, got True"),
        ]
        assert (batch.rows_read, batch.created_count, batch.rejected_count) == (4, 1, 3)
