"""Feeds as Brazilian contact centres export them: Windows-1252, day-first dates, clock
durations, units, value maps and .xlsx workbooks, written by the tests themselves."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, time

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from performance.feeds import CANONICAL_FIELDS, FIELDS, REQUIRED_FOR_NEW
from performance.models import FeedBatch, FeedSource, Interaction
from performance.services.ingest.fact_store import FACT_FIELDS
from performance.services.tokens import feed_source_rotate_token
from tests.performance.helpers import errors_of, ingest_text

pytestmark = pytest.mark.django_db

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def agents(alice, paulo):
    return alice, paulo


def fact(external_id: str) -> Interaction:
    return Interaction.objects.get(external_id=external_id)


def configure(source: FeedSource, **fields) -> FeedSource:
    for name, value in fields.items():
        setattr(source, name, value)
    source.full_clean()
    source.save()
    return source


# An export as Excel in Brazil saves it: Windows-1252, semicolons, Portuguese headings.
BRAZILIAN_CSV = (
    "Protocolo;Atendente;Canal;Data de abertura;TMA;Satisfação;Observação\n"
    "BR-1;A1;phone;29/10/2026 11:42;00:05:12;Ótimo;Ligação de São Paulo, cliente satisfeito\n"
    "BR-2;P1;chat;12/01/2026 08:00:30;04:30;Ruim;Atenção: é a segunda vez\n"
    "BR-3;A1;email;01/12/2026;75;Bom;\n"
)
BRAZILIAN_MAPPING = {
    "Protocolo": "external_id",
    "Atendente": "agent",
    "Canal": "channel",
    "Data de abertura": "started_at",
    "TMA": "handle_seconds",
    "Satisfação": "csat",
}
SATISFACTION = {"Ótimo": 5, "Bom": 4, "Regular": 3, "Ruim": 2, "Péssimo": 1}


class TestSchema:
    def test_every_canonical_field_is_defined_once_and_facts_store_them_all(self):
        names = [spec.name for spec in FIELDS]
        assert len(names) == len(set(names)) == len(CANONICAL_FIELDS)
        assert REQUIRED_FOR_NEW == ("agent", "channel", "started_at")
        fed = {"agent_id" if n == "agent" else n for n in names[1:]}
        assert set(FACT_FIELDS) == fed | {"feed_qa_score", "qa_reviewed"}  # beside a review's

    def test_the_upload_page_lists_the_schema(self, client, bob, source):
        client.force_login(bob)
        page = client.get(reverse("feed-upload")).content.decode()
        for spec in FIELDS:
            assert f"<code>{spec.name}</code>" in page


class TestEncodings:
    def test_windows_1252_is_read_automatically_and_reported(self, source, agents, tmp_path):
        configure(
            source,
            column_mapping=BRAZILIAN_MAPPING,
            date_order=FeedSource.DateOrder.DAY_FIRST,
            column_options={"csat": {"values": SATISFACTION}},
        )
        batch = ingest_text(source, BRAZILIAN_CSV.encode("cp1252"), tmp_path)
        assert (batch.status, batch.encoding) == (FeedBatch.Status.COMPLETED, "windows-1252")
        assert (batch.created_count, batch.rejected_count) == (3, 0)
        assert fact("BR-1").csat == 5

    def test_utf8_is_read_automatically(self, source, agents, tmp_path):
        text = "external_id,agent,channel,started_at,case_id\nc1,A1,chat,2026-10-29T10:00:00Z,São\n"
        batch = ingest_text(source, ("\ufeff" + text).encode(), tmp_path)
        assert (batch.encoding, fact("c1").case_id) == ("utf-8", "São")

    def test_a_fixed_windows_1252_source_reads_accents(self, source, agents, tmp_path):
        configure(source, encoding=FeedSource.Encoding.WINDOWS_1252)
        text = (
            "external_id;agent;channel;started_at;case_id\nc1;A1;chat;2026-10-29T10:00:00Z;Ação é\n"
        )
        batch = ingest_text(source, text.encode("cp1252"), tmp_path)
        assert (batch.encoding, fact("c1").case_id) == ("windows-1252", "Ação é")

    def test_a_fixed_encoding_fails_on_an_undecodable_byte_with_line_and_offset(
        self, source, agents, tmp_path
    ):
        configure(source, encoding=FeedSource.Encoding.UTF8)
        text = (
            "external_id;agent;channel;started_at;case_id\nc1;A1;chat;2026-10-29T10:00:00Z;Ação\n"
        )
        batch = ingest_text(source, text.encode("cp1252"), tmp_path)
        assert batch.status == FeedBatch.Status.FAILED
        assert batch.error == (
            "the file is not UTF-8 text (undecodable byte on line 2, byte offset 78); "
            "export it as UTF-8"
        )
        assert batch.error_message["msgid"].startswith("the file is not %(encoding)s text")
        assert not Interaction.objects.exists()

    def test_bytes_neither_utf8_nor_windows_1252_fail_the_file(self, source, agents, tmp_path):
        batch = ingest_text(source, b"external_id,agent\nc1,\x81\n", tmp_path)
        assert batch.status == FeedBatch.Status.FAILED
        assert "neither UTF-8 nor Windows-1252" in batch.error
        assert "line 2, byte offset 21" in batch.error

    def test_the_report_says_which_encoding_was_used(
        self, client, bob, source, lisbon, agents, django_capture_on_commit_callbacks
    ):
        text = "external_id;agent;channel;started_at;case_id\nc1;A1;chat;2026-10-29T10:00:00Z;é\n"
        source.upload_teams.add(lisbon)  # an admin opened the source to Lisbon's leads
        client.force_login(bob)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("feed-upload"),
                {"source": source.pk, "file": SimpleUploadedFile("f.csv", text.encode("cp1252"))},
            )
        page = client.get(response.url).content.decode()
        assert "Windows-1252" in page


class TestDateOrder:
    def test_day_first_dates_need_the_source_to_say_so(self, source, agents, tmp_path):
        text = "external_id,agent,channel,started_at\nc1,A1,chat,12/01/2026 08:00\n"
        batch = ingest_text(source, text, tmp_path)
        assert errors_of(batch) == [
            (
                2,
                "started_at",
                "'12/01/2026 08:00' is not an ISO 8601 date-time (e.g. 2026-10-29T11:42:06Z "
                "or 2026-10-29 11:42:06)",
            )
        ]

    def test_day_first_reads_12_01_as_january_and_01_12_as_december(self, source, agents, tmp_path):
        configure(source, date_order=FeedSource.DateOrder.DAY_FIRST, time_zone="America/Sao_Paulo")
        text = (
            "external_id,agent,channel,started_at,ended_at\n"
            "jan,A1,chat,12/01/2026 08:00,12/01/2026 08:10:30\n"
            "dec,A1,chat,01/12/2026,2026-12-01T03:05:00Z\n"
            "bad,A1,chat,31/02/2026 10:00,\n"
        )
        batch = ingest_text(source, text, tmp_path)
        assert fact("jan").started_at == datetime(2026, 1, 12, 11, 0, tzinfo=UTC)
        assert fact("jan").handle_seconds == 630
        assert fact("dec").started_at == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
        assert errors_of(batch) == [
            (
                4,
                "started_at",
                "'31/02/2026 10:00' is not a date-time (e.g. 29/10/2026 11:42, 29/10/2026 or "
                "2026-10-29T11:42:06Z)",
            )
        ]


class TestDurationsAndValueMaps:
    def test_clock_durations(self, source, agents, tmp_path):
        text = (
            "external_id,agent,channel,started_at,handle_seconds,wait_seconds\n"
            "c1,A1,chat,2026-10-29T10:00:00Z,01:02:03,00:45\n"
            "c2,A1,chat,2026-10-29T10:00:00Z,75:30,12\n"
            "c3,A1,chat,2026-10-29T10:00:00Z,00:61:00,\n"
        )
        batch = ingest_text(source, text, tmp_path)
        assert (fact("c1").handle_seconds, fact("c1").wait_seconds) == (3723, 45)
        assert fact("c2").handle_seconds == 4530
        assert errors_of(batch) == [
            (4, "handle_seconds", "'00:61:00' is not a duration (seconds, hh:mm:ss or mm:ss)")
        ]

    def test_units_per_column(self, source, agents, tmp_path):
        configure(
            source,
            column_options={
                "handle_seconds": {"unit": "minutes"},
                "wait_seconds": {"unit": "milliseconds"},
            },
        )
        text = (
            "external_id;agent;channel;started_at;handle_seconds;wait_seconds\n"
            "c1;A1;chat;2026-10-29T10:00:00Z;2,5;1500\n"
            "c2;A1;chat;2026-10-29T10:00:00Z;00:03:00;-1\n"
        )
        batch = ingest_text(source, text, tmp_path)
        assert (fact("c1").handle_seconds, fact("c1").wait_seconds) == (150, 1.5)
        assert errors_of(batch) == [(3, "wait_seconds", "'-1' is negative; durations must be >= 0")]

    def test_value_maps_read_words_and_keep_plain_values(self, source, agents, tmp_path):
        configure(
            source,
            column_mapping={"satisfação": "csat", "situação": "resolved"},
            column_options={
                "csat": {"values": {"Bom": 5, "Good": 5, "Ruim": 1, "Bad": 1}},
                "resolved": {"values": {"Resolvido": "true", "Pendente": "false"}},
            },
        )
        text = (
            "external_id,agent,channel,started_at,satisfação,situação\n"
            "c1,A1,chat,2026-10-29T10:00:00Z,bom,Resolvido\n"
            "c2,A1,chat,2026-10-29T10:00:00Z,Bad,PENDENTE\n"
            "c3,A1,chat,2026-10-29T10:00:00Z,3,sim\n"
            "c4,A1,chat,2026-10-29T10:00:00Z,Meh,talvez\n"
        )
        batch = ingest_text(source, text, tmp_path)
        assert (fact("c1").csat, fact("c1").resolved) == (5, True)
        assert (fact("c2").csat, fact("c2").resolved) == (1, False)
        assert (fact("c3").csat, fact("c3").resolved) == (3, True)
        assert sorted(errors_of(batch)) == [
            (5, "csat", "'Meh' is not a whole number"),
            (5, "resolved", "'talvez' is not a yes/no value (true/false, 1/0, yes/no, sim/nao)"),
        ]

    def test_reingesting_a_file_read_with_options_changes_nothing(self, source, agents, tmp_path):
        configure(
            source,
            column_mapping=BRAZILIAN_MAPPING,
            date_order=FeedSource.DateOrder.DAY_FIRST,
            column_options={"csat": {"values": SATISFACTION}},
        )
        ingest_text(source, BRAZILIAN_CSV.encode("cp1252"), tmp_path)
        again = ingest_text(source, BRAZILIAN_CSV.encode("cp1252"), tmp_path)
        assert (again.unchanged_count, again.created_count, again.updated_count) == (3, 0, 0)

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ([], 'must be an object, e.g. {"csat": {"values": {"Bom": 5}}}'),
            ({"satisfaction": {}}, "'satisfaction' is not a canonical field"),
            ({"csat": {"unit": "minutes"}}, "csat: only durations have a unit"),
            ({"handle_seconds": {"unit": "hours"}}, "handle_seconds: unit 'hours' is not one of"),
            ({"csat": {"values": {"Ótimo": 6}}}, "csat: the value for 'Ótimo' is invalid"),
            ({"started_at": {"values": {"hoje": "x"}}}, "started_at: its values cannot be mapped"),
            ({"csat": {"scale": 5}}, 'csat: give an object with "unit" and/or "values"'),
        ],
    )
    def test_column_options_are_checked_with_clear_messages(self, source, options, message):
        source.column_options = options
        with pytest.raises(ValidationError) as raised:
            source.full_clean()
        assert message in raised.value.message_dict["column_options"][0]


def workbook_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Second sheet").append(["ignored"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


XLSX_ROWS = [
    ["Ticket ID", "Assignee", "Canal", "Data de abertura", "TMA", "CSAT", "Resolvido", "Nota QA"],
    ["X1", "A1", "chat", datetime(2026, 10, 29, 11, 42), 312, 5, True, 88.5],
    ["X2", "P1", "Email", date(2026, 10, 28), time(0, 5, 12), "4", "sim", None],
    [None, None, None, None, None, None, None, None],
    [1003, "A1", "phone", "2026-10-27 09:00:00", "00:02:30", 7, "talvez", 101],
    ["X4", "ZZ", "fax", "ontem", -3, None, None, None],
    ["X5", "A1", "chat", datetime(2026, 10, 29, 12, 0), 60, None, None, None, "extra"],
]


@pytest.fixture
def xlsx_source(source):
    return configure(
        source,
        time_zone="America/Sao_Paulo",
        column_mapping={
            "Ticket ID": "external_id",
            "Assignee": "agent",
            "Canal": "channel",
            "Data de abertura": "started_at",
            "TMA": "handle_seconds",
            "Nota QA": "qa_score",
            "Resolvido": "resolved",
        },
    )


class TestWorkbooks:
    def test_typed_and_text_cells_with_bad_rows_on_their_sheet_rows(
        self, xlsx_source, agents, tmp_path
    ):
        batch = ingest_text(xlsx_source, workbook_bytes(XLSX_ROWS), tmp_path, name="export.xlsx")
        assert (batch.status, batch.format, batch.encoding) == ("completed", "xlsx", "")
        rows = batch.rows_read
        counted = (
            batch.created_count + batch.updated_count + batch.unchanged_count
        ) + batch.rejected_count
        assert (rows, counted, batch.created_count, batch.rejected_count) == (5, 5, 2, 3)
        x1 = fact("X1")
        assert x1.started_at == datetime(2026, 10, 29, 14, 42, tzinfo=UTC)
        assert (x1.handle_seconds, x1.csat, x1.resolved, x1.qa_score) == (312, 5, True, 88.5)
        x2 = fact("X2")
        assert x2.started_at == datetime(2026, 10, 28, 3, 0, tzinfo=UTC)
        assert (x2.channel, x2.handle_seconds, x2.csat, x2.resolved) == ("email", 312, 4, True)
        errors = errors_of(batch)
        assert {line for line, _, _ in errors} == {5, 6, 7}
        assert (5, "csat", "7 is outside 1-5") in errors
        assert (5, "qa_score", "101 is above the maximum 100") in errors
        assert (6, "handle_seconds", "-3 is negative; durations must be >= 0") in errors
        assert (7, "", "has 9 columns, the header has 8") in errors
        assert batch.row_errors.get(line=7).raw.endswith(";extra")

    def test_a_resent_identical_workbook_is_unchanged(self, xlsx_source, agents, tmp_path):
        content = workbook_bytes(XLSX_ROWS)
        ingest_text(xlsx_source, content, tmp_path, name="export.xlsx")
        again = ingest_text(xlsx_source, content, tmp_path, name="export.xlsx")
        assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
        assert again.rejected_count == 3

    @pytest.mark.parametrize(
        "content",
        [b"not a zip at all", b"PK\x03\x04 truncated", None],
        ids=["not-a-zip", "truncated-zip", "zip-without-workbook"],
    )
    def test_a_corrupt_workbook_fails_with_one_clear_message(
        self, xlsx_source, agents, tmp_path, content
    ):
        if content is None:
            out = io.BytesIO()
            import zipfile

            with zipfile.ZipFile(out, "w") as archive:
                archive.writestr("hello.txt", "hi")
            content = out.getvalue()
        batch = ingest_text(xlsx_source, content, tmp_path, name="export.xlsx")
        assert batch.status == FeedBatch.Status.FAILED
        assert batch.error.startswith("the file is not an Excel workbook (.xlsx)")

    def test_a_workbook_with_a_broken_sheet_fails_processing_cleanly(
        self, xlsx_source, agents, tmp_path
    ):
        import zipfile

        source_zip = zipfile.ZipFile(io.BytesIO(workbook_bytes(XLSX_ROWS)))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for item in source_zip.infolist():
                data = source_zip.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data[: len(data) // 2]
                archive.writestr(item, data)
        batch = ingest_text(xlsx_source, out.getvalue(), tmp_path, name="export.xlsx")
        assert batch.status == FeedBatch.Status.FAILED
        assert "workbook" in batch.error
        assert not Interaction.objects.exists()

    def test_via_the_cli_by_suffix_and_by_format(self, xlsx_source, agents, tmp_path, capsys):
        path = tmp_path / "export.xlsx"
        path.write_bytes(workbook_bytes(XLSX_ROWS[:3]))
        call_command("ingest", str(path), "--source", "helpdesk", "--json")
        report = json.loads(capsys.readouterr().out)
        assert (report["format"], report["created"]) == ("xlsx", 2)
        renamed = tmp_path / "export.bin"
        renamed.write_bytes(path.read_bytes())
        call_command("ingest", str(renamed), "--source", "helpdesk", "--format", "xlsx")
        out = capsys.readouterr().out
        assert "unchanged 2" in out and "read as Excel workbook (.xlsx)" in out

    def test_via_the_api_raw_body_and_multipart(
        self, client, xlsx_source, agents, django_capture_on_commit_callbacks
    ):
        token = feed_source_rotate_token(source=xlsx_source)
        url = reverse("api-feed-batch-upload", args=["helpdesk"])
        with django_capture_on_commit_callbacks(execute=True):
            raw = client.post(
                url,
                workbook_bytes(XLSX_ROWS[:3]),
                content_type=XLSX_TYPE,
                HTTP_AUTHORIZATION=f"Token {token}",
            )
        assert raw.status_code == 202
        status = client.get(raw["Location"], HTTP_AUTHORIZATION=f"Token {token}").json()
        assert (status["format"], status["encoding"], status["created"]) == ("xlsx", "", 2)
        with django_capture_on_commit_callbacks(execute=True):
            multipart = client.post(
                url,
                {"file": SimpleUploadedFile("export.xlsx", workbook_bytes(XLSX_ROWS))},
                HTTP_AUTHORIZATION=f"Token {token}",
            )
        assert multipart.status_code == 202
        batch = FeedBatch.objects.get(pk=multipart.json()["batch"])
        assert (batch.format, batch.unchanged_count, batch.rejected_count) == ("xlsx", 2, 3)

    def test_a_corrupt_workbook_via_the_api_is_422(self, client, xlsx_source, agents):
        token = feed_source_rotate_token(source=xlsx_source)
        response = client.post(
            reverse("api-feed-batch-upload", args=["helpdesk"]),
            b"garbage",
            content_type=XLSX_TYPE,
            HTTP_AUTHORIZATION=f"Token {token}",
        )
        assert response.status_code == 422
        assert response.json()["error"].startswith("the file is not an Excel workbook")

    def test_via_the_upload_page(
        self, client, bob, xlsx_source, lisbon, agents, django_capture_on_commit_callbacks
    ):
        xlsx_source.upload_teams.add(lisbon)  # an admin opened the source to Lisbon's leads
        client.force_login(bob)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("feed-upload"),
                {
                    "source": xlsx_source.pk,
                    "file": SimpleUploadedFile(
                        "export.xlsx", workbook_bytes(XLSX_ROWS), content_type=XLSX_TYPE
                    ),
                },
            )
        batch = FeedBatch.objects.get()
        # X2 is paulo's, of Sao Paulo: bob's upload writes Lisbon's agents only.
        assert (batch.format, batch.created_count, batch.rejected_count) == ("xlsx", 1, 4)
        page = client.get(response.url).content.decode()
        assert "7 is outside 1-5" in page
        assert "agent &#x27;P1&#x27; is not in a team the uploader leads (Lisbon)" in page


class TestTranslatableReasons:
    def test_rejected_rows_keep_a_message_id_and_parameters(self, source, agents, tmp_path):
        text = (
            "external_id,agent,channel,started_at,csat\n"
            "c1,A1,chat,2026-10-29T10:00:00Z,9\n"
            "c2,A1,fax,2026-10-29T10:00:00Z,5\n"
        )
        batch = ingest_text(source, text, tmp_path)
        stored = {e.field: e for e in batch.row_errors.all()}
        assert stored["csat"].reason_message == {
            "msgid": "%(value)s is outside %(low)s-%(high)s",
            "params": {"value": "9", "low": "1", "high": "5"},
        }
        assert stored["csat"].reason_text == stored["csat"].reason == "9 is outside 1-5"
        assert stored["channel"].reason_message["msgid"].startswith("unknown channel")

    def test_reasons_render_in_the_readers_language(self, source, agents, tmp_path, monkeypatch):
        text = "external_id,agent,channel,started_at,csat\nc1,A1,chat,2026-10-29T10:00:00Z,9\n"
        batch = ingest_text(source, text, tmp_path)
        error = batch.row_errors.get()
        catalogue = {
            "%(value)s is outside %(low)s-%(high)s": "%(value)s está fora de %(low)s-%(high)s"
        }
        monkeypatch.setattr(
            "performance.feeds.messages.gettext", lambda msgid: catalogue.get(msgid, msgid)
        )
        assert error.reason_text == "9 está fora de 1-5"
        assert error.reason == "9 is outside 1-5"


def test_the_readme_lists_the_schemas_fields_in_order():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Feeds") :]
    listed = section[section.index("`external_id, agent") :].split("`")
    fields = [name.strip() for part in (listed[1], listed[3]) for name in part.split(",")]
    assert fields == list(CANONICAL_FIELDS)


def test_the_cli_report_says_which_encoding_was_used(source, agents, tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_bytes(
        "external_id;agent;channel;started_at;case_id\nc1;A1;chat;2026-10-29T10:00:00Z;Ação\n".encode(
            "cp1252"
        )
    )
    call_command("ingest", str(path), "--source", "helpdesk", "--json")
    report = json.loads(capsys.readouterr().out)
    assert (report["format"], report["encoding"], report["created"]) == ("csv", "windows-1252", 1)
    call_command("ingest", str(path), "--source", "helpdesk")
    assert "read as CSV, Windows-1252" in capsys.readouterr().out


def test_a_workbook_with_wrong_stored_dimensions_is_read_whole(xlsx_source, agents, tmp_path):
    import re
    import zipfile

    original = zipfile.ZipFile(io.BytesIO(workbook_bytes(XLSX_ROWS[:3])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
            archive.writestr(item, data)
    batch = ingest_text(xlsx_source, out.getvalue(), tmp_path, name="export.xlsx")
    assert (batch.rows_read, batch.created_count) == (2, 2)
    assert fact("X2").csat == 4


def test_column_options_saved_around_the_model_check_fail_the_file_clearly(
    source, agents, tmp_path
):
    FeedSource.objects.filter(pk=source.pk).update(column_options={"csat": {"unit": "minutes"}})
    source.refresh_from_db()
    text = "external_id,agent,channel,started_at\nc1,A1,chat,2026-10-29T10:00:00Z\n"
    batch = ingest_text(source, text, tmp_path)
    assert batch.status == FeedBatch.Status.FAILED
    assert batch.error == (
        "the feed source's column options cannot be used (csat: only durations have a unit); "
        "fix them in admin"
    )
