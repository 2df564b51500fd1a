"""GET /health/ tells a load balancer whether this process reaches the database and broker."""

from __future__ import annotations

import json
import os
from unittest import mock

import pytest
from django.urls import reverse
from kombu.exceptions import OperationalError

from tests.test_settings import manage

HEALTH = reverse("health")


@pytest.mark.django_db
def test_health_needs_no_login_and_reports_an_eager_setup_as_healthy(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    response = client.get(HEALTH)
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "broker": "not configured",
        "cache": "not configured",
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL"), reason="CELERY_BROKER_URL is not set")
def test_health_reaches_the_real_broker(client):
    response = client.get(HEALTH)
    assert response.status_code == 200
    assert response.json()["database"] == response.json()["broker"] == "ok"


@pytest.mark.django_db
def test_health_reports_a_reachable_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch("config.health.celery_app.connection_for_write") as connect:
        response = client.get(HEALTH)
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"
    connect.return_value.__enter__.return_value.ensure_connection.assert_called_once()


@pytest.mark.django_db
def test_an_unreachable_broker_is_a_503_naming_it(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch("config.health.celery_app.connection_for_write") as connect:
        broker = connect.return_value.__enter__.return_value
        broker.ensure_connection.side_effect = OperationalError("Connection refused")
        response = client.get(HEALTH)
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["broker"] == "unreachable"


@pytest.mark.django_db
def test_health_only_answers_get(client):
    assert client.post(HEALTH).status_code == 405


def test_a_broken_database_and_broker_are_a_503_naming_both(tmp_path):
    """A real process whose database file cannot be opened and whose broker refuses."""
    probe = (
        "import json; from django.test import Client; r = Client().get('/health/'); "
        "print(json.dumps([r.status_code, r.json()]))"
    )
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        probe,
        DEBUG="true",
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}",
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
        CACHE_URL="redis://127.0.0.1:1/1",
        LOG_LEVEL="CRITICAL",
    )
    assert result.returncode == 0, result.stderr
    status, body = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 503
    assert body == {"database": "unreachable", "broker": "unreachable", "cache": "unreachable"}


@pytest.mark.django_db
@pytest.mark.skipif(not os.environ.get("CACHE_URL"), reason="CACHE_URL is not set")
def test_health_reaches_the_shared_cache(client):
    assert client.get(HEALTH).json()["cache"] == "ok"
