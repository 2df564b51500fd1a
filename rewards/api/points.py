"""The points API, for people (session login): an agent's balances and ledger history,
scoped like the pages (an agent their own, a lead their teams' agents, an admin everyone)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from performance.access import agent_for_user_or_404
from performance.api.common import NOT_LOGGED_IN, PeoplePagination
from rewards import selectors
from rewards.models import PointsEntry

AGENT_ID = OpenApiParameter(
    "agent_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="An agent's id."
)
NOT_VISIBLE = OpenApiResponse(description="No such agent, or not one you may see.")


class PointsEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    points = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PointsEntry.Kind.choices)
    penalty = serializers.BooleanField(
        source="is_penalty",
        help_text="A standard entry that leaves its period below zero: a missed period's "
        "penalty (kind stays `standard`).",
    )
    earned_on = serializers.DateField(help_text="The local date the points belong to.")
    reference = serializers.CharField(help_text="What caused the entry.")
    standard = serializers.IntegerField(source="standard_id", allow_null=True)
    note = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class ProvisionalSerializer(serializers.Serializer):
    standard = serializers.CharField(source="standard_name")
    period_start = serializers.DateField(source="period.start")
    period_end = serializers.DateField(source="period.end", help_text="Exclusive.")
    outcome = serializers.CharField()
    points = serializers.IntegerField()


class BalanceSerializer(serializers.Serializer):
    agent = serializers.IntegerField()
    lifetime = serializers.IntegerField(help_text="Everything earned, never reduced by spending.")
    spendable = serializers.IntegerField(help_text="Lifetime minus held and spent redemptions.")
    provisional = ProvisionalSerializer(
        many=True, help_text="Points of periods under way: not in the ledger, may change."
    )


class AgentBalanceApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="agent_points_balance",
        summary="An agent's points balances and provisional points",
        parameters=[AGENT_ID],
        responses={200: BalanceSerializer, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=["points"],
    )
    def get(self, request: Request, agent_id: int) -> Response:
        agent = agent_for_user_or_404(request.user, agent_id)
        balance = selectors.agent_balance(agent)
        body = BalanceSerializer(
            {
                "agent": agent.pk,
                "lifetime": balance.lifetime,
                "spendable": balance.spendable,
                "provisional": selectors.agent_provisional_points(agent),
            }
        )
        return Response(body.data)


class AgentPointsHistoryApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="agent_points_history",
        summary="An agent's ledger entries, newest first",
        parameters=[AGENT_ID],
        responses={200: PointsEntrySerializer(many=True), 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=["points"],
    )
    def get(self, request: Request, agent_id: int) -> Response:
        agent = agent_for_user_or_404(request.user, agent_id)
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(selectors.agent_history(agent), request, view=self)
        return paginator.get_paginated_response(PointsEntrySerializer(page, many=True).data)
