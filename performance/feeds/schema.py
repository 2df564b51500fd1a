"""The feed schema: every canonical field once, with its kind, range, whether a new fact needs
it, its label and the headings exports commonly give it.

The parser and validator (rows, files), the synthetic generator, the demo seed, the upload
page, the admin mapping page and the benchmarks all read these definitions.
"""

from __future__ import annotations

import sys
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Kind(StrEnum):
    TEXT = "text"
    DATETIME = "datetime"
    # A number of seconds >= 0, also written hh:mm:ss or mm:ss, or in another unit.
    DURATION = "duration"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    NUMBER = "number"


class Unit(StrEnum):
    """Units a numeric duration column may be written in."""

    SECONDS = "seconds"
    MINUTES = "minutes"
    MILLISECONDS = "milliseconds"


SECONDS_PER_UNIT = {Unit.SECONDS: 1.0, Unit.MINUTES: 60.0, Unit.MILLISECONDS: 0.001}
UNIT_LABELS = {
    Unit.SECONDS: _("seconds"),
    Unit.MINUTES: _("minutes"),
    Unit.MILLISECONDS: _("milliseconds"),
}
TEXT_LENGTH = 128
# Every date-time a feed carries lies from EARLIEST_MOMENT to FUTURE_TOLERANCE ahead of now.
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class FeedField:
    name: str
    kind: Kind
    label: Promise
    required_for_new: bool = False
    # Inclusive bounds of integer and number fields (durations: >= 0, finite).
    low: float | None = None
    high: float | None = None
    # Column headings exports commonly use for this field (compared case- and
    # accent-insensitively by `guess_field`).
    headings: tuple[str, ...] = ()


FIELDS: tuple[FeedField, ...] = (
    FeedField(
        "external_id",
        Kind.TEXT,
        _("External id"),
        headings=("id", "ticket id", "ticket", "protocolo", "protocol", "call id", "id da chamada"),
    ),
    FeedField(
        "agent",
        Kind.TEXT,
        _("Agent"),
        required_for_new=True,
        headings=("atendente", "assignee", "agente", "operador", "operator", "analista", "user"),
    ),
    FeedField(
        "channel",
        Kind.TEXT,
        _("Channel"),
        required_for_new=True,
        headings=("canal", "via", "media", "mídia", "tipo de contato"),
    ),
    FeedField(
        "started_at",
        Kind.DATETIME,
        _("Started at"),
        required_for_new=True,
        headings=(
            "data de abertura",
            "abertura",
            "data",
            "data/hora",
            "inicio",
            "início",
            "created at",
            "created",
            "opened",
            "start time",
            "date",
        ),
    ),
    FeedField(
        "ended_at",
        Kind.DATETIME,
        _("Ended at"),
        headings=("data de encerramento", "encerramento", "fim", "closed at", "end time", "ended"),
    ),
    FeedField(
        "handle_seconds",
        Kind.DURATION,
        _("Handle time"),
        low=0,
        high=sys.float_info.max,
        headings=("tma", "aht", "tempo de atendimento", "duração", "duracao", "handle time"),
    ),
    FeedField(
        "first_response_seconds",
        Kind.DURATION,
        _("First response time"),
        low=0,
        high=sys.float_info.max,
        headings=(
            "tpr",
            "frt",
            "tempo de primeira resposta",
            "primeira resposta",
            "first response time",
        ),
    ),
    FeedField(
        "wait_seconds",
        Kind.DURATION,
        _("Wait time"),
        low=0,
        high=sys.float_info.max,
        headings=("tme", "asa", "tempo de espera", "espera", "wait time", "queue time"),
    ),
    FeedField(
        "case_id",
        Kind.TEXT,
        _("Case id"),
        headings=("caso", "case", "chamado", "id do caso"),
    ),
    FeedField(
        "resolved",
        Kind.BOOLEAN,
        _("Resolved"),
        headings=("resolvido", "resolvida", "resolved", "solucionado"),
    ),
    FeedField(
        "first_contact_resolution",
        Kind.BOOLEAN,
        _("First contact resolution"),
        headings=("fcr", "resolvido no primeiro contato", "first contact resolution"),
    ),
    FeedField(
        "transferred",
        Kind.BOOLEAN,
        _("Transferred"),
        headings=("transferido", "transferida", "transferência", "transfer"),
    ),
    FeedField(
        "escalated",
        Kind.BOOLEAN,
        _("Escalated"),
        headings=("escalado", "escalonado", "escalation"),
    ),
    FeedField(
        "abandoned",
        Kind.BOOLEAN,
        _("Abandoned"),
        headings=("abandonado", "abandonada", "abandono", "abandon"),
    ),
    FeedField(
        "csat",
        Kind.INTEGER,
        _("CSAT (1-5)"),
        low=1,
        high=5,
        headings=("nota", "satisfação", "satisfacao", "satisfaction", "pesquisa de satisfação"),
    ),
    FeedField(
        "nps",
        Kind.INTEGER,
        _("NPS (0-10)"),
        low=0,
        high=10,
        headings=("nota nps", "recomendação", "recomendacao", "likelihood to recommend"),
    ),
    FeedField(
        "ces",
        Kind.INTEGER,
        _("CES (1-7)"),
        low=1,
        high=7,
        headings=("esforço", "esforco", "customer effort", "effort"),
    ),
    FeedField(
        "qa_score",
        Kind.NUMBER,
        _("QA score (0-100)"),
        low=0,
        high=100,
        headings=("qa", "nota de qualidade", "qualidade", "monitoria", "quality score"),
    ),
    FeedField(
        "mystery_score",
        Kind.NUMBER,
        _("Mystery-shopper score (0-100)"),
        low=0,
        high=100,
        headings=(
            "cliente oculto",
            "nota cliente oculto",
            "nota do cliente oculto",
            "mystery shopper",
            "mystery score",
        ),
    ),
)

FIELD_BY_NAME = {field.name: field for field in FIELDS}
CANONICAL_FIELDS = tuple(field.name for field in FIELDS)
REQUIRED_FOR_NEW = tuple(field.name for field in FIELDS if field.required_for_new)
OPTIONAL_FIELDS = tuple(
    field.name for field in FIELDS if field.name != "external_id" and not field.required_for_new
)


def fields_of(kind: Kind) -> tuple[str, ...]:
    return tuple(field.name for field in FIELDS if field.kind == kind)


DATETIME_FIELDS = fields_of(Kind.DATETIME)
DURATION_FIELDS = fields_of(Kind.DURATION)
BOOLEAN_FIELDS = fields_of(Kind.BOOLEAN)
INTEGER_FIELDS = fields_of(Kind.INTEGER)
NUMBER_FIELDS = fields_of(Kind.NUMBER)


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


# One table: folded heading -> field (a field's own name is a heading of it too).
HEADING_GUESSES = {
    _folded(heading): field.name
    for field in FIELDS
    for heading in (field.name, field.name.replace("_", " "), *field.headings)
}


def guess_field(heading: str) -> str | None:
    """The canonical field a column heading most likely names, if any."""
    return HEADING_GUESSES.get(_folded(heading))
