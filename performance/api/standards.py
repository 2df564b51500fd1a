"""The standards API: everyone logged in reads the standards; only admins create and change
them, through `standard_save`, so a changed rule becomes a new version and old evaluations
keep theirs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as ModelValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from performance.access import (
    standard_for_user_or_404,
    standards_visible_to,
)
from performance.api.common import DIRECTION_CHOICES, NOT_LOGGED_IN, PeoplePagination
from performance.metrics import METRIC_CHOICES
from performance.models import (
    RULE_FIELD_NAMES,
    STANDARD_FIELDS,
    Channel,
    RuleFields,
    ServiceStandard,
    StandardVersion,
    Team,
)
from performance.periods import PERIOD_CHOICES
from performance.roles import is_admin
from performance.services.standards import standard_save

# --- standards -----------------------------------------------------------------------------


def _rule_input_defaults() -> dict[str, dict[str, Any]]:
    """A rule field left out of a POST or PUT takes the model's default (null when it has
    none), so a PUT replaces the whole rule; PATCH skips defaults."""
    return {
        field.name: {"default": field.default if field.has_default() else None}
        for field in RuleFields._meta.local_fields
        if field.has_default() or field.null
    }


class StandardInputSerializer(serializers.ModelSerializer):
    """What an admin sends to create (POST, PUT) or change (PATCH) a standard. The rule
    fields are the model's (RULE_FIELD_NAMES), validated by its validators."""

    name = serializers.CharField(max_length=100)
    metric = serializers.ChoiceField(choices=METRIC_CHOICES, help_text="A metric key.")
    channel = serializers.CharField(
        max_length=32,
        allow_blank=True,
        required=False,
        default="",
        help_text='A channel code (phone, email, chat, ...); "" for every channel.',
    )
    teams = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Team.objects.all(),
        required=False,
        default=list,
        help_text="Team ids; an empty list applies the standard to every team.",
    )
    period = serializers.ChoiceField(choices=PERIOD_CHOICES, required=False, default="week")
    active_from = serializers.DateField(help_text="First day the standard applies.")
    active_until = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Last day; null: open."
    )
    effective_from = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When a changed rule takes effect (periods starting on or after it); "
        "default today. Earlier periods keep the version they were evaluated with.",
    )

    class Meta:
        model = ServiceStandard
        fields = [*STANDARD_FIELDS, "effective_from"]
        extra_kwargs = _rule_input_defaults()

    def validate_channel(self, value: str) -> str:
        if value and not Channel.objects.filter(code=value).exists():
            codes = ", ".join(Channel.objects.values_list("code", flat=True))
            raise serializers.ValidationError(
                gettext("Unknown channel %(channel)s: use one of %(codes)s.")
                % {"channel": repr(value), "codes": codes}
            )
        return value


