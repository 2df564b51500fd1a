"""Challenges in the API: the ones a person may see, and one's standings (live, or final)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from performance.api.common import NOT_LOGGED_IN
from rewards.models import Challenge
from rewards.selectors.challenges import (
    challenge_for_user_or_404,
    challenge_standings,
    challenge_today,
    challenges_visible_to,
)


class PrizeSerializer(serializers.Serializer):
    place = serializers.IntegerField()
    points = serializers.IntegerField()
    badge = serializers.CharField(source="badge.name", allow_null=True, default=None)


class ChallengeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=Challenge.Kind.choices)
    measure = serializers.ChoiceField(choices=Challenge.Measure.choices)
    metric = serializers.CharField(help_text="A metric key; empty for points.")
    minimum_sample = serializers.IntegerField()
    target = serializers.IntegerField(
        allow_null=True, help_text="First-to challenges: the exceeded periods to reach."
    )
    standard = serializers.IntegerField(
        source="standard_id",
        allow_null=True,
        help_text="First-to challenges: the standard whose periods count; null: any.",
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(help_text="The last day, inclusive.")
    final_on = serializers.DateField(help_text="The first day the results are final.")
    status = serializers.SerializerMethodField()
    prizes = serializers.SerializerMethodField()

    def get_status(self, challenge: Challenge) -> str:
        return challenge.status_on(challenge_today(challenge))

    @extend_schema_field(PrizeSerializer(many=True))
    def get_prizes(self, challenge: Challenge) -> list[dict]:
        return PrizeSerializer(challenge.prizes.all(), many=True).data


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="Null: below the minimum sample.")
    agent = serializers.IntegerField(source="agent.pk", allow_null=True, default=None)
    team = serializers.IntegerField(source="team.pk", allow_null=True, default=None)
    name = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    sample = serializers.IntegerField()
    prize_points = serializers.IntegerField()
    prize_badge = serializers.CharField(source="prize_badge.name", allow_null=True, default=None)
    reached_on = serializers.DateField(
        allow_null=True, help_text="First-to challenges: the day N was reached."
    )


class ChallengeDetailSerializer(serializers.Serializer):
    challenge = ChallengeSerializer()
    standings = StandingSerializer(many=True)


class ChallengeListApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="challenges",
        summary="The challenges you may see (your team's; a lead's teams'; an admin's all)",
        responses={200: ChallengeSerializer(many=True), 403: NOT_LOGGED_IN},
        tags=["challenges"],
    )
    def get(self, request: Request) -> Response:
        return Response(ChallengeSerializer(challenges_visible_to(request.user), many=True).data)


class ChallengeApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="challenge",
        summary="A challenge and its standings: live until final, then the frozen results",
        parameters=[OpenApiParameter("challenge_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={
            200: ChallengeDetailSerializer,
            403: NOT_LOGGED_IN,
            404: OpenApiResponse(description="No such challenge among those you may see."),
        },
        tags=["challenges"],
    )
    def get(self, request: Request, challenge_id: int) -> Response:
        challenge = challenge_for_user_or_404(request.user, challenge_id)
        body = {"challenge": challenge, "standings": challenge_standings(challenge)}
        return Response(ChallengeDetailSerializer(body).data)
