"""The training API, for people (session login), scoped like the pages: anyone logged in
lists the active modules; an agent reads their assignments and records their own progress
(lessons read, quiz attempts); a lead assigns modules to the agents they lead and reads
their assignments; an admin reads everyone's."""

from __future__ import annotations

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
from coaching.models import Lesson, TrainingAssignment, TrainingModule
from coaching.services.training import lesson_mark_done, quiz_submit, training_assign
from performance.api.common import NOT_LOGGED_IN, PeoplePagination, SupportedDateField
from performance.roles import is_team_lead

ASSIGNMENT_ID = OpenApiParameter(
    "assignment_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="An assignment's id."
)
LESSON_ID = OpenApiParameter(
    "lesson_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A lesson's id."
)
NOT_VISIBLE = OpenApiResponse(description="No such assignment, or not yours to work on.")
REFUSED = OpenApiResponse(description="Invalid input, or the assignment's state refuses it.")


class LessonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    title = serializers.CharField()


class ModuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField()
    estimated_minutes = serializers.IntegerField()
    pass_mark = serializers.IntegerField()
    attempts_allowed = serializers.IntegerField()
    points = serializers.IntegerField()
    lessons = LessonSerializer(many=True)
    standards = serializers.SerializerMethodField(help_text="Linked standards' ids.")

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_standards(self, module: TrainingModule) -> list[int]:
        return [standard.pk for standard in module.standards.all()]


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    score = serializers.FloatField()
    passed = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class AssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agent = serializers.IntegerField(source="agent_id")
    agent_name = serializers.CharField(source="agent.display_name")
    module = serializers.IntegerField(source="module_id")
    module_title = serializers.CharField(source="module.title")
    status = serializers.ChoiceField(choices=TrainingAssignment.Status.choices)
    progress = serializers.IntegerField(help_text="Percent of lessons read and the quiz passed.")
    due_on = serializers.DateField(allow_null=True)
    assigned_by = serializers.CharField(
        source="assigned_by.username", allow_null=True, default=None
    )
    flag = serializers.IntegerField(
        source="flag_id", allow_null=True, help_text="The coaching flag that assigned it."
    )
    completed_at = serializers.DateTimeField(allow_null=True)


class AssignmentDetailSerializer(AssignmentSerializer):
    lessons_done = serializers.ListField(
        source="lesson_ids_done", child=serializers.IntegerField(), help_text="Lessons read."
    )
    attempts = AttemptSerializer(many=True)
    attempts_left = serializers.IntegerField()


class AssignSerializer(serializers.Serializer):
    module = serializers.IntegerField()
    agents = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1)
    due_on = SupportedDateField(allow_null=True, default=None)

    def validate_module(self, module_id: int) -> TrainingModule:
        module = TrainingModule.objects.filter(pk=module_id, active=True).first()
        if module is None:
            raise serializers.ValidationError(gettext("No such active training module."))
        return module

    def validate_agents(self, agent_ids: list[int]) -> list:
        agents = list(selectors.queue_agents(self.context["user"]).filter(pk__in=agent_ids))
        if len(agents) != len(set(agent_ids)):
            raise serializers.ValidationError(gettext("Only agents you lead."))
        return agents


class QuizSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text='Question id -> the chosen choice ids, e.g. {"12": [40, 41]}.',
    )

    def validate_answers(self, answers: dict) -> dict[int, list[int]]:
        try:
            return {int(key): value for key, value in answers.items()}
        except ValueError:
            raise serializers.ValidationError(gettext("Question ids are numbers.")) from None


def _detail(user, assignment_id: int) -> dict:
    assignment = selectors.assignment_for_user_or_404(user, assignment_id)
    view = selectors.assignment_view(assignment)
    assignment.lesson_ids_done = sorted(view.done)
    assignment.attempts_left = view.attempts_left
    return AssignmentDetailSerializer(assignment).data


class ModuleListApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="coaching_training_modules",
        summary="Active training modules with their lessons",
        responses={200: ModuleSerializer(many=True), 403: NOT_LOGGED_IN},
        tags=["coaching"],
    )
    def get(self, request: Request) -> Response:
        modules = TrainingModule.objects.filter(active=True).prefetch_related(
            "lessons", "standards"
        )
        return Response(ModuleSerializer(modules, many=True).data)


class AssignmentListApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="coaching_training_assignments",
        summary="Training assignments you may see, newest first",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=TrainingAssignment.Status.values)
        ],
        responses={200: AssignmentSerializer(many=True), 403: NOT_LOGGED_IN},
        tags=["coaching"],
    )
    def get(self, request: Request) -> Response:
        rows = selectors.assignments_visible_to(request.user).order_by("-created_at", "-id")
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in TrainingAssignment.Status.values:
                return Response(
                    {"status": [gettext("Not a status: %(value)s.") % {"value": wanted}]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            rows = rows.filter(status=wanted)
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(AssignmentSerializer(page, many=True).data)

    @extend_schema(
        operation_id="coaching_training_assign",
        summary="Assign a module to agents you lead (those who have it open keep theirs)",
        request=AssignSerializer,
        responses={201: AssignmentSerializer(many=True), 400: REFUSED, 403: NOT_LOGGED_IN},
        tags=["coaching"],
    )
    def post(self, request: Request) -> Response:
        if not is_team_lead(request.user):
            raise NotFound(gettext("Only team leads assign training."))
        data = AssignSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        try:
            made, _skipped = training_assign(assigned_by=request.user, **data.validated_data)
        except ValidationError as error:
            return Response(validation_body(error), status=status.HTTP_400_BAD_REQUEST)
        return Response(AssignmentSerializer(made, many=True).data, status=status.HTTP_201_CREATED)


class AssignmentDetailApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="coaching_training_assignment",
        summary="An assignment with the lessons read and the quiz attempts",
        parameters=[ASSIGNMENT_ID],
        responses={200: AssignmentDetailSerializer, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=["coaching"],
    )
    def get(self, request: Request, assignment_id: int) -> Response:
        return Response(_detail(request.user, assignment_id))


def _own(request: Request, assignment_id: int) -> TrainingAssignment:
    assignment = selectors.assignment_for_user_or_404(request.user, assignment_id)
    if assignment.agent.user_id != request.user.pk:
        raise NotFound(gettext("Only the agent it is assigned to works through a training."))
    return assignment


class LessonDoneApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="coaching_training_lesson_done",
        summary="Mark a lesson of your assignment read",
        parameters=[ASSIGNMENT_ID, LESSON_ID],
        request=None,
        responses={200: AssignmentDetailSerializer, 400: REFUSED, 404: NOT_VISIBLE},
        tags=["coaching"],
    )
    def post(self, request: Request, assignment_id: int, lesson_id: int) -> Response:
        assignment = _own(request, assignment_id)
        lesson = Lesson.objects.filter(pk=lesson_id, module_id=assignment.module_id).first()
        if lesson is None:
            raise NotFound(gettext("No such lesson"))
        try:
            lesson_mark_done(assignment=assignment, lesson=lesson, user=request.user)
        except ValidationError as error:
            return Response(validation_body(error), status=status.HTTP_400_BAD_REQUEST)
        return Response(_detail(request.user, assignment_id))


class QuizAttemptApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="coaching_training_quiz_attempt",
        summary="Submit a quiz attempt for your assignment",
        parameters=[ASSIGNMENT_ID],
        request=QuizSerializer,
        responses={201: AttemptSerializer, 400: REFUSED, 404: NOT_VISIBLE},
        tags=["coaching"],
    )
    def post(self, request: Request, assignment_id: int) -> Response:
        assignment = _own(request, assignment_id)
        data = QuizSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            attempt = quiz_submit(
                assignment=assignment, answers=data.validated_data["answers"], user=request.user
            )
        except ValidationError as error:
            return Response(validation_body(error), status=status.HTTP_400_BAD_REQUEST)
        return Response(
            AttemptSerializer(attempt).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api-coaching-assignment", args=[assignment_id])},
        )
