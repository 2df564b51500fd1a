"""The table file writers (pure; variable pay and QA reviews use them): CSV in the reader's
number format for Excel, and a workbook whose cells are typed."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl

from config.exports import Table, csv_bytes, xlsx_bytes

TABLE = Table(
    title="Remuneração variável: outubro de 2026",
    status="Final",
    produced="Gerado em 06/12/2026 14:05 (America/Sao_Paulo)",
    header=("Equipe", "Id externo", "Agente", "Padrões", "Média"),
    rows=(
        ("São Paulo", "P1", "João Conceição", 1234, Decimal("12.5")),
        ("Lisboa", "A1", "-Ana", -10, 0.25),
    ),
    sheet_name="2026-10",
)
PRODUCED = datetime(2026, 12, 6, 17, 5, tzinfo=UTC)


def test_with_a_decimal_comma_the_csv_uses_semicolons_and_a_bom():
    body = csv_bytes(TABLE, decimal_separator=",")
    assert body.startswith("\ufeff".encode())
    assert body.decode("utf-8-sig").split("\r\n") == [
        "Remuneração variável: outubro de 2026",
        "Final",
        "Gerado em 06/12/2026 14:05 (America/Sao_Paulo)",
        "",
        "Equipe;Id externo;Agente;Padrões;Média",
        "São Paulo;P1;João Conceição;1234;12,5",
        "Lisboa;A1;'-Ana;-10;0,25",
        "",
    ]


def test_with_a_decimal_point_the_csv_uses_commas():
    lines = csv_bytes(TABLE, decimal_separator=".").decode("utf-8-sig").split("\r\n")
    assert lines[5] == "São Paulo,P1,João Conceição,1234,12.5"


def test_a_cell_holding_the_delimiter_is_quoted():
    table = Table(
        title="t",
        status="s",
        produced="p",
        header=("a",),
        rows=(("x;y",),),
        sheet_name="s",
    )
    assert csv_bytes(table, decimal_separator=",").decode("utf-8-sig").split("\r\n")[5] == '"x;y"'


def test_the_same_table_gives_the_same_bytes():
    assert csv_bytes(TABLE, decimal_separator=",") == csv_bytes(TABLE, decimal_separator=",")


def test_the_workbook_has_a_title_row_a_bold_frozen_header_and_typed_numbers():
    sheet = openpyxl.load_workbook(
        io.BytesIO(xlsx_bytes(TABLE, produced_at=PRODUCED, text_columns=3))
    ).active
    assert sheet.title == "2026-10"
    assert sheet["A1"].value == (
        "Remuneração variável: outubro de 2026 · Final · "
        "Gerado em 06/12/2026 14:05 (America/Sao_Paulo)"
    )
    assert [cell.value for cell in sheet[2]] == list(TABLE.header)
    assert all(cell.font.b for cell in sheet[2])
    assert sheet.freeze_panes == "D3"
    assert [cell.value for cell in sheet[3]] == ["São Paulo", "P1", "João Conceição", 1234, 12.5]
    assert sheet["C4"].value == "-Ana" and sheet["C4"].data_type == "s"
    assert (sheet["D3"].data_type, sheet["D4"].value) == ("n", -10)
