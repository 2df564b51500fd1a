"""What the people-facing endpoints share: pagination, a supported-day field and common
OpenAPI responses."""

from __future__ import annotations

from datetime import date
from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

from performance.metrics import Direction
from performance.periods import PeriodKeyError, check_within_range


class SupportedDateField(serializers.DateField):
    """A day (YYYY-MM-DD) within the years periods are kept for (periods.EARLIEST_DAY..
    LATEST_DAY), with the period keys' message for one outside them."""

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        try:
            check_within_range(day)
        except PeriodKeyError as error:
            raise serializers.ValidationError(error.message) from None
        return day


class PeoplePagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


NOT_LOGGED_IN = OpenApiResponse(
    description="Not logged in (a feed token is no login: these endpoints are for people)."
)


DIRECTION_CHOICES = [(d.value, d.value) for d in Direction]
