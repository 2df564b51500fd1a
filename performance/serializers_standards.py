"""Small input/output serializers of the standards, evaluations and scorecard API: shapes and
input parsing only. Rule validation lives in ServiceStandard.clean(), writes in the services."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from performance.metrics import METRIC_CHOICES, Direction
from performance.models import Channel, Evaluation, ServiceStandard, Team
from performance.periods import PERIOD_CHOICES, PeriodKind, parse_period_key

DIRECTION_CHOICES = [(d.value, d.value) for d in Direction]
OUTCOME_NAMES = ", ".join(Evaluation.Outcome.values)

# --- standards -----------------------------------------------------------------------------


class StandardInputSerializer(serializers.Serializer):
    """What an admin sends to create (POST, PUT) or change (PATCH) a standard."""

    name = serializers.CharField(max_length=100)
    metric = serializers.ChoiceField(choices=METRIC_CHOICES, help_text="A metric key.")
    channel = serializers.CharField(
        max_length=32,
        allow_blank=True,
        required=False,
        default="",
        help_text='A channel code (phone, email, chat, ...); "" for every channel.',
    )
    teams = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Team.objects.all(),
        required=False,
        default=list,
        help_text="Team ids; an empty list applies the standard to every team.",
    )
    period = serializers.ChoiceField(choices=PERIOD_CHOICES, required=False, default="week")
    active_from = serializers.DateField(help_text="First day the standard applies.")
    active_until = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Last day; null: open."
    )
    target = serializers.FloatField()
    stretch_target = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Beyond the target in the metric's direction: exceeded.",
    )
    threshold_seconds = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        help_text="Service level (sla) only: first responses within this many seconds count.",
    )
    min_sample = serializers.IntegerField(required=False, default=10)
    points_met = serializers.IntegerField(required=False, default=10, min_value=0)
    points_exceeded = serializers.IntegerField(required=False, default=20, min_value=0)
    quality_gate = serializers.PrimaryKeyRelatedField(
        queryset=ServiceStandard.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of a standard (same period) that must be met for this one to earn points.",
    )
    coaching_missed = serializers.IntegerField(
        required=False, default=2, help_text="Coaching rule: missed in K ..."
    )
    coaching_window = serializers.IntegerField(
        required=False, default=3, help_text="... of the last N periods."
    )
    effective_from = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When a changed rule takes effect (periods starting on or after it); "
        "default today. Earlier periods keep the version they were evaluated with.",
    )

    def validate_channel(self, value: str) -> str:
        if value and not Channel.objects.filter(code=value).exists():
            codes = ", ".join(Channel.objects.values_list("code", flat=True))
            raise serializers.ValidationError(f"Unknown channel {value!r}: use one of {codes}.")
        return value


@extend_schema_field({"type": "array", "items": {"type": "integer"}, "readOnly": True})
class RelatedIdsField(serializers.Field):
    """The ids of a (prefetched) many-to-many relation."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> list[int]:
        return [related.pk for related in value.all()]


class StandardVersionOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    effective_from = serializers.DateField()
    target = serializers.FloatField()
    stretch_target = serializers.FloatField(allow_null=True)
    threshold_seconds = serializers.IntegerField(allow_null=True)
    min_sample = serializers.IntegerField()
    points_met = serializers.IntegerField()
    points_exceeded = serializers.IntegerField()
    quality_gate = serializers.IntegerField(source="quality_gate_id", allow_null=True)
    coaching_missed = serializers.IntegerField()
    coaching_window = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class StandardOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    metric = serializers.ChoiceField(choices=METRIC_CHOICES)
    metric_label = serializers.CharField(source="metric_definition.label")
    unit = serializers.CharField(source="metric_definition.unit")
    direction = serializers.ChoiceField(
        source="metric_definition.direction",
        choices=DIRECTION_CHOICES,
        help_text="Whether higher or lower values are better.",
    )
    channel = serializers.CharField(help_text='"" means every channel.')
    teams = RelatedIdsField(help_text="Team ids; empty: every team.")
    period = serializers.ChoiceField(choices=PERIOD_CHOICES)
    active_from = serializers.DateField()
    active_until = serializers.DateField(allow_null=True)
    target = serializers.FloatField()
    stretch_target = serializers.FloatField(allow_null=True)
    threshold_seconds = serializers.IntegerField(allow_null=True)
    min_sample = serializers.IntegerField()
    points_met = serializers.IntegerField()
    points_exceeded = serializers.IntegerField()
    quality_gate = serializers.IntegerField(source="quality_gate_id", allow_null=True)
    coaching_missed = serializers.IntegerField()
    coaching_window = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The current version's number.")
    versions = StandardVersionOutputSerializer(many=True, help_text="Every version, oldest first.")


