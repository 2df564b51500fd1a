"""The evaluations and scorecard API, for people (session login), never feed tokens: scoped by
the access helpers (an agent sees their own, a lead their teams' agents, an admin everyone).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from performance.access import (
    agent_for_user_or_404,
    evaluations_visible_to,
)
from performance.api.common import (
    DIRECTION_CHOICES,
    NOT_LOGGED_IN,
    PeoplePagination,
    SupportedDateField,
)
from performance.metrics import METRIC_CHOICES
from performance.models import Agent, Evaluation
from performance.periods import (
    PERIOD_KEY_HELP,
    PeriodKeyError,
    PeriodKind,
    last_complete_period,
    parse_period_key,
)
from performance.selectors import ScorecardRow, agent_scorecard

OUTCOME_NAMES = ", ".join(Evaluation.Outcome.values)


# --- evaluations ---------------------------------------------------------------------------


class EvaluationFilterSerializer(serializers.Serializer):
    agent = serializers.IntegerField(required=False, help_text="An agent id.")
    standard = serializers.IntegerField(required=False, help_text="A standard id.")
    team = serializers.IntegerField(required=False, help_text="A team id.")
    since = SupportedDateField(
        required=False,
        help_text="Periods starting on or after this day (YYYY-MM-DD, years 2000 to 2099).",
    )
    until = SupportedDateField(
        required=False,
        help_text="Periods starting on or before this day (YYYY-MM-DD, years 2000 to 2099).",
    )
    outcome = serializers.ChoiceField(
        choices=Evaluation.Outcome.choices,
        required=False,
        error_messages={
            "invalid_choice": format_lazy(
                gettext_lazy('"{{input}}" is not an outcome: use {names}.'), names=OUTCOME_NAMES
            )
        },
    )

    def validate(self, attrs: dict) -> dict:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError(
                {"until": gettext("Before since (%(since)s).") % {"since": since.isoformat()}}
            )
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


class ScorecardQuerySerializer(serializers.Serializer):
    period = serializers.CharField(
        required=False,
        help_text=format_lazy(
            "Which day to judge: {}; a week or month means its first day. Default: each "
            "standard's last complete period in the agent's team time zone (yesterday, last "
            "week, last month).",
            PERIOD_KEY_HELP,
        ),
    )

    def validate_period(self, value: str) -> date:
        try:
            return parse_period_key(value).start
        except PeriodKeyError as error:
            raise serializers.ValidationError(error.message) from None


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
    how_computed = serializers.CharField(help_text="How the metric is computed, for people.")
    period = ScorecardPeriodSerializer()
    value = serializers.FloatField(allow_null=True)
    target = serializers.FloatField()
    stretch_target = serializers.FloatField(allow_null=True)
    outcome = serializers.ChoiceField(
        choices=Evaluation.Outcome.choices, allow_null=True, help_text="Null: not evaluated yet."
    )
    sample_size = serializers.IntegerField(allow_null=True)
    min_sample = serializers.IntegerField()
    points = serializers.IntegerField(
        allow_null=True, help_text="Negative: the penalty of a missed period."
    )
    points_missed_penalty = serializers.IntegerField(
        help_text="What a missed period costs under the rule shown (0: nothing)."
    )
    version = serializers.IntegerField(
        allow_null=True,
        help_text="The standard version the evaluation used (its target, stretch and minimum "
        "sample are shown); null when not evaluated yet (the current rule is shown).",
    )
    in_progress = serializers.BooleanField(
        help_text="The period is still under way: the outcome is the data so far."
    )
    gate_passed = serializers.BooleanField(
        allow_null=True,
        help_text="Whether the quality gate was met; null: no gate, not evaluated yet, or "
        "insufficient data of the standard's own (no points either way).",
    )
    evaluation = serializers.IntegerField(allow_null=True, help_text="The evaluation's id.")


class ScorecardOutputSerializer(serializers.Serializer):
    agent = AgentRefSerializer()
    date = serializers.DateField(
        help_text="The day whose periods are shown; by default the last complete day."
    )
    standards = ScorecardStandardSerializer(many=True)


# --- evaluations ---------------------------------------------------------------------------


def _filtered(evaluations: QuerySet[Evaluation], filters: dict[str, Any]) -> QuerySet[Evaluation]:
    lookups = {
        "agent": "agent_id",
        "standard": "standard_id",
        "team": "agent__team_id",
        "since": "period_start__gte",
        "until": "period_start__lte",
        "outcome": "outcome",
    }
    return evaluations.filter(**{lookups[name]: value for name, value in filters.items()})


class EvaluationListApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    pagination_class = PeoplePagination

    @extend_schema(
        operation_id="evaluations_list",
        summary="Evaluations: agent x standard x period judgements",
        description="Newest periods first, paginated (`?page=`, `?page_size=` up to "
        f"{PeoplePagination.max_page_size}). An agent sees their own, a lead their teams' "
        "agents, an admin everyone; asking for an agent you may not see returns an empty "
        "list. `since`/`until` bound `period_start`, both inclusive.",
        parameters=[EvaluationFilterSerializer],
        responses={
            200: EvaluationOutputSerializer(many=True),
            400: OpenApiResponse(description="A bad date, an unknown outcome, since > until."),
            403: NOT_LOGGED_IN,
        },
        tags=["evaluations"],
    )
    def get(self, request: Request) -> Response:
        filters = EvaluationFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        evaluations = _filtered(evaluations_visible_to(request.user), filters.validated_data)
        evaluations = evaluations.order_by("-period_start", "agent_id", "standard_id")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(evaluations, request, view=self)
        return paginator.get_paginated_response(EvaluationOutputSerializer(page, many=True).data)


# --- scorecard -----------------------------------------------------------------------------


def _today_for(agent: Agent) -> date:
    return timezone.localdate(timezone=ZoneInfo(agent.team.time_zone))


def _scorecard_item(row: ScorecardRow) -> dict[str, Any]:
    evaluation = row.evaluation
    # An evaluation is shown with the rule of the version that judged it.
    rule = evaluation.version if evaluation else row.standard
    return {
        "standard": row.standard,
        "metric": row.metric.key,
        "metric_label": row.metric.label,
        "unit": row.metric.unit,
        "direction": row.metric.direction,
        "how_computed": row.metric.explanation,
        "period": row.period,
        "value": evaluation.value if evaluation else None,
        "target": rule.target,
        "stretch_target": rule.stretch_target,
        "outcome": evaluation.outcome if evaluation else None,
        "sample_size": evaluation.sample_size if evaluation else None,
        "min_sample": rule.min_sample,
        "points": evaluation.points if evaluation else None,
        "points_missed_penalty": rule.points_missed_penalty,
        "version": evaluation.version.number if evaluation else None,
        "in_progress": row.in_progress,
        "gate_passed": row.gate_passed,
        "evaluation": evaluation.id if evaluation else None,
    }


class AgentScorecardApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="agent_scorecard",
        summary="An agent's scorecard",
        description="Every standard that applies to the agent's team on the day, judged for "
        "its period (day, week or month) containing that day; without `period`, for its last "
        "complete period. A period still under way says `in_progress`. Standards not evaluated yet "
        "have a null outcome. Agents may open only their own; leads their teams' agents.",
        parameters=[
            OpenApiParameter(
                "agent_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="An agent's id."
            ),
            ScorecardQuerySerializer,
        ],
        responses={
            200: ScorecardOutputSerializer,
            400: OpenApiResponse(description="A bad period."),
            403: NOT_LOGGED_IN,
            404: OpenApiResponse(description="No such agent, or not one you may see."),
        },
        tags=["scorecards"],
    )
    def get(self, request: Request, agent_id: int) -> Response:
        agent = agent_for_user_or_404(request.user, agent_id)
        query = ScorecardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        today = _today_for(agent)
        day = query.validated_data.get("period")
        rows = agent_scorecard(agent, day=day, today=today)
        body = ScorecardOutputSerializer(
            {
                "agent": agent,
                "date": day or last_complete_period(PeriodKind.DAY, today=today).start,
                "standards": [_scorecard_item(row) for row in rows],
            }
        )
        return Response(body.data)