@extend_schema_field({"type": "array", "items": {"type": "integer"}, "readOnly": True})
class RelatedIdsField(serializers.Field):
    """The ids of a (prefetched) many-to-many relation."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> list[int]:
        return [related.pk for related in value.all()]


class StandardVersionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = StandardVersion
        fields = ["number", "effective_from", *RULE_FIELD_NAMES, "created_at"]
        read_only_fields = fields


class StandardOutputSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    metric = serializers.ChoiceField(choices=METRIC_CHOICES)
    metric_label = serializers.CharField(source="metric_definition.label")
    unit = serializers.CharField(source="metric_definition.unit")
    direction = serializers.ChoiceField(
        source="metric_definition.direction",
        choices=DIRECTION_CHOICES,
        help_text="Whether higher or lower values are better.",
    )
    channel = serializers.CharField(help_text='"" means every channel.')
    teams = RelatedIdsField(help_text="Team ids; empty: every team.")
    period = serializers.ChoiceField(choices=PERIOD_CHOICES)
    active_from = serializers.DateField()
    active_until = serializers.DateField(allow_null=True)
    version = serializers.IntegerField(help_text="The current version's number.")
    versions = StandardVersionOutputSerializer(many=True, help_text="Every version, oldest first.")

    class Meta:
        model = ServiceStandard
        fields = [
            "id",
            "name",
            "metric",
            "metric_label",
            "unit",
            "direction",
            "channel",
            "teams",
            "period",
            "active_from",
            "active_until",
            *RULE_FIELD_NAMES,
            "version",
            "versions",
        ]
        read_only_fields = fields


class IsAdminOrReadOnly(BasePermission):
    """Logged-in people read; only admins write."""

    message = gettext_lazy("Only admins configure standards.")

    def has_permission(self, request: Request, view: object) -> bool:
        if not request.user.is_authenticated:
            return False  # DRF answers "not authenticated"
        return request.method in SAFE_METHODS or is_admin(request.user)


ADMINS_ONLY = OpenApiResponse(description="Not logged in, or not an admin.")
INVALID = OpenApiResponse(description="Invalid input: field -> list of messages.")
STANDARD_ID = OpenApiParameter(
    "standard_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A standard's id."
)


# --- standards -----------------------------------------------------------------------------


def _model_errors(exc: ModelValidationError) -> dict[str, list[str]]:
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name): messages
        for name, messages in exc.message_dict.items()
    }


def _write_standard(
    standard: ServiceStandard, data: dict[str, Any], user: AbstractBaseUser
) -> ServiceStandard:
    """Apply the input to `standard`, validate it as the admin form does (the model's bounds,
    then what `standard_validate` refuses: new meaning once evaluated, a re-score too long),
    and save it. Call inside a transaction."""
    for name, value in data.items():
        if name not in ("teams", "effective_from"):
            setattr(standard, name, value)
    teams = data.get("teams")
    try:
        standard.full_clean(exclude=["teams"])
        standard_save(
            standard=standard,
            changed_by=user,
            effective_from=data.get("effective_from"),
            team_ids=None if teams is None else [team.pk for team in teams],
        )
    except ModelValidationError as exc:
        raise serializers.ValidationError(_model_errors(exc)) from None
    return standard


def _standard_body(user: AbstractBaseUser, standard_id: int) -> dict[str, Any]:
    return StandardOutputSerializer(standard_for_user_or_404(user, standard_id)).data


class StandardListCreateApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAdminOrReadOnly]
    pagination_class = PeoplePagination

    @extend_schema(
        operation_id="standards_list",
        summary="List the service standards",
        description="Every standard with its current rule and all its versions, by name. "
        "Readable by everyone logged in.",
        responses={200: StandardOutputSerializer(many=True), 403: NOT_LOGGED_IN},
        tags=["standards"],
    )
    def get(self, request: Request) -> Response:
        standards = standards_visible_to(request.user).order_by("name", "id")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(standards, request, view=self)
        return paginator.get_paginated_response(StandardOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="standards_create",
        summary="Create a service standard (admins)",
        description="Validated like the admin form (stretch beyond the target in the metric's "
        "direction, a threshold for sla, min_sample >= 1, a gate on the same period). Creates "
        "version 1, effective from `active_from`.",
        request=StandardInputSerializer,
        responses={201: StandardOutputSerializer, 400: INVALID, 403: ADMINS_ONLY},
        tags=["standards"],
    )
    def post(self, request: Request) -> Response:
        with transaction.atomic():
            data = StandardInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            standard = _write_standard(ServiceStandard(), data.validated_data, request.user)
        return Response(
            _standard_body(request.user, standard.id),
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api-standard-detail", args=[standard.id])},
        )


UPDATE_DESCRIPTION = (
    "Validated like the admin form. A changed rule (target, stretch, threshold, minimum "
    "sample, points, gate, coaching rule) becomes a new version that applies to periods "
    "starting on or after `effective_from` (default today); evaluations already computed "
    "keep the version they were computed with. Name and dates change in place, and the days "
    "new dates add or remove are re-scored. Once the standard has evaluations, its metric, "
    "period, channel and teams are fixed (400: clone it instead). A save that would re-score "
    "more than STANDARD_RESCORE_MAX_DAYS days is refused (400)."
)


class StandardDetailApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAdminOrReadOnly]

    @extend_schema(
        operation_id="standards_retrieve",
        summary="A service standard and its versions",
        parameters=[STANDARD_ID],
        responses={
            200: StandardOutputSerializer,
            403: NOT_LOGGED_IN,
            404: OpenApiResponse(description="No such standard."),
        },
        tags=["standards"],
    )
    def get(self, request: Request, standard_id: int) -> Response:
        return Response(_standard_body(request.user, standard_id))

    def _update(self, request: Request, standard_id: int, *, partial: bool) -> Response:
        with transaction.atomic():
            standard = standard_for_user_or_404(request.user, standard_id, for_update=True)
            data = StandardInputSerializer(data=request.data, partial=partial)
            data.is_valid(raise_exception=True)
            _write_standard(standard, data.validated_data, request.user)
        return Response(_standard_body(request.user, standard_id))

    @extend_schema(
        operation_id="standards_update",
        summary="Replace a service standard (admins)",
        description=UPDATE_DESCRIPTION + " Fields left out take their defaults.",
        parameters=[STANDARD_ID],
        request=StandardInputSerializer,
        responses={
            200: StandardOutputSerializer,
            400: INVALID,
            403: ADMINS_ONLY,
            404: OpenApiResponse(description="No such standard."),
        },
        tags=["standards"],
    )
    def put(self, request: Request, standard_id: int) -> Response:
        return self._update(request, standard_id, partial=False)

    @extend_schema(
        operation_id="standards_partial_update",
        summary="Change some fields of a service standard (admins)",
        description=UPDATE_DESCRIPTION + " Fields left out keep their values.",
        parameters=[STANDARD_ID],
        request=StandardInputSerializer(partial=True),
        responses={
            200: StandardOutputSerializer,
            400: INVALID,
            403: ADMINS_ONLY,
            404: OpenApiResponse(description="No such standard."),
        },
        tags=["standards"],
    )
    def patch(self, request: Request, standard_id: int) -> Response:
        return self._update(request, standard_id, partial=True)
