"""What the people-facing endpoints share: pagination and common OpenAPI responses."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework.pagination import PageNumberPagination

from performance.metrics import Direction


class PeoplePagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


NOT_LOGGED_IN = OpenApiResponse(
    description="Not logged in (a feed token is no login: these endpoints are for people)."
)


DIRECTION_CHOICES = [(d.value, d.value) for d in Direction]
