"""The coaching flags API, for people (session login), scoped like the pages: an agent reads
their own flags, a lead those of the agents they lead (and resolves, dismisses or opens them
by hand), an admin everyone's."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coaching import selectors
from coaching.api.common import validation_body
from coaching.models import CoachingFlag
from coaching.services.flags import NOTE_MAX_LENGTH, flag_dismiss, flag_open_by_hand, flag_resolve
from performance.api.common import NOT_LOGGED_IN, PeoplePagination
from performance.models import ServiceStandard
from performance.roles import is_team_lead

FLAG_ID = OpenApiParameter(
    "flag_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A coaching flag's id."
)
NOT_VISIBLE = OpenApiResponse(description="No such flag, or not one you may see or close.")
ALREADY_CLOSED = OpenApiResponse(description="The flag is no longer open.")


class EvidenceSerializer(serializers.Serializer):
    period_start = serializers.DateField(source="period.start")
    period_end = serializers.DateField(source="period.end", help_text="Exclusive.")
    period_label = serializers.CharField(source="period.label")
    value = serializers.FloatField(allow_null=True, help_text="As judged when the flag opened.")
    target = serializers.FloatField()
    evaluation = serializers.IntegerField(
        source="evaluation.pk", allow_null=True, default=None, help_text="Its evaluation now."
    )
    outcome_now = serializers.CharField(source="evaluation.outcome", allow_null=True, default=None)


class FlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agent = serializers.IntegerField(source="agent_id")
    agent_name = serializers.CharField(source="agent.display_name")
    team = serializers.IntegerField(source="agent.team_id")
    standard = serializers.IntegerField(source="standard_id")
    standard_name = serializers.CharField(source="standard.name")
    status = serializers.ChoiceField(choices=CoachingFlag.Status.choices)
    origin = serializers.ChoiceField(choices=CoachingFlag.Origin.choices)
    opened_on = serializers.DateField(help_text="Start of the period that completed the rule.")
    opened_by = serializers.CharField(source="opened_by.username", allow_null=True, default=None)
    note = serializers.CharField()
    missed_periods = serializers.IntegerField()
    gap = serializers.FloatField(allow_null=True, help_text="0.1: the latest miss 10% short.")
    resolved_on = serializers.DateField(allow_null=True)
    resolved_by = serializers.CharField(
        source="resolved_by.username",
        allow_null=True,
        default=None,
        help_text="Null when it resolved itself or was withdrawn.",
    )
    reason = serializers.CharField()
    evidence_corrected = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class FlagDetailSerializer(FlagSerializer):
    goal = serializers.CharField(help_text="The flag as the goal that closes it.")
    evidence = EvidenceSerializer(source="evidence_rows", many=True)


class FlagListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CoachingFlag.Status.choices, required=False)
    team = serializers.IntegerField(required=False, min_value=1)
    standard = serializers.IntegerField(required=False, min_value=1)
    agent = serializers.IntegerField(required=False, min_value=1)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class OpenFlagSerializer(serializers.Serializer):
    agent = serializers.IntegerField(help_text="An agent you lead.")
    standard = serializers.IntegerField()
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH)

    def validate_agent(self, agent_id: int):
        agent = selectors.queue_agents(self.context["user"]).filter(pk=agent_id).first()
        if agent is None:
            raise serializers.ValidationError(gettext("Not an agent you lead."))
        return agent

    def validate_standard(self, standard_id: int) -> ServiceStandard:
        standard = ServiceStandard.objects.filter(pk=standard_id).first()
        if standard is None:
            raise serializers.ValidationError(gettext("No such standard."))
        return standard


def _detail_body(flag: CoachingFlag) -> dict[str, Any]:
    flag.goal = selectors.flag_goal(flag.standard)
    flag.evidence_rows = selectors.flag_evidence(flag)
    return FlagDetailSerializer(flag).data


class FlagListApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="coaching_flags_list",
        summary="Coaching flags you may see, newest first",
        parameters=[FlagListQuerySerializer],
        responses={200: FlagSerializer(many=True), 400: OpenApiResponse(), 403: NOT_LOGGED_IN},
        tags=["coaching"],
    )
    def get(self, request: Request) -> Response:
        query = FlagListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        flags = selectors.flags_visible_to(request.user).order_by("-opened_on", "-id")
        filters = {
            "status": "status",
            "team": "agent__team_id",
            "standard": "standard_id",
            "agent": "agent_id",
        }
        for name, lookup in filters.items():
            if name in query.validated_data:
                flags = flags.filter(**{lookup: query.validated_data[name]})
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(flags, request, view=self)
        return paginator.get_paginated_response(FlagSerializer(page, many=True).data)

    @extend_schema(
        operation_id="coaching_flags_open",
        summary="Open a flag by hand on an agent you lead",
        request=OpenFlagSerializer,
        responses={201: FlagDetailSerializer, 400: OpenApiResponse(), 403: NOT_LOGGED_IN},
        tags=["coaching"],
    )
    def post(self, request: Request) -> Response:
        if not is_team_lead(request.user):
            raise NotFound(gettext("Only team leads open coaching flags."))
        data = OpenFlagSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        try:
            flag = flag_open_by_hand(
                agent=data.validated_data["agent"],
                standard=data.validated_data["standard"],
                opened_by=request.user,
                note=data.validated_data["note"],
            )
        except ValidationError as error:
            return Response(validation_body(error), status=status.HTTP_400_BAD_REQUEST)
        flag = selectors.flag_for_user_or_404(request.user, flag.pk)
        return Response(
            _detail_body(flag),
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api-coaching-flag", args=[flag.pk])},
        )


class FlagDetailApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="coaching_flag_detail",
        summary="A coaching flag with its goal and evidence",
        parameters=[FLAG_ID],
        responses={200: FlagDetailSerializer, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=["coaching"],
    )
    def get(self, request: Request, flag_id: int) -> Response:
        return Response(_detail_body(selectors.flag_for_user_or_404(request.user, flag_id)))


class _FlagCloseApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    dismiss = False

    def post(self, request: Request, flag_id: int) -> Response:
        flag = selectors.flag_for_user_or_404(request.user, flag_id)
        if not selectors.may_act_on(request.user, flag):
            raise NotFound(gettext("No such flag, or not one you may close."))
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not flag.is_open:
            return Response(
                {
                    "detail": gettext("This flag is already %(status)s.")
                    % {"status": flag.get_status_display().lower()}
                },
                status=status.HTTP_409_CONFLICT,
            )
        try:
            if self.dismiss:
                flag_dismiss(
                    flag=flag, dismissed_by=request.user, reason=data.validated_data["reason"]
                )
            else:
                flag_resolve(
                    flag=flag, resolved_by=request.user, reason=data.validated_data["reason"]
                )
        except ValidationError as error:
            body = validation_body(error)
            code = status.HTTP_400_BAD_REQUEST if "reason" in body else status.HTTP_409_CONFLICT
            return Response(body, status=code)
        return Response(_detail_body(selectors.flag_for_user_or_404(request.user, flag_id)))


CLOSE_RESPONSES = {
    200: FlagDetailSerializer,
    400: OpenApiResponse(description="No reason given."),
    403: NOT_LOGGED_IN,
    404: NOT_VISIBLE,
    409: ALREADY_CLOSED,
}


class FlagResolveApi(_FlagCloseApi):
    @extend_schema(
        operation_id="coaching_flag_resolve",
        summary="Resolve an open flag of an agent you lead",
        parameters=[FLAG_ID],
        request=ReasonSerializer,
        responses=CLOSE_RESPONSES,
        tags=["coaching"],
    )
    def post(self, request: Request, flag_id: int) -> Response:
        return super().post(request, flag_id)


class FlagDismissApi(_FlagCloseApi):
    dismiss = True

    @extend_schema(
        operation_id="coaching_flag_dismiss",
        summary="Dismiss an open flag of an agent you lead, with the reason",
        parameters=[FLAG_ID],
        request=ReasonSerializer,
        responses=CLOSE_RESPONSES,
        tags=["coaching"],
    )
    def post(self, request: Request, flag_id: int) -> Response:
        return super().post(request, flag_id)
