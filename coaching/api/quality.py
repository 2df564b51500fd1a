"""The monitoria API, for people (session login), scoped like the pages: reviewers (quality
analysts, leads, admins) read the active forms, start, save and finish reviews of the teams
they review and decide disputes of others' reviews; an agent reads their own finished reviews,
acknowledges and contests them; nobody reads another reviewer's drafts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
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

from coaching.api.common import validation_body
from coaching.models import QAAssignment, QADispute, QAForm, QAReview
from coaching.selectors import quality as reads
from coaching.services.quality import (
    review_acknowledge,
    review_answers_save,
    review_finish,
    review_start,
    stored_answer,
    version_rules,
)
from coaching.services.quality_disputes import (
    COMMENT_MAX_LENGTH,
    dispute_accept,
    dispute_deadline,
    dispute_open,
    dispute_reject,
)
from coaching.services.quality_plans import assignment_review
from performance.api.common import NOT_LOGGED_IN, PeoplePagination
from performance.roles import is_reviewer

TAGS = ["monitoria"]
REVIEW_ID = OpenApiParameter(
    "review_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A QA review's id."
)
DISPUTE_ID = OpenApiParameter(
    "dispute_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A QA dispute's id."
)
NOT_VISIBLE = OpenApiResponse(description="No such review, or not one you may see or change.")
REFUSED = OpenApiResponse(description="Refused: the reasons, per item where they are an item's.")


class ItemSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The item's key in this form version.")
    text = serializers.CharField()
    guidance = serializers.CharField()
    kind = serializers.CharField(help_text="yes_no or scale.")
    scale_max = serializers.IntegerField()
    weight = serializers.IntegerField()
    critical = serializers.BooleanField()
    bonus = serializers.BooleanField()
    allows_na = serializers.BooleanField()


class AnsweredItemSerializer(ItemSerializer):
    answer = serializers.CharField(help_text='"yes", "no", "na", a number, or "" (unanswered).')
    comment = serializers.CharField()


class SectionSerializer(serializers.Serializer):
    title = serializers.CharField()
    items = ItemSerializer(many=True)


class AnsweredSectionSerializer(serializers.Serializer):
    title = serializers.CharField()
    items = AnsweredItemSerializer(many=True)


class FormSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    channel = serializers.CharField(source="channel_id", allow_null=True, help_text="Null: all.")
    description = serializers.CharField()
    dispute_days = serializers.IntegerField()
    dispute_rounds = serializers.IntegerField()
    points = serializers.IntegerField(help_text="When every item applies (bonus apart).")
    sections = SectionSerializer(many=True, source="structure.sections")


class DisputeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    review = serializers.IntegerField(source="review_id")
    round = serializers.IntegerField()
    items = serializers.ListField(child=serializers.CharField())
    comment = serializers.CharField()
    status = serializers.ChoiceField(choices=QADispute.Status.choices)
    opened_at = serializers.DateTimeField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Item key -> [answer before, answer after] (accepted disputes).",
    )
    score_before = serializers.FloatField(allow_null=True)
    score_after = serializers.FloatField(allow_null=True)


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    interaction = serializers.IntegerField(source="interaction_id")
    external_id = serializers.CharField(source="interaction.external_id")
    agent = serializers.IntegerField(source="agent_id")
    agent_name = serializers.CharField(source="agent.display_name")
    form = serializers.IntegerField(source="version.form_id")
    form_name = serializers.CharField(source="version.form.name")
    version = serializers.IntegerField(source="version.number")
    reviewer = serializers.CharField(source="reviewer.username")
    status = serializers.ChoiceField(choices=QAReview.Status.choices)
    score = serializers.FloatField(allow_null=True, help_text="0-100; so far while a draft.")
    comment = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class ReviewDetailSerializer(ReviewSerializer):
    sections = AnsweredSectionSerializer(many=True)
    disputes = DisputeSerializer(many=True, source="dispute_rows")
    dispute_until = serializers.DateTimeField(
        allow_null=True, help_text="Until when you may contest it; null: you may not."
    )


class ReviewListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=QAReview.Status.choices, required=False)
    agent = serializers.IntegerField(required=False, min_value=1)


class StartSerializer(serializers.Serializer):
    interaction = serializers.IntegerField(min_value=1)
    form = serializers.IntegerField(min_value=1)


class AnswerSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=32)
    answer = serializers.CharField(max_length=8, allow_blank=True, help_text='"yes"/"no"/"na"/n')
    comment = serializers.CharField(max_length=COMMENT_MAX_LENGTH, allow_blank=True, default="")


class AnswersSerializer(serializers.Serializer):
    answers = AnswerSerializer(many=True, required=False, default=list)
    comment = serializers.CharField(max_length=COMMENT_MAX_LENGTH, allow_blank=True, required=False)


class DisputeOpenSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.CharField(max_length=32), allow_empty=True)
    comment = serializers.CharField(max_length=COMMENT_MAX_LENGTH, allow_blank=True)


class DisputeAcceptSerializer(serializers.Serializer):
    answers = AnswerSerializer(many=True)
    reason = serializers.CharField(max_length=COMMENT_MAX_LENGTH, allow_blank=True, default="")


class DisputeRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=COMMENT_MAX_LENGTH, allow_blank=True)


class DisputeListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=QADispute.Status.choices, required=False)


def _answers(review: QAReview, rows: list[dict[str, Any]]) -> dict[str, tuple[Any, str]]:
    """The posted answers as the services take them (scale answers as numbers)."""
    rules = {rule.key: rule for rule in version_rules(review.version)}
    answers = {}
    for row in rows:
        rule = rules.get(row["item"])
        answer = stored_answer(rule, row["answer"]) if rule else row["answer"]
        answers[row["item"]] = (answer, row["comment"])
    return answers


def _detail(request: Request, review: QAReview) -> dict[str, Any]:
    review.sections = reads.review_sections(review)
    review.dispute_rows = list(review.disputes.select_related("decided_by").order_by("round"))
    own = review.agent.user_id == request.user.pk
    review.dispute_until = dispute_deadline(review) if own else None
    return ReviewDetailSerializer(review).data


def _refused(error: ValidationError) -> Response:
    return Response(validation_body(error), status=status.HTTP_400_BAD_REQUEST)


class _Api(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]


class FormListApi(_Api):
    @extend_schema(
        operation_id="quality_forms_list",
        summary="The active QA forms, as reviews score on them now (reviewers only)",
        responses={200: FormSerializer(many=True), 403: NOT_LOGGED_IN, 404: OpenApiResponse()},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        if not is_reviewer(request.user):
            raise NotFound(gettext("Only quality analysts and team leads review interactions."))
        forms = []
        for form in QAForm.objects.filter(active=True).order_by("name", "pk"):
            form.structure = reads.form_structure(form)
            form.points = reads.form_points(form.structure)
            forms.append(form)
        return Response(FormSerializer(forms, many=True).data)


class ReviewListApi(_Api):
    @extend_schema(
        operation_id="quality_reviews_list",
        summary="QA reviews you may read, latest first",
        parameters=[ReviewListQuerySerializer],
        responses={200: ReviewSerializer(many=True), 400: OpenApiResponse(), 403: NOT_LOGGED_IN},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = ReviewListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        reviews = reads.reviews_visible_to(request.user).order_by("-created_at", "-pk")
        if "status" in query.validated_data:
            reviews = reviews.filter(status=query.validated_data["status"])
        if "agent" in query.validated_data:
            reviews = reviews.filter(agent_id=query.validated_data["agent"])
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(reviews, request, view=self)
        return paginator.get_paginated_response(ReviewSerializer(page, many=True).data)

    @extend_schema(
        operation_id="quality_reviews_start",
        summary="Start a draft review of an interaction you may review, on a form of its channel",
        request=StartSerializer,
        responses={201: ReviewDetailSerializer, 400: REFUSED, 403: NOT_LOGGED_IN},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        if not is_reviewer(request.user):
            raise NotFound(gettext("Only quality analysts and team leads review interactions."))
        data = StartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        form = QAForm.objects.filter(pk=data.validated_data["form"]).first()
        if form is None:
            return Response({"form": [gettext("No such QA form")]}, status=400)
        try:
            review = review_start(
                reviewer=request.user,
                interaction_id=data.validated_data["interaction"],
                form=form,
            )
        except ValidationError as error:
            return _refused(error)
        review = reads.review_for_user_or_404(request.user, review.pk)
        return Response(
            _detail(request, review),
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api-quality-review", args=[review.pk])},
        )


class ReviewDetailApi(_Api):
    @extend_schema(
        operation_id="quality_review_detail",
        summary="A QA review with every item, answer and comment, and its disputes",
        parameters=[REVIEW_ID],
        responses={200: ReviewDetailSerializer, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=TAGS,
    )
    def get(self, request: Request, review_id: int) -> Response:
        return Response(_detail(request, reads.review_for_user_or_404(request.user, review_id)))


class _DraftApi(_Api):
    finish = False

    def post(self, request: Request, review_id: int) -> Response:
        review = reads.review_for_user_or_404(request.user, review_id)
        if review.reviewer_id != request.user.pk:
            raise NotFound(gettext("You cannot change this review."))
        data = AnswersSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers = _answers(review, data.validated_data["answers"])
        comment = data.validated_data.get("comment")
        try:
            if self.finish:
                review_finish(review, reviewer=request.user, answers=answers, comment=comment)
            else:
                review_answers_save(review, reviewer=request.user, answers=answers, comment=comment)
        except ValidationError as error:
            return _refused(error)
        return Response(_detail(request, reads.review_for_user_or_404(request.user, review_id)))


class ReviewAnswersApi(_DraftApi):
    @extend_schema(
        operation_id="quality_review_answers",
        summary="Keep answers and comments on your draft (its score so far follows)",
        parameters=[REVIEW_ID],
        request=AnswersSerializer,
        responses={200: ReviewDetailSerializer, 400: REFUSED, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=TAGS,
    )
    def post(self, request: Request, review_id: int) -> Response:
        return super().post(request, review_id)


class ReviewFinishApi(_DraftApi):
    finish = True

    @extend_schema(
        operation_id="quality_review_finish",
        summary="Finish your draft: the score is written on the interaction and re-scored",
        parameters=[REVIEW_ID],
        request=AnswersSerializer,
        responses={200: ReviewDetailSerializer, 400: REFUSED, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=TAGS,
    )
    def post(self, request: Request, review_id: int) -> Response:
        return super().post(request, review_id)


class ReviewAcknowledgeApi(_Api):
    @extend_schema(
        operation_id="quality_review_acknowledge",
        summary="Acknowledge a finished review of yours (the first time stays)",
        parameters=[REVIEW_ID],
        request=None,
        responses={200: ReviewDetailSerializer, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=TAGS,
    )
    def post(self, request: Request, review_id: int) -> Response:
        review = reads.review_for_user_or_404(request.user, review_id)
        try:
            review_acknowledge(review, user=request.user)
        except ValidationError as error:
            raise NotFound(error.messages[0]) from None
        return Response(_detail(request, reads.review_for_user_or_404(request.user, review_id)))


class ReviewDisputeApi(_Api):
    @extend_schema(
        operation_id="quality_review_dispute",
        summary="Contest items of a finished review of yours, within its window",
        parameters=[REVIEW_ID],
        request=DisputeOpenSerializer,
        responses={201: DisputeSerializer, 400: REFUSED, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=TAGS,
    )
    def post(self, request: Request, review_id: int) -> Response:
        review = reads.review_for_user_or_404(request.user, review_id)
        if review.agent.user_id != request.user.pk:
            raise NotFound(gettext("Only the reviewed agent contests a review."))
        data = DisputeOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            dispute = dispute_open(
                review,
                user=request.user,
                items=data.validated_data["items"],
                comment=data.validated_data["comment"],
            )
        except ValidationError as error:
            return _refused(error)
        return Response(DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)


class DisputeListApi(_Api):
    @extend_schema(
        operation_id="quality_disputes_list",
        summary="Disputes of the reviews you may read, latest first",
        parameters=[DisputeListQuerySerializer],
        responses={200: DisputeSerializer(many=True), 400: OpenApiResponse(), 403: NOT_LOGGED_IN},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = DisputeListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        disputes = (
            QADispute.objects.filter(review__in=reads.reviews_visible_to(request.user))
            .select_related("decided_by")
            .order_by("-opened_at", "-pk")
        )
        if "status" in query.validated_data:
            disputes = disputes.filter(status=query.validated_data["status"])
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(disputes, request, view=self)
        return paginator.get_paginated_response(DisputeSerializer(page, many=True).data)


def _decidable(request: Request, dispute_id: int) -> QADispute:
    dispute = (
        QADispute.objects.filter(pk=dispute_id, review__in=reads.reviews_visible_to(request.user))
        .select_related("review__agent", "review__version")
        .first()
    )
    if dispute is None or not reads.may_decide_dispute(request.user, dispute.review):
        raise NotFound(gettext("No such dispute"))
    return dispute


class DisputeAcceptApi(_Api):
    @extend_schema(
        operation_id="quality_dispute_accept",
        summary="Accept a dispute: the contested items' new answers change the score",
        parameters=[DISPUTE_ID],
        request=DisputeAcceptSerializer,
        responses={200: DisputeSerializer, 400: REFUSED, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=TAGS,
    )
    def post(self, request: Request, dispute_id: int) -> Response:
        dispute = _decidable(request, dispute_id)
        data = DisputeAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            dispute = dispute_accept(
                dispute,
                user=request.user,
                answers=_answers(dispute.review, data.validated_data["answers"]),
                reason=data.validated_data["reason"],
            )
        except ValidationError as error:
            return _refused(error)
        return Response(DisputeSerializer(dispute).data)


class DisputeRejectApi(_Api):
    @extend_schema(
        operation_id="quality_dispute_reject",
        summary="Reject a dispute, saying why the review stands",
        parameters=[DISPUTE_ID],
        request=DisputeRejectSerializer,
        responses={200: DisputeSerializer, 400: REFUSED, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=TAGS,
    )
    def post(self, request: Request, dispute_id: int) -> Response:
        dispute = _decidable(request, dispute_id)
        data = DisputeRejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            dispute = dispute_reject(
                dispute, user=request.user, reason=data.validated_data["reason"]
            )
        except ValidationError as error:
            return _refused(error)
        return Response(DisputeSerializer(dispute).data)


class PlanChannelSerializer(serializers.Serializer):
    channel = serializers.CharField(source="channel_id")
    per_agent = serializers.IntegerField()


class PlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    period = serializers.CharField()
    due_days = serializers.IntegerField()
    teams = serializers.SerializerMethodField()
    mix = PlanChannelSerializer(many=True, source="channels.all")

    def get_teams(self, plan) -> list[int]:
        return [team.pk for team in plan.teams.all()]


class ProgressSerializer(serializers.Serializer):
    plan = serializers.IntegerField(source="plan.pk")
    team = serializers.IntegerField(source="team.pk")
    team_name = serializers.CharField(source="team.name")
    period_start = serializers.DateField(source="period.start")
    period_end = serializers.DateField(source="period.end", help_text="Exclusive.")
    planned = serializers.IntegerField()
    drawn = serializers.IntegerField()
    done = serializers.IntegerField()
    overdue = serializers.IntegerField()


class PlansSerializer(serializers.Serializer):
    plans = PlanSerializer(many=True)
    progress = ProgressSerializer(many=True)


class ReviewAssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    plan = serializers.IntegerField(source="plan_id")
    period_start = serializers.DateField()
    interaction = serializers.IntegerField(source="interaction_id")
    external_id = serializers.CharField(source="interaction.external_id")
    agent = serializers.IntegerField(source="agent_id")
    agent_name = serializers.CharField(source="agent.display_name")
    channel = serializers.CharField()
    due_on = serializers.DateField()
    review = serializers.IntegerField(source="review_id", allow_null=True)


class PlanQuerySerializer(serializers.Serializer):
    periods = serializers.IntegerField(
        required=False, default=4, min_value=1, max_value=26, help_text="Latest periods shown."
    )


class PlanListApi(_Api):
    @extend_schema(
        operation_id="quality_plans_list",
        summary="Review plans of the teams you review, with their progress per team and period",
        parameters=[PlanQuerySerializer],
        responses={
            200: PlansSerializer,
            400: OpenApiResponse(),
            403: NOT_LOGGED_IN,
            404: OpenApiResponse(),
        },
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        if not is_reviewer(request.user):
            raise NotFound(gettext("Only quality analysts and team leads review interactions."))
        query = PlanQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        progress = reads.plan_progress(
            request.user, today=timezone.localdate(), periods=query.validated_data["periods"]
        )
        plans = list({row.plan.pk: row.plan for row in progress}.values())
        return Response(PlansSerializer({"plans": plans, "progress": progress}).data)


class QueueApi(_Api):
    @extend_schema(
        operation_id="quality_queue",
        summary="The interactions review plans assigned to you, still to review, soonest due first",
        responses={200: ReviewAssignmentSerializer(many=True), 403: NOT_LOGGED_IN},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(reads.analyst_queue(request.user), request, view=self)
        return paginator.get_paginated_response(ReviewAssignmentSerializer(page, many=True).data)


class AssignmentReviewApi(_Api):
    @extend_schema(
        operation_id="quality_assignment_review",
        summary="Start (or reopen) the review of an interaction assigned to you",
        parameters=[
            OpenApiParameter(
                "assignment_id",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description="An assignment's id.",
            )
        ],
        request=None,
        responses={200: ReviewDetailSerializer, 400: REFUSED, 403: NOT_LOGGED_IN, 404: NOT_VISIBLE},
        tags=TAGS,
    )
    def post(self, request: Request, assignment_id: int) -> Response:
        assignment = QAAssignment.objects.filter(pk=assignment_id, analyst=request.user).first()
        if assignment is None:
            raise NotFound(gettext("No such assignment"))
        try:
            review = assignment_review(assignment, reviewer=request.user)
        except ValidationError as error:
            return _refused(error)
        return Response(_detail(request, reads.review_for_user_or_404(request.user, review.pk)))
