"""The variable-pay API, for people (session login): a month's points per agent by kind, for
a lead's agents or, for an admin, everyone's; the same numbers as the page and its files."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from performance.periods import PeriodKeyError
from performance.roles import is_team_lead
from rewards import selectors
from rewards.api.leaderboards import WindowSerializer
from rewards.windows import Window, parse_month


class PayrollQuerySerializer(serializers.Serializer):
    month = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=20,
        help_text="2026-11; the month before the current one if absent.",
    )

    def validate_month(self, key: str) -> Window:
        try:
            return parse_month(key, today=timezone.localdate())
        except PeriodKeyError as error:
            raise serializers.ValidationError(error.message) from None


# One integer per kind that pays, named by the kind (spending kinds are not pay).
PayrollPointsSerializer = type(
    "PayrollPointsSerializer",
    (serializers.Serializer,),
    {
        kind: serializers.IntegerField(help_text=f"Points of kind `{kind}` earned in the month.")
        for kind in selectors.PAYROLL_KINDS
    },
)


class PayrollAgentSerializer(serializers.Serializer):
    agent = serializers.IntegerField(source="agent_id")
    team = serializers.CharField()
    external_id = serializers.CharField(help_text="The agent's ids in the feed sources.")
    name = serializers.CharField()
    active = serializers.BooleanField()
    points = PayrollPointsSerializer()
    total = serializers.IntegerField()


class PayrollSerializer(serializers.Serializer):
    month = WindowSerializer()
    final = serializers.BooleanField(
        help_text="Every period of the month closed (and the night after) in every zone of "
        "its agents' teams, and no evaluation change waiting to be reconciled."
    )
    status = serializers.CharField(help_text="Final, or provisional and why, for people.")
    final_from = serializers.DateField(
        help_text="The first day the month can be final: its last period's end plus a night."
    )
    pending_changes = serializers.IntegerField(
        help_text="Evaluation changes not reconciled yet; the month is provisional meanwhile."
    )
    produced_at = serializers.DateTimeField()
    totals = PayrollPointsSerializer()
    total = serializers.IntegerField()
    agents = PayrollAgentSerializer(many=True, source="rows")


class PayrollApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="payroll_retrieve",
        summary="Variable pay: a month's points per agent, by kind",
        description="Points earned in the month (by `earned_on`), per agent and kind, "
        "redemptions left out: a lead's agents (never their own), an admin's everyone; an "
        "agent gets 403. `final` says whether the month can still change by itself.",
        parameters=[PayrollQuerySerializer],
        responses={
            200: PayrollSerializer,
            400: OpenApiResponse(description="A month that is not one (2026-11)."),
            403: OpenApiResponse(description="Not logged in, or not a team lead or admin."),
        },
        tags=["points"],
    )
    def get(self, request: Request) -> Response:
        if not is_team_lead(request.user):
            raise PermissionDenied(gettext("Only team leads and admins export variable pay."))
        query = PayrollQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        payroll = selectors.payroll_for(
            selectors.payroll_agents_for(request.user), query.validated_data["month"]
        )
        return Response(PayrollSerializer(payroll).data)
