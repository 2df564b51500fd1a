"""Badges in the API: the badges an agent holds, scoped like the points pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from performance.access import agent_for_user_or_404
from performance.api.common import NOT_LOGGED_IN
from rewards import selectors
from rewards.api.points import AGENT_ID, NOT_VISIBLE
from rewards.models import Badge


class HeldBadgeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="badge.id")
    name = serializers.CharField(source="badge.name")
    description = serializers.CharField(source="badge.description")
    icon = serializers.CharField(source="badge.icon")
    criterion = serializers.ChoiceField(source="badge.criterion", choices=Badge.Criterion.choices)
    points = serializers.IntegerField(source="badge.points", help_text="Points per time earned.")
    times = serializers.IntegerField(help_text="How many windows it was earned in.")
    last_earned_on = serializers.DateField()
    evidence = serializers.CharField(help_text="What earned it the latest time.")


class AgentBadgesApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="agent_badges",
        summary="The badges an agent holds, most recently earned first",
        parameters=[AGENT_ID],
        responses={200: HeldBadgeSerializer(many=True), 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=["points"],
    )
    def get(self, request: Request, agent_id: int) -> Response:
        agent = agent_for_user_or_404(request.user, agent_id)
        return Response(HeldBadgeSerializer(selectors.agent_badges(agent), many=True).data)
