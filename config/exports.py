"""Tables as files (variable pay, QA reviews): CSV and an .xlsx workbook. Pure: no ORM and no
request, so every app may use it; the caller hands in the words, already in the reader's
language, and the numbers.

CSV follows the reader's spreadsheet: with a decimal comma (pt-BR) the delimiter is `;`, as
Excel in Brazil expects, and the file starts with a UTF-8 byte-order mark so Excel reads
accents right. Numbers are plain digits (no grouping, which a spreadsheet would misread).
Text that a spreadsheet would run as a formula (=, +, -, @ first) is quoted with a leading
apostrophe. The same table gives the same bytes: only the `produced` line changes with time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

Cell = str | int | float | Decimal
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    title: str  # "Variable pay: November 2026"
    status: str  # "Final" or "Provisional: ..."
    produced: str  # "Produced at 06/12/2026 14:05 (America/Sao_Paulo)"
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    sheet_name: str  # the workbook's sheet: "2026-11"

    @property
    def summary(self) -> str:
        return f"{self.title} · {self.status} · {self.produced}"


def _safe_text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _csv_cell(value: Cell, decimal_separator: str) -> str:
    if isinstance(value, bool):
        raise TypeError("a table cell is text or a number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))  # its shortest exact text, never 1e-07
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", decimal_separator)
    return _safe_text(value)


def csv_bytes(table: Table, *, decimal_separator: str) -> bytes:
    """The table as CSV: the title, status and produced lines, a blank line, the header
    and the rows; `;` between cells where the decimal separator is a comma."""
    delimiter = ";" if decimal_separator == "," else ","
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([_safe_text(table.title)])
    writer.writerow([_safe_text(table.status)])
    writer.writerow([_safe_text(table.produced)])
    writer.writerow([])
    writer.writerow([_safe_text(name) for name in table.header])
    for row in table.rows:
        writer.writerow([_csv_cell(value, decimal_separator) for value in row])
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(table: Table, *, produced_at: datetime, text_columns: int) -> bytes:
    """The table as a workbook of one sheet: a title row (month, status, when produced), a
    bold header row frozen with the first `text_columns` columns, typed number cells."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.sheet_name[:31]
    sheet.append([table.summary])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(list(table.header))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            # openpyxl would store "=..." as a formula: text always stays text.
            if isinstance(cell.value, str):
                cell.data_type = "s"
    sheet.freeze_panes = sheet.cell(row=3, column=text_columns + 1)
    if table.rows:
        sheet.auto_filter.ref = f"A2:{get_column_letter(len(table.header))}{sheet.max_row}"
    for index, name in enumerate(table.header, start=1):
        widest = max([len(name), *(len(str(row[index - 1])) for row in table.rows)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(widest + 2, 10), 48)
    naive = produced_at.replace(tzinfo=None)
    workbook.properties.created = naive
    workbook.properties.modified = naive
    workbook.properties.title = table.title
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
