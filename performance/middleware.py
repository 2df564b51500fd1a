"""Each viewer's own language and time zone, active for the whole request.

LocaleMiddleware has already picked the language from the language cookie or the browser's
Accept-Language (else settings.LANGUAGE_CODE); a logged-in person's saved preference wins over
both. Times are shown in the viewer's team zone (an agent's team, else the first team they
lead); admins and people without a team see the site's TIME_ZONE. Both are read once, at login,
and kept in the session, so pages cost no query for them. The API keeps answering in UTC: its
clients are programs that compare instants, not people reading a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from performance.models import Team, UserPreference
from performance.roles import is_admin

LANGUAGE_SESSION_KEY = "atendo_language"
TIME_ZONE_SESSION_KEY = "atendo_time_zone"
API_PREFIX = "/api/"


class ViewerPreferencesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if language := request.session.get(LANGUAGE_SESSION_KEY):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        zone = request.session.get(TIME_ZONE_SESSION_KEY)
        if zone and not request.path_info.startswith(API_PREFIX):
            timezone.activate(ZoneInfo(zone))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            # The viewer's zone is this request's: work the thread does next (an eager task,
            # another request, a test) must not read "today" in it.
            timezone.deactivate()


def remember_language(request: HttpRequest, language: str) -> None:
    request.session[LANGUAGE_SESSION_KEY] = language


def remember_viewer(
    sender: object, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: object
) -> None:
    """On login (user_logged_in): keep the saved language and the viewer's zone in the session."""
    if request is None or not hasattr(request, "session"):
        return
    language = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
    remember_language(request, language or "")
    request.session[TIME_ZONE_SESSION_KEY] = viewer_time_zone(user)


def viewer_time_zone(user: AbstractBaseUser) -> str:
    if is_admin(user):
        return settings.TIME_ZONE
    zone = (
        Team.objects.filter(Q(agents__user=user) | Q(leads=user))
        .annotate(
            own=Case(When(agents__user=user, then=Value(0)), default=1, output_field=IntegerField())
        )
        .order_by("own", "name")
        .values_list("time_zone", flat=True)
        .first()
    )
    return zone or settings.TIME_ZONE
