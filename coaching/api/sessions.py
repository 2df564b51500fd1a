"""The coaching sessions API, for people (session login), scoped like the pages: an agent
reads their own sessions, acknowledges a held one and ticks the action items they own; a
lead schedules and runs the sessions of the agents they lead; an admin everyone's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coaching import selectors
from coaching.api.common import validation_body
from coaching.models import ActionItem, CoachingFlag, CoachingSession
from coaching.models.sessions import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES, TEXT_MAX_LENGTH
from coaching.services.sessions import (
    action_item_add,
    action_item_set_done,
    session_acknowledge,
    session_cancel,
    session_record,
    session_schedule,
)
from performance.api.common import NOT_LOGGED_IN, PeoplePagination, SupportedDateField
from performance.roles import is_team_lead

SESSION_ID = OpenApiParameter(
    "session_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A session's id."
)
ITEM_ID = OpenApiParameter(
    "item_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="An action item's id."
)
NOT_VISIBLE = OpenApiResponse(description="No such session, or not one you may see or run.")
REFUSED = OpenApiResponse(description="Invalid input, or the session's state refuses it.")


class ActionItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    description = serializers.CharField()
    owner = serializers.ChoiceField(choices=ActionItem.Owner.choices)
    due_on = serializers.DateField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)


class EffectSerializer(serializers.Serializer):
    standard = serializers.IntegerField(source="standard.pk")
    standard_name = serializers.CharField(source="standard.name")
    periods = serializers.IntegerField(help_text="N closed periods on each side.")
    before = serializers.FloatField(allow_null=True)
    after = serializers.FloatField(
        allow_null=True, help_text="Null until the N periods after the session have closed."
    )
    improvement = serializers.FloatField(
        allow_null=True, help_text="The change, positive when the metric moved the right way."
    )
    ready_on = serializers.DateField(help_text="When the after-periods have all closed.")


class SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agent = serializers.IntegerField(source="agent_id")
    agent_name = serializers.CharField(source="agent.display_name")
    coach = serializers.CharField(source="coach.username")
    scheduled_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    time_zone = serializers.CharField(source="agent.team.time_zone")
    status = serializers.ChoiceField(choices=CoachingSession.Status.choices)
    follow_up_on = serializers.DateField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class SessionDetailSerializer(SessionSerializer):
    flags = serializers.SerializerMethodField(help_text="The ids of the flags it works on.")
    agenda = serializers.CharField()
    notes = serializers.CharField()
    outcome = serializers.CharField()
    cancelled_reason = serializers.CharField()
    acknowledgement = serializers.CharField()
    action_items = ActionItemSerializer(many=True)
    effectiveness = EffectSerializer(many=True)
    invitation = serializers.CharField(help_text="The .ics invitation's address.")

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_flags(self, session: CoachingSession) -> list[int]:
        return [flag.pk for flag in session.flags.all()]


class SessionListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CoachingSession.Status.choices, required=False)
    agent = serializers.IntegerField(required=False, min_value=1)


class ScheduleSerializer(serializers.Serializer):
    agent = serializers.IntegerField(help_text="An agent you lead.")
    scheduled_at = serializers.DateTimeField(help_text="ISO 8601 with its offset.")
    duration_minutes = serializers.IntegerField(
        min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES, default=30
    )
    flags = serializers.ListField(child=serializers.IntegerField(min_value=1), default=list)
    agenda = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, required=False, help_text="Omitted: the flags' evidence."
    )

    def validate_agent(self, agent_id: int):
        agent = selectors.queue_agents(self.context["user"]).filter(pk=agent_id).first()
        if agent is None:
            raise serializers.ValidationError(gettext("Not an agent you lead."))
        return agent

    def validate_flags(self, flag_ids: list[int]) -> list[CoachingFlag]:
        flags = list(
            CoachingFlag.objects.select_related("standard").filter(
                pk__in=flag_ids,
                agent__in=selectors.queue_agents(self.context["user"]).values("pk"),
            )
        )
        if len(flags) != len(set(flag_ids)):
            raise serializers.ValidationError(gettext("Only flags of agents you lead."))
        return flags


class RecordSerializer(serializers.Serializer):
    notes = serializers.CharField(max_length=TEXT_MAX_LENGTH, allow_blank=True, default="")
    outcome = serializers.CharField(max_length=TEXT_MAX_LENGTH, allow_blank=True, default="")
    follow_up_on = SupportedDateField(allow_null=True, default=None)
    held = serializers.BooleanField(default=False)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=TEXT_MAX_LENGTH)


class AcknowledgeSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=TEXT_MAX_LENGTH, allow_blank=True, default="")


class ActionItemInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300)
    owner = serializers.ChoiceField(choices=ActionItem.Owner.choices, default="agent")
    due_on = SupportedDateField(allow_null=True, default=None)


class DoneSerializer(serializers.Serializer):
    done = serializers.BooleanField()


def _detail_body(user, session_id: int) -> dict[str, Any]:
    session = selectors.session_detail(selectors.session_for_user_or_404(user, session_id))
    session.effectiveness = selectors.effects_of([session]).get(session.pk, [])
    session.invitation = reverse("coaching:session-invitation", args=[session.pk])
    return SessionDetailSerializer(session).data


class _SessionApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def _run(
        self,
        request: Request,
        session_id: int,
        serializer_class: type[serializers.Serializer],
        action: Callable[[CoachingSession, dict[str, Any]], object],
        *,
        agent_only: bool = False,
    ) -> Response:
        """Validate the body, run the service on a session the caller may act on, answer
        with the session as it is now (400 with the service's reasons when it refuses)."""
        session = selectors.session_for_user_or_404(request.user, session_id)
        allowed = (
            session.agent.user_id == request.user.pk
            if agent_only
            else selectors.may_run(request.user, session)
        )
        if not allowed:
            raise NotFound(gettext("No such session, or not one you may act on."))
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            action(session, data.validated_data)
        except ValidationError as error:
            return Response(validation_body(error), status=status.HTTP_400_BAD_REQUEST)
        return Response(_detail_body(request.user, session_id))


class SessionListApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="coaching_sessions_list",
        summary="Coaching sessions you may see, latest first",
        parameters=[SessionListQuerySerializer],
        responses={200: SessionSerializer(many=True), 400: OpenApiResponse(), 403: NOT_LOGGED_IN},
        tags=["coaching"],
    )
    def get(self, request: Request) -> Response:
        query = SessionListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        sessions = selectors.sessions_visible_to(request.user).order_by("-scheduled_at", "-id")
        if "status" in query.validated_data:
            sessions = sessions.filter(status=query.validated_data["status"])
        if "agent" in query.validated_data:
            sessions = sessions.filter(agent_id=query.validated_data["agent"])
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(sessions, request, view=self)
        return paginator.get_paginated_response(SessionSerializer(page, many=True).data)

    @extend_schema(
        operation_id="coaching_sessions_schedule",
        summary="Schedule a session with an agent you lead (the agent is told and invited)",
        request=ScheduleSerializer,
        responses={201: SessionDetailSerializer, 400: REFUSED, 403: NOT_LOGGED_IN},
        tags=["coaching"],
    )
    def post(self, request: Request) -> Response:
        if not is_team_lead(request.user):
            raise NotFound(gettext("Only team leads schedule coaching sessions."))
        data = ScheduleSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        try:
            session = session_schedule(coach=request.user, **data.validated_data)
        except ValidationError as error:
            return Response(validation_body(error), status=status.HTTP_400_BAD_REQUEST)
        return Response(
            _detail_body(request.user, session.pk),
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api-coaching-session", args=[session.pk])},
        )


class SessionDetailApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="coaching_session_detail",
        summary="A session with its agenda, notes, action items and effectiveness",
        parameters=[SESSION_ID],
        responses={200: SessionDetailSerializer, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=["coaching"],
    )
    def get(self, request: Request, session_id: int) -> Response:
        return Response(_detail_body(request.user, session_id))


RUN_RESPONSES = {200: SessionDetailSerializer, 400: REFUSED, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE}


class SessionRecordApi(_SessionApi):
    @extend_schema(
        operation_id="coaching_session_record",
        summary="Write a session up (notes, outcome, follow-up), optionally marking it held",
        parameters=[SESSION_ID],
        request=RecordSerializer,
        responses=RUN_RESPONSES,
        tags=["coaching"],
    )
    def post(self, request: Request, session_id: int) -> Response:
        return self._run(
            request,
            session_id,
            RecordSerializer,
            lambda session, data: session_record(session=session, by=request.user, **data),
        )


class SessionCancelApi(_SessionApi):
    @extend_schema(
        operation_id="coaching_session_cancel",
        summary="Cancel a scheduled session, with the reason the agent reads",
        parameters=[SESSION_ID],
        request=CancelSerializer,
        responses=RUN_RESPONSES,
        tags=["coaching"],
    )
    def post(self, request: Request, session_id: int) -> Response:
        return self._run(
            request,
            session_id,
            CancelSerializer,
            lambda session, data: session_cancel(
                session=session, reason=data["reason"], by=request.user
            ),
        )


class SessionAcknowledgeApi(_SessionApi):
    @extend_schema(
        operation_id="coaching_session_acknowledge",
        summary="The agent acknowledges a held session of theirs, once",
        parameters=[SESSION_ID],
        request=AcknowledgeSerializer,
        responses=RUN_RESPONSES,
        tags=["coaching"],
    )
    def post(self, request: Request, session_id: int) -> Response:
        return self._run(
            request,
            session_id,
            AcknowledgeSerializer,
            lambda session, data: session_acknowledge(
                session=session, user=request.user, comment=data["comment"]
            ),
            agent_only=True,
        )


class ActionItemAddApi(_SessionApi):
    @extend_schema(
        operation_id="coaching_session_action_item_add",
        summary="Add an action item to a session you run",
        parameters=[SESSION_ID],
        request=ActionItemInputSerializer,
        responses=RUN_RESPONSES,
        tags=["coaching"],
    )
    def post(self, request: Request, session_id: int) -> Response:
        return self._run(
            request,
            session_id,
            ActionItemInputSerializer,
            lambda session, data: action_item_add(session=session, **data),
        )


class ActionItemDoneApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="coaching_action_item_done",
        summary="Tick or untick an action item (the coach any, the agent their own)",
        parameters=[SESSION_ID, ITEM_ID],
        request=DoneSerializer,
        responses={200: ActionItemSerializer, 400: REFUSED, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=["coaching"],
    )
    def post(self, request: Request, session_id: int, item_id: int) -> Response:
        session = selectors.session_for_user_or_404(request.user, session_id)
        item = ActionItem.objects.filter(pk=item_id, session=session).first()
        own = session.agent.user_id == request.user.pk
        if item is None or not (
            selectors.may_run(request.user, session)
            or (own and item.owner == ActionItem.Owner.AGENT)
        ):
            raise NotFound(gettext("No such action item"))
        data = DoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if session.status == CoachingSession.Status.CANCELLED:
            return Response(
                {"detail": gettext("This session was cancelled.")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        item = action_item_set_done(item=item, done=data.validated_data["done"])
        return Response(ActionItemSerializer(item).data)
