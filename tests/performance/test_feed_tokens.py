"""Feed tokens: a rotated token is shown once in the response, and guessing tokens is throttled."""

from __future__ import annotations

import time

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from performance.api.authentication import FeedTokenFailureThrottle
from performance.models import FeedBatch, FeedSource
from performance.services.tokens import feed_source_for_token, feed_source_rotate_token
from tests.factories import FeedBatchFactory, FeedSourceFactory

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


class TestWrongTokensAreThrottled:
    @pytest.fixture(autouse=True)
    def low_rate(self, settings, source):
        # The cache is cleared around every test (tests/conftest.py).
        settings.FEED_TOKEN_FAILURE_RATE = "3/min"
        self.batch = FeedBatchFactory(source=source, via="api")
        self.url = reverse("api-batch-detail", args=[self.batch.id])

    def good_token(self, source) -> str:
        """A new token of the source, which sent the batch read here (a token reads only
        the batches it sent)."""
        token = feed_source_rotate_token(source=source)
        FeedBatch.objects.filter(pk=self.batch.id).update(token_hash=source.token_hash)
        return token

    def send(self, client, token: str, address: str = "203.0.113.7", **extra):
        return client.get(
            self.url,
            HTTP_AUTHORIZATION=f"Token {token}",
            REMOTE_ADDR=address,
            **extra,
        )

    def test_an_address_sending_wrong_tokens_gets_429_with_a_message(self, client, source):
        for _ in range(3):
            assert self.send(client, "atd_wrong").status_code == 401

        response = self.send(client, "atd_wrong")

        assert response.status_code == 429
        detail = response.json()["detail"]
        assert detail.startswith("Too many requests with a wrong feed token from this address.")
        assert "Expected available in" in detail
        assert 0 < int(response["Retry-After"]) <= 60

    def test_a_malformed_header_counts_as_a_failure(self, client, source):
        for _ in range(3):
            response = client.get(
                self.url, HTTP_AUTHORIZATION="Token a b", REMOTE_ADDR="203.0.113.7"
            )
            assert response.status_code == 401

        assert self.send(client, "atd_wrong").status_code == 429

    def test_a_throttled_address_has_even_a_good_token_refused_unchecked(self, client, source):
        token = self.good_token(source)
        for _ in range(3):
            self.send(client, "atd_wrong")

        assert self.send(client, token).status_code == 429

    def test_a_good_token_from_another_address_still_works(self, client, source):
        token = self.good_token(source)
        for _ in range(4):
            self.send(client, "atd_wrong")

        assert self.send(client, token, address="198.51.100.2").status_code == 200

    def test_good_tokens_are_never_counted(self, client, source):
        token = self.good_token(source)

        for _ in range(10):
            assert self.send(client, token).status_code == 200
        assert self.send(client, "atd_wrong").status_code == 401

    def test_a_forwarded_for_header_does_not_dodge_the_count(self, client, source):
        for number in range(3):
            self.send(client, "atd_wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{number}")

        assert self.send(client, "atd_wrong", HTTP_X_FORWARDED_FOR="10.0.0.9").status_code == 429

    def test_the_address_may_try_again_after_the_window(self, client, source, monkeypatch):
        for _ in range(3):
            self.send(client, "atd_wrong")
        assert self.send(client, "atd_wrong").status_code == 429

        later = time.time() + 61
        monkeypatch.setattr(FeedTokenFailureThrottle, "timer", lambda self: later)

        assert self.send(client, "atd_wrong").status_code == 401
