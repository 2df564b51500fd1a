"""The client address behind proxies (config/wsgi.py) and the shared throttle cache.

Everything that counts per address (wrong feed tokens, login lockouts) reads REMOTE_ADDR.
With TRUSTED_PROXY_COUNT proxies in front, the WSGI entry puts there the address the
outermost trusted proxy saw; without, a forged X-Forwarded-For changes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from config.env import env_cache
from config.wsgi import behind_trusted_proxies
from performance.models import FeedBatch
from performance.services.tokens import feed_source_rotate_token
from tests.factories import FeedBatchFactory

ROOT = Path(__file__).resolve().parent.parent
PROXY = "10.0.0.2"


def call(app, path: str, *, forwarded_for: str | None = None, **headers: str) -> int:
    """One request through the WSGI stack, as gunicorn sends it; returns the status code."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": PROXY,
        "wsgi.url_scheme": "http",
        "wsgi.input": BytesIO(b""),
        "wsgi.errors": sys.stderr,
        **headers,
    }
    if forwarded_for is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded_for
    statuses: list[str] = []
    # As Django's test client does: the start and end of the request must not close the
    # connection that holds the test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        body = app(environ, lambda status, _headers, *_: statuses.append(status))
        b"".join(body)
        body.close()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
    return int(statuses[0].split()[0])


@pytest.fixture
def batch_url(settings, source):
    settings.FEED_TOKEN_FAILURE_RATE = "2/min"
    settings.ALLOWED_HOSTS = ["testserver"]
    return reverse("api-batch-detail", args=[FeedBatchFactory(source=source).id])


def wrong_token(app, url: str, client_address: str) -> int:
    return call(
        app,
        url,
        forwarded_for=f"198.51.100.66, {client_address}",
        HTTP_AUTHORIZATION="Token atd_wrong",
    )


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own(batch_url):
    app = behind_trusted_proxies(WSGIHandler(), 1)
    for _ in range(2):
        assert wrong_token(app, batch_url, "203.0.113.7") == 401
    assert wrong_token(app, batch_url, "203.0.113.7") == 429
    # Another client behind the same proxy is not locked out with the first.
    assert wrong_token(app, batch_url, "203.0.113.8") == 401


@pytest.mark.django_db
def test_without_trusted_proxies_a_forged_header_does_not_dodge_the_throttle(batch_url):
    app = behind_trusted_proxies(WSGIHandler(), 0)
    for address in ("203.0.113.7", "203.0.113.8"):
        assert wrong_token(app, batch_url, address) == 401
    # Both came from the proxy's address: the forged hop counts for nothing.
    assert wrong_token(app, batch_url, "203.0.113.9") == 429


@pytest.mark.django_db
def test_a_good_token_behind_the_proxy_still_works_for_another_client(batch_url, source):
    app = behind_trusted_proxies(WSGIHandler(), 1)
    token = feed_source_rotate_token(source=source)
    # The batch is one this token sent: a token reads only those.
    FeedBatch.objects.update(via="api", token_hash=source.token_hash)
    for _ in range(3):
        wrong_token(app, batch_url, "203.0.113.7")
    status = call(app, batch_url, forwarded_for="203.0.113.8", HTTP_AUTHORIZATION=f"Token {token}")
    assert status == 200


@pytest.mark.django_db
def test_login_lockouts_count_per_client_behind_the_proxy(settings, dave):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    settings.ALLOWED_HOSTS = ["testserver"]
    app = behind_trusted_proxies(WSGIHandler(), 1)
    client = Client()
    csrf_token = client.get("/admin/login/").cookies["csrftoken"].value

    def log_in(address: str) -> int:
        form = urlencode(
            {"username": "dave", "password": "wrong", "csrfmiddlewaretoken": csrf_token}
        ).encode()
        return call(
            app,
            "/admin/login/",
            forwarded_for=address,
            REQUEST_METHOD="POST",
            CONTENT_TYPE="application/x-www-form-urlencoded",
            CONTENT_LENGTH=str(len(form)),
            HTTP_COOKIE=f"csrftoken={csrf_token}",
            **{"wsgi.input": BytesIO(form)},
        )

    assert log_in("203.0.113.7") == 200
    assert log_in("203.0.113.7") == 429
    assert log_in("203.0.113.8") == 200


def test_the_cache_is_this_process_s_memory_unless_a_redis_url_is_set(monkeypatch):
    monkeypatch.delenv("CACHE", raising=False)
    assert env_cache("CACHE")["BACKEND"].endswith("LocMemCache")
    monkeypatch.setenv("CACHE", "redis://127.0.0.1:6379/15")
    redis = env_cache("CACHE")
    assert redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert redis["LOCATION"] == "redis://127.0.0.1:6379/15"
    for bad in ("memcached://127.0.0.1", "redis://127.0.0.1:port/1", "localhost:6379"):
        monkeypatch.setenv("CACHE", bad)
        with pytest.raises(ImproperlyConfigured, match="CACHE"):
            env_cache("CACHE")


@pytest.mark.skipif(not os.environ.get("CACHE_URL"), reason="CACHE_URL is not set")
def test_with_redis_another_process_sees_the_same_throttle_counts():
    cache.set("atendo-test-shared", 7, 60)
    code = "from django.core.cache import cache; print(cache.get('atendo-test-shared'))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "7", result.stderr
