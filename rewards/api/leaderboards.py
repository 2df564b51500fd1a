"""The leaderboards API, for people (session login): the boards a user may open and one page
of a board, with the same privacy, own standing and provisional points as the pages."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from performance.api.common import NOT_LOGGED_IN
from performance.periods import PeriodKeyError
from rewards import selectors
from rewards.models import Leaderboard
from rewards.windows import SPAN_CHOICES, parse_window


class LeaderboardSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    scope = serializers.ChoiceField(choices=Leaderboard.Scope.choices)
    channel = serializers.CharField(help_text="For a channel board; empty otherwise.")
    ranks = serializers.ChoiceField(choices=Leaderboard.Ranks.choices)
    default_window = serializers.ChoiceField(choices=SPAN_CHOICES)
    privacy = serializers.ChoiceField(choices=Leaderboard.Privacy.choices)


class LeaderboardListQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=Leaderboard.Scope.choices, required=False)


class BoardQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(
        choices=SPAN_CHOICES, required=False, help_text="The board's default window if absent."
    )
    period = serializers.CharField(
        required=False,
        max_length=12,
        help_text="2026-W45, 2026-11, 2026-Q4 or a day in the window; the current one if absent.",
    )
    team = serializers.IntegerField(
        required=False, help_text="For a team board: one of the teams you may open."
    )
    page = serializers.IntegerField(required=False, min_value=1, max_value=100_000, default=1)

    def validate_team(self, team_id: int) -> int:
        if team_id not in {team.pk for team in self.context["teams"]}:
            raise serializers.ValidationError(gettext("Not a team whose board you may open."))
        return team_id

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        span = attrs.get("window") or self.context["board"].default_window
        try:
            attrs["resolved_window"] = parse_window(
                span, attrs.get("period", ""), today=timezone.localdate()
            )
        except PeriodKeyError as error:
            raise serializers.ValidationError({"period": error.message}) from None
        return attrs


class WindowSerializer(serializers.Serializer):
    span = serializers.ChoiceField(choices=SPAN_CHOICES)
    key = serializers.CharField(help_text="Pass back as `period`; empty for all time.")
    start = serializers.DateField()
    end = serializers.DateField(help_text="Exclusive.")
    label = serializers.CharField()


class BoardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="Ties share a rank: 1, 2, 2, 4.")
    points = serializers.IntegerField(
        help_text="Closed periods' points; per active agent on a team board."
    )
    name = serializers.CharField(help_text="Empty where the board hides names from you.")
    team = serializers.CharField(source="team_name")
    agent = serializers.IntegerField(source="agent_id", allow_null=True)
    team_id = serializers.IntegerField(allow_null=True)
    is_you = serializers.BooleanField(source="is_viewer")
    provisional = serializers.IntegerField(help_text="Points of periods under way, not ranked.")
    active_agents = serializers.IntegerField(help_text="On a team board.")


class OwnStandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    points = serializers.IntegerField()
    gap_to_next = serializers.IntegerField(
        allow_null=True, help_text="Points to the next rank up; null at the top."
    )
    on_page = serializers.BooleanField()
    neighbours = BoardRowSerializer(many=True, help_text="Around you, when off this page.")


class BoardSerializer(serializers.Serializer):
    board = LeaderboardSerializer()
    window = WindowSerializer()
    team = serializers.IntegerField(source="team.pk", allow_null=True, default=None)
    rows = BoardRowSerializer(many=True)
    ranked = serializers.IntegerField(help_text="Agents (or teams) with points in the window.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    own = OwnStandingSerializer(allow_null=True, help_text="An agent's own standing.")
    names_hidden = serializers.BooleanField()
    unranked_teams = BoardRowSerializer(many=True, help_text="Too few active agents.")


class LeaderboardListApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="leaderboards_list",
        summary="The leaderboards you may open",
        parameters=[LeaderboardListQuerySerializer],
        responses={200: LeaderboardSerializer(many=True), 403: NOT_LOGGED_IN},
        tags=["leaderboards"],
    )
    def get(self, request: Request) -> Response:
        query = LeaderboardListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        boards = selectors.leaderboards_visible_to(request.user)
        if scope := query.validated_data.get("scope"):
            boards = boards.filter(scope=scope)
        return Response(LeaderboardSerializer(boards, many=True).data)


class LeaderboardApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="leaderboard_retrieve",
        summary="One page of a leaderboard for a window",
        description="Agents see others' names as the board's privacy allows, and always their "
        "own rank, points and the gap to the next rank; leads and admins see names. Team boards "
        "open on one of the teams you may open (yours, or those you lead).",
        parameters=[
            OpenApiParameter(
                "slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The board's slug."
            ),
            BoardQuerySerializer,
        ],
        responses={
            200: BoardSerializer,
            400: OpenApiResponse(description="A bad window, period, team or page."),
            403: NOT_LOGGED_IN,
            404: OpenApiResponse(description="No such board, or none you may open."),
        },
        tags=["leaderboards"],
    )
    def get(self, request: Request, slug: str) -> Response:
        board = get_object_or_404(selectors.leaderboards_visible_to(request.user), slug=slug)
        is_team_board = board.scope == Leaderboard.Scope.TEAM
        teams = selectors.board_teams_for(request.user) if is_team_board else []
        if is_team_board and not teams:
            raise NotFound(gettext("You are in no team whose board you may open."))
        query = BoardQuerySerializer(
            data=request.query_params, context={"board": board, "teams": teams}
        )
        query.is_valid(raise_exception=True)
        team_id = query.validated_data.get("team")
        team = next((team for team in teams if team.pk == team_id), teams[0] if teams else None)
        view = selectors.leaderboard_for(
            board,
            query.validated_data["resolved_window"],
            viewer=request.user,
            team=team,
            page=query.validated_data["page"],
        )
        return Response(BoardSerializer(view).data)
