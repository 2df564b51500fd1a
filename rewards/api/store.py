"""The store API, for people (session login): the items one may redeem, redemptions scoped
like the pages, and their decisions. `POST redemptions` takes an `Idempotency-Key` header:
a retry with the same key returns the same redemption (200) instead of a second one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from performance.api.common import NOT_LOGGED_IN, PeoplePagination
from performance.roles import is_agent
from rewards import selectors
from rewards.models import Redemption
from rewards.services.store import (
    IdempotencyKeyReused,
    idempotency_key_clean,
    redemption_approve,
    redemption_cancel,
    redemption_reject,
    redemption_request,
)

REDEMPTION_ID = OpenApiParameter(
    "redemption_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A redemption's id."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Up to 120 characters; a retry with the same key returns the same redemption.",
)
NOT_YOURS = OpenApiResponse(description="No such redemption among those you may act on.")
DECIDED = OpenApiResponse(description="Already decided: the body says how.")


class StoreItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.id")
    name = serializers.CharField(source="item.name")
    description = serializers.CharField(source="item.description")
    cost = serializers.IntegerField(source="item.cost")
    stock = serializers.IntegerField(
        source="item.stock", allow_null=True, help_text="Units left; null for unlimited."
    )
    missing_points = serializers.IntegerField(
        help_text="Spendable points you still lack to redeem it (0: affordable)."
    )


class RedemptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agent = serializers.IntegerField(source="agent_id")
    item = serializers.IntegerField(source="item_id")
    item_name = serializers.CharField(source="item.name")
    cost = serializers.IntegerField(help_text="The points held (the price when redeemed).")
    status = serializers.ChoiceField(choices=Redemption.Status.choices)
    reason = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class RedemptionRequestSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1)


class RedemptionListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=Redemption.Status.choices, required=False)


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


def _field_errors(error: ValidationError) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}


class StoreItemListApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="store_items",
        summary="The store's active items you may see (an agent: those offered to their team)",
        responses={200: StoreItemSerializer(many=True), 403: NOT_LOGGED_IN},
        tags=["store"],
    )
    def get(self, request: Request) -> Response:
        spendable = (
            selectors.agent_balance(request.user.agent).spendable
            if is_agent(request.user)
            else None
        )
        offers = selectors.store_offers_for(request.user, spendable=spendable)
        return Response(StoreItemSerializer(offers, many=True).data)


class RedemptionListApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="redemptions",
        summary="Redemptions: an agent's own, a lead's teams', an admin's all; newest first",
        parameters=[RedemptionListQuery],
        responses={200: RedemptionSerializer(many=True), 400: None, 403: NOT_LOGGED_IN},
        tags=["store"],
    )
    def get(self, request: Request) -> Response:
        query = RedemptionListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        redemptions = selectors.redemptions_visible_to(request.user)
        if "status" in query.validated_data:
            redemptions = redemptions.filter(status=query.validated_data["status"])
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(redemptions, request, view=self)
        return paginator.get_paginated_response(RedemptionSerializer(page, many=True).data)

    @extend_schema(
        operation_id="redemption_create",
        summary="Redeem an item: its cost is held from your spendable points at once",
        parameters=[IDEMPOTENCY_KEY],
        request=RedemptionRequestSerializer,
        responses={
            201: RedemptionSerializer,
            200: OpenApiResponse(RedemptionSerializer, description="A retry: the same one."),
            400: OpenApiResponse(description="Refused; the body names the field and why."),
            403: OpenApiResponse(description="Not logged in, or not an agent."),
            409: OpenApiResponse(description="The key was used for another item."),
        },
        tags=["store"],
    )
    def post(self, request: Request) -> Response:
        if not is_agent(request.user):
            raise PermissionDenied(gettext("Only agents redeem points."))
        body = RedemptionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            key = idempotency_key_clean(request.headers.get("Idempotency-Key"))
            outcome = redemption_request(
                agent=request.user.agent,
                item_id=body.validated_data["item"],
                requested_by=request.user,
                idempotency_key=key,
            )
        except IdempotencyKeyReused as reused:
            return Response(
                {
                    "detail": gettext(
                        "This Idempotency-Key was used for redemption %(id)s of another item."
                    )
                    % {"id": reused.redemption.pk}
                },
                status=status.HTTP_409_CONFLICT,
            )
        except ValidationError as error:
            return Response(_field_errors(error), status=status.HTTP_400_BAD_REQUEST)
        return Response(
            RedemptionSerializer(outcome.redemption).data,
            status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )


class _DecisionApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def _decided(self, decide) -> Response:
        try:
            redemption = decide()
        except ValidationError as error:
            errors = _field_errors(error)
            code = status.HTTP_409_CONFLICT if "status" in errors else status.HTTP_400_BAD_REQUEST
            return Response(errors, status=code)
        return Response(RedemptionSerializer(redemption).data)


class RedemptionApproveApi(_DecisionApi):
    @extend_schema(
        operation_id="redemption_approve",
        summary="Approve a redemption of an agent you lead: the points held are spent",
        parameters=[REDEMPTION_ID],
        request=None,
        responses={200: RedemptionSerializer, 403: NOT_LOGGED_IN, 404: NOT_YOURS, 409: DECIDED},
        tags=["store"],
    )
    def post(self, request: Request, redemption_id: int) -> Response:
        redemption = _decidable(request, redemption_id)
        return self._decided(
            lambda: redemption_approve(redemption=redemption, decided_by=request.user)
        )


class RedemptionRejectApi(_DecisionApi):
    @extend_schema(
        operation_id="redemption_reject",
        summary="Reject a redemption with a reason: the points go back to the agent",
        parameters=[REDEMPTION_ID],
        request=RejectSerializer,
        responses={
            200: RedemptionSerializer,
            400: OpenApiResponse(description="No reason given."),
            403: NOT_LOGGED_IN,
            404: NOT_YOURS,
            409: DECIDED,
        },
        tags=["store"],
    )
    def post(self, request: Request, redemption_id: int) -> Response:
        redemption = _decidable(request, redemption_id)
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decided(
            lambda: redemption_reject(
                redemption=redemption,
                decided_by=request.user,
                reason=body.validated_data["reason"],
            )
        )


class RedemptionCancelApi(_DecisionApi):
    @extend_schema(
        operation_id="redemption_cancel",
        summary="Cancel your own redemption while it awaits approval",
        parameters=[REDEMPTION_ID],
        request=None,
        responses={200: RedemptionSerializer, 403: NOT_LOGGED_IN, 404: NOT_YOURS, 409: DECIDED},
        tags=["store"],
    )
    def post(self, request: Request, redemption_id: int) -> Response:
        redemption = selectors.redemption_own_or_404(request.user, redemption_id)
        return self._decided(
            lambda: redemption_cancel(redemption=redemption, cancelled_by=request.user)
        )


def _decidable(request: Request, redemption_id: int) -> Redemption:
    return selectors.redemption_for_decision_or_404(request.user, redemption_id)
