"""Feed tokens: a rotated token is shown once in the response, and guessing tokens is throttled."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.urls import reverse

from performance.models import FeedSource
from performance.services.tokens import feed_source_for_token, feed_source_rotate_token
from tests.factories import FeedSourceFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:performance_feedsource_changelist"


def rotate(client, *sources: FeedSource):
    return client.post(
        reverse(CHANGELIST),
        {"action": "rotate_token", "_selected_action": [source.id for source in sources]},
    )


def shown_tokens(response) -> list[str]:
    return [token for _source, token in response.context["rotated"]]


class TestRotatedTokenShownOnce:
    def test_the_page_shows_each_new_token_once_with_a_warning(self, client, dave, source):
        other = FeedSourceFactory(name="Telephony", slug="telephony")
        client.force_login(dave)

        response = rotate(client, source, other)

        assert response.status_code == 200
        tokens = shown_tokens(response)
        assert len(tokens) == 2
        body = response.content.decode()
        for token, rotated in zip(tokens, (source, other), strict=True):
            assert body.count(token) == 1
            assert feed_source_for_token(token) == rotated
        assert "It is not shown again" in body
        assert "no-store" in response["Cache-Control"]

    def test_the_token_is_never_carried_in_a_cookie_or_the_session(self, client, dave, source):
        client.force_login(dave)

        response = rotate(client, source)

        [token] = shown_tokens(response)
        assert list(get_messages(response.wsgi_request)) == []
        for morsel in response.cookies.values():
            assert token not in morsel.value
        assert token not in str(dict(client.session))
        for header, value in response.items():
            assert token not in value, header

    def test_a_later_request_does_not_show_it(self, client, dave, source):
        client.force_login(dave)
        [token] = shown_tokens(rotate(client, source))

        for url in (
            reverse(CHANGELIST),
            reverse(CHANGELIST.replace("changelist", "change"), args=[source.id]),
        ):
            assert token not in client.get(url).content.decode()

    def test_the_old_token_stops_working(self, client, dave, source):
        old = feed_source_rotate_token(source=source)
        client.force_login(dave)

        rotate(client, source)

        assert feed_source_for_token(old) is None
