"""How feed sources (systems, not people) authenticate to the API: `Authorization: Token <t>`.

A source's token authenticates the source itself: `request.user` stays anonymous and
`request.auth` is the FeedSource, so no person's permission ever applies to a feed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from performance.models import FeedSource
from performance.services.tokens import feed_source_for_token

KEYWORD = "Token"


class FeedTokenFailureThrottle(SimpleRateThrottle):
    """Wrong feed tokens per client address, at most FEED_TOKEN_FAILURE_RATE.

    Only failures count, so a busy source with a good token is never slowed down; an address
    over the rate has every token refused unchecked until the window passes, so guessing
    gains nothing. It runs inside authentication because DRF's throttles run after it.
    """

    scope = "feed_token_failure"

    def get_rate(self) -> str:
        return settings.FEED_TOKEN_FAILURE_RATE

    def get_cache_key(self, request: Request, view: object) -> str:
        # REMOTE_ADDR, not DRF's get_ident, which believes any X-Forwarded-For; behind trusted
        # proxies config/wsgi.py has put the client's address there.
        ident = request.META.get("REMOTE_ADDR", "")
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def over_rate(self, request: Request) -> bool:
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) >= self.num_requests

    def record_failure(self) -> None:
        self.throttle_success()  # adds this moment to the address's history

    def refusal(self) -> exceptions.Throttled:
        # DRF adds "Expected available in N seconds." and the Retry-After header.
        return exceptions.Throttled(
            wait=self.wait(),
            detail=gettext("Too many requests with a wrong feed token from this address."),
        )


class FeedTokenAuthentication(BaseAuthentication):
    """A feed source's API token. Tokens are stored hashed; an inactive source gets 403."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, FeedSource] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None  # not ours: another scheme (or none) was used
        throttle = FeedTokenFailureThrottle()
        if throttle.over_rate(request):
            raise throttle.refusal()
        try:
            source = _source_of_token(parts)
        except exceptions.AuthenticationFailed:
            throttle.record_failure()
            raise
        if not source.active:
            raise exceptions.PermissionDenied(
                gettext("The feed source %(source)s is inactive.") % {"source": repr(source.slug)}
            )
        return AnonymousUser(), source

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


def _source_of_token(parts: list[bytes]) -> FeedSource:
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed(
            gettext("Invalid token header: use `Authorization: Token <token>`.")
        )
    try:
        token = parts[1].decode()
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed(gettext("Invalid token.")) from None
    source = feed_source_for_token(token, include_inactive=True)
    if source is None:
        raise exceptions.AuthenticationFailed(gettext("Invalid token."))
    return source


def feed_source_of(request: Request) -> FeedSource | None:
    """The feed source a request authenticated as, if it used a source token."""
    return request.auth if isinstance(request.auth, FeedSource) else None


class IsFeedSourceOfSlug(BasePermission):
    """Only the source named by the URL's slug may write there, and only with its token."""

    message = gettext_lazy("This token belongs to another feed source.")

    def has_permission(self, request: Request, view: object) -> bool:
        source = feed_source_of(request)
        if source is None:
            return False  # DRF answers 401 when no credentials were accepted
        slug = view.kwargs["slug"]
        if source.slug != slug:
            get_object_or_404(FeedSource, slug=slug)
            return False
        return True


class IsPersonOrFeedSource(BasePermission):
    """A logged-in person or a feed source's token; what they may read is decided per row."""

    def has_permission(self, request: Request, view: object) -> bool:
        return feed_source_of(request) is not None or bool(request.user.is_authenticated)


class FeedTokenScheme(OpenApiAuthenticationExtension):
    target_class = FeedTokenAuthentication
    name = "feedToken"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A feed source's API token, sent as `Token <token>`. Rotate it in the admin "
                "(feed sources); the new token is shown once."
            ),
        }
