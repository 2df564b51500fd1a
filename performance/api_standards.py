"""The standards, evaluations and scorecard API: for people (session login), never feed tokens.

Everyone logged in reads the standards; only admins create and change them, through
`standard_save`, so a changed rule becomes a new version and old evaluations keep theirs.
Evaluations and scorecards are scoped by the access helpers: an agent sees their own, a lead
their teams' agents, an admin everyone.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as ModelValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from performance.access import (
    agent_for_user_or_404,
    evaluations_visible_to,
    standard_for_user_or_404,
    standards_visible_to,
)
from performance.models import Agent, Evaluation, ServiceStandard
from performance.roles import is_admin
from performance.selectors import ScorecardRow, agent_scorecard
from performance.serializers_standards import (
    EvaluationFilterSerializer,
    EvaluationOutputSerializer,
    ScorecardOutputSerializer,
    ScorecardQuerySerializer,
    StandardInputSerializer,
    StandardOutputSerializer,
)
from performance.services.standards import standard_save


class IsAdminOrReadOnly(BasePermission):
    """Logged-in people read; only admins write."""

    message = "Only admins configure standards."

    def has_permission(self, request: Request, view: object) -> bool:
        if not request.user.is_authenticated:
            return False  # DRF answers "not authenticated"
        return request.method in SAFE_METHODS or is_admin(request.user)


class PeoplePagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


NOT_LOGGED_IN = OpenApiResponse(
    description="Not logged in (a feed token is no login: these endpoints are for people)."
)
ADMINS_ONLY = OpenApiResponse(description="Not logged in, or not an admin.")
INVALID = OpenApiResponse(description="Invalid input: field -> list of messages.")
STANDARD_ID = OpenApiParameter(
    "standard_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A standard's id."
)


# --- standards -----------------------------------------------------------------------------


def _model_errors(exc: ModelValidationError) -> dict[str, list[str]]:
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name): messages
        for name, messages in exc.message_dict.items()
    }


def _write_standard(
    standard: ServiceStandard, data: dict[str, Any], user: AbstractBaseUser
) -> ServiceStandard:
    """Apply the input to `standard`, validate it as the admin form does, and save it.
    Call inside a transaction (the teams are set after the standard is saved)."""
    for name, value in data.items():
        if name not in ("teams", "effective_from"):
            setattr(standard, name, value)
    try:
        standard.full_clean(exclude=["teams"])
    except ModelValidationError as exc:
        raise serializers.ValidationError(_model_errors(exc)) from None
    standard_save(standard=standard, changed_by=user, effective_from=data.get("effective_from"))
    if "teams" in data:
        standard.teams.set(data["teams"])
    return standard


def _standard_body(user: AbstractBaseUser, standard_id: int) -> dict[str, Any]:
    return StandardOutputSerializer(standard_for_user_or_404(user, standard_id)).data


class StandardListCreateApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAdminOrReadOnly]
    pagination_class = PeoplePagination

    @extend_schema(
        operation_id="standards_list",
        summary="List the service standards",
        description="Every standard with its current rule and all its versions, by name. "
        "Readable by everyone logged in.",
        responses={200: StandardOutputSerializer(many=True), 403: NOT_LOGGED_IN},
        tags=["standards"],
    )
    def get(self, request: Request) -> Response:
        standards = standards_visible_to(request.user).order_by("name", "id")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(standards, request, view=self)
        return paginator.get_paginated_response(StandardOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="standards_create",
        summary="Create a service standard (admins)",
        description="Validated like the admin form (stretch beyond the target in the metric's "
        "direction, a threshold for sla, min_sample >= 1, a gate on the same period). Creates "
        "version 1, effective from `active_from`.",
        request=StandardInputSerializer,
        responses={201: StandardOutputSerializer, 400: INVALID, 403: ADMINS_ONLY},
        tags=["standards"],
    )
    def post(self, request: Request) -> Response:
        with transaction.atomic():
            data = StandardInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            standard = _write_standard(ServiceStandard(), data.validated_data, request.user)
        return Response(
            _standard_body(request.user, standard.id),
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api-standard-detail", args=[standard.id])},
        )


UPDATE_DESCRIPTION = (
    "Validated like the admin form. A changed rule (target, stretch, threshold, minimum "
    "sample, points, gate, coaching rule) becomes a new version that applies to periods "
    "starting on or after `effective_from` (default today); evaluations already computed "
    "keep the version they were computed with. Name, scope and dates change in place."
)


class StandardDetailApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAdminOrReadOnly]

    @extend_schema(
        operation_id="standards_retrieve",
        summary="A service standard and its versions",
        parameters=[STANDARD_ID],
        responses={
            200: StandardOutputSerializer,
            403: NOT_LOGGED_IN,
            404: OpenApiResponse(description="No such standard."),
        },
        tags=["standards"],
    )
    def get(self, request: Request, standard_id: int) -> Response:
        return Response(_standard_body(request.user, standard_id))

    def _update(self, request: Request, standard_id: int, *, partial: bool) -> Response:
        with transaction.atomic():
            standard = standard_for_user_or_404(request.user, standard_id, for_update=True)
            data = StandardInputSerializer(data=request.data, partial=partial)
            data.is_valid(raise_exception=True)
            _write_standard(standard, data.validated_data, request.user)
        return Response(_standard_body(request.user, standard_id))

    @extend_schema(
        operation_id="standards_update",
        summary="Replace a service standard (admins)",
        description=UPDATE_DESCRIPTION + " Fields left out take their defaults.",
        parameters=[STANDARD_ID],
        request=StandardInputSerializer,
        responses={
            200: StandardOutputSerializer,
            400: INVALID,
            403: ADMINS_ONLY,
            404: OpenApiResponse(description="No such standard."),
        },
        tags=["standards"],
    )
    def put(self, request: Request, standard_id: int) -> Response:
        return self._update(request, standard_id, partial=False)

    @extend_schema(
        operation_id="standards_partial_update",
        summary="Change some fields of a service standard (admins)",
        description=UPDATE_DESCRIPTION + " Fields left out keep their values.",
        parameters=[STANDARD_ID],
        request=StandardInputSerializer(partial=True),
        responses={
            200: StandardOutputSerializer,
            400: INVALID,
            403: ADMINS_ONLY,
            404: OpenApiResponse(description="No such standard."),
        },
        tags=["standards"],
    )
    def patch(self, request: Request, standard_id: int) -> Response:
        return self._update(request, standard_id, partial=True)


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


def _yesterday_for(agent: Agent) -> date:
    return timezone.localdate(timezone=ZoneInfo(agent.team.time_zone)) - timedelta(days=1)


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
        "period": row.period,
        "value": evaluation.value if evaluation else None,
        "target": rule.target,
        "stretch_target": rule.stretch_target,
        "outcome": evaluation.outcome if evaluation else None,
        "sample_size": evaluation.sample_size if evaluation else None,
        "min_sample": rule.min_sample,
        "points": evaluation.points if evaluation else None,
        "version": evaluation.version.number if evaluation else None,
        "gate_passed": evaluation.gate_passed if evaluation else None,
        "evaluation": evaluation.id if evaluation else None,
    }


class AgentScorecardApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="agent_scorecard",
        summary="An agent's scorecard",
        description="Every standard that applies to the agent's team on the day, judged for "
        "its period (day, week or month) containing that day. Standards not evaluated yet "
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
        day = query.validated_data.get("period") or _yesterday_for(agent)
        rows = agent_scorecard(agent, day=day)
        body = ScorecardOutputSerializer(
            {"agent": agent, "date": day, "standards": [_scorecard_item(row) for row in rows]}
        )
        return Response(body.data)
