"""What a load balancer asks of each web process: can it reach the database, the broker and a
shared cache?"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection

from config.celery import app as celery_app

logger = logging.getLogger(__name__)

OK = "ok"
NOT_CONFIGURED = "not configured"
UNREACHABLE = "unreachable"
BROKER_TIMEOUT_SECONDS = 2


def database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.warning("Health check: the database is unreachable", exc_info=True)
        return UNREACHABLE
    return OK


def broker_check() -> str:
    # Without a broker, tasks run eagerly in the web process: there is nothing to reach.
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return NOT_CONFIGURED
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(
                max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS
            )
    except Exception:
        # Each transport (redis, amqp, ...) raises its own errors when it cannot connect.
        logger.warning("Health check: the broker is unreachable", exc_info=True)
        return UNREACHABLE
    return OK


def cache_check() -> str:
    # This process's own memory (no CACHE_URL) is always there.
    if "LOCATION" not in settings.CACHES["default"]:
        return NOT_CONFIGURED
    try:
        cache.get("atendo-health")
    except Exception:
        # The feed API's throttle reads the cache: unreachable, token requests would fail.
        logger.warning("Health check: the cache is unreachable", exc_info=True)
        return UNREACHABLE
    return OK


def health_checks() -> dict[str, str]:
    """Each dependency's state; the process is healthy when none is unreachable."""
    return {"database": database_check(), "broker": broker_check(), "cache": cache_check()}