# --- evaluations ---------------------------------------------------------------------------


class EvaluationFilterSerializer(serializers.Serializer):
    agent = serializers.IntegerField(required=False, help_text="An agent id.")
    standard = serializers.IntegerField(required=False, help_text="A standard id.")
    team = serializers.IntegerField(required=False, help_text="A team id.")
    since = serializers.DateField(
        required=False, help_text="Periods starting on or after this day (YYYY-MM-DD)."
    )
    until = serializers.DateField(
        required=False, help_text="Periods starting on or before this day (YYYY-MM-DD)."
    )
    outcome = serializers.ChoiceField(
        choices=Evaluation.Outcome.choices,
        required=False,
        error_messages={"invalid_choice": f'"{{input}}" is not an outcome: use {OUTCOME_NAMES}.'},
    )

    def validate(self, attrs: dict) -> dict:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": f"Before since ({since.isoformat()})."})
        return attrs


class AgentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class StandardRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class EvaluationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agent = AgentRefSerializer()
    standard = StandardRefSerializer()
    version = serializers.IntegerField(
        source="version.number", help_text="The standard version this was computed with."
    )
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="Exclusive: the day after the period's last.")
    value = serializers.FloatField(allow_null=True, help_text="Null when there was no data.")
    sample_size = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=Evaluation.Outcome.choices)
    points = serializers.IntegerField()
    gate_passed = serializers.BooleanField(
        allow_null=True, help_text="Whether the quality gate was met; null: no gate."
    )
    computed_at = serializers.DateTimeField()


# --- scorecard -----------------------------------------------------------------------------

PERIOD_KEY_FORMS = (
    (re.compile(r"\d{4}-\d{2}-\d{2}"), PeriodKind.DAY),
    (re.compile(r"\d{4}-W\d{1,2}"), PeriodKind.WEEK),
    (re.compile(r"\d{4}-\d{1,2}"), PeriodKind.MONTH),
)
PERIOD_KEY_HELP = "a day (2026-10-29), an ISO week (2026-W44) or a month (2026-10)"


class ScorecardQuerySerializer(serializers.Serializer):
    period = serializers.CharField(
        required=False,
        help_text=f"Which day to judge: {PERIOD_KEY_HELP}; a week or month means its first "
        "day. Default: yesterday in the agent's team time zone.",
    )

    def validate_period(self, value: str) -> date:
        for form, kind in PERIOD_KEY_FORMS:
            if form.fullmatch(value):
                try:
                    return parse_period_key(value, kind).start
                except ValueError:
                    break
        raise serializers.ValidationError(f"{value!r} is not {PERIOD_KEY_HELP}.")


class ScorecardPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="Exclusive: the day after the period's last.")
    label = serializers.CharField()
    key = serializers.CharField(help_text="2026-10-29, 2026-W44 or 2026-10.")


class ScorecardStandardSerializer(serializers.Serializer):
    standard = StandardRefSerializer()
    metric = serializers.ChoiceField(choices=METRIC_CHOICES)
    metric_label = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.ChoiceField(choices=DIRECTION_CHOICES)
    period = ScorecardPeriodSerializer()
    value = serializers.FloatField(allow_null=True)
    target = serializers.FloatField()
    stretch_target = serializers.FloatField(allow_null=True)
    outcome = serializers.ChoiceField(
        choices=Evaluation.Outcome.choices, allow_null=True, help_text="Null: not evaluated yet."
    )
    sample_size = serializers.IntegerField(allow_null=True)
    min_sample = serializers.IntegerField()
    points = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(
        allow_null=True,
        help_text="The standard version the evaluation used (its target, stretch and minimum "
        "sample are shown); null when not evaluated yet (the current rule is shown).",
    )
    gate_passed = serializers.BooleanField(allow_null=True)
    evaluation = serializers.IntegerField(allow_null=True, help_text="The evaluation's id.")


class ScorecardOutputSerializer(serializers.Serializer):
    agent = AgentRefSerializer()
    date = serializers.DateField(help_text="The day whose periods are shown.")
    standards = ScorecardStandardSerializer(many=True)
