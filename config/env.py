"""Tiny typed readers for settings that come from the environment.

A bad value stops start-up with ImproperlyConfigured naming the variable.
"""

from __future__ import annotations

import os
import zoneinfo
from typing import Any
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


DEVELOPMENT_SECRET_KEY = "insecure-development-key-set-SECRET_KEY-in-production"
SECRET_KEY_MIN_LENGTH = 50


def env_secret_key(name: str, *, debug: bool) -> str:
    """The signing key: a development key while debugging, else required and long enough."""
    value = env_str(name)
    if debug:
        return value or DEVELOPMENT_SECRET_KEY
    if not value:
        raise ImproperlyConfigured(f"{name} is required when DEBUG is off")
    if value == DEVELOPMENT_SECRET_KEY or len(value) < SECRET_KEY_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"{name} must be a random value of at least {SECRET_KEY_MIN_LENGTH} characters "
            "when DEBUG is off"
        )
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no)")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at most {maximum}")
    return value


def env_rate(name: str, default: str) -> str:
    """A request rate as DRF's throttles read it: a count per second, minute, hour or day."""
    value = env_str(name, default)
    count, _, period = value.partition("/")
    if not (count.isdigit() and int(count) > 0 and period in RATE_PERIODS):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate (use N/sec, N/min, N/hour or N/day)"
        )
    return value


RATE_PERIODS = frozenset({"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"})


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_time_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name}={value!r} is not an IANA time zone") from None
    return value


def env_database(name: str, default: str) -> dict:
    value = env_str(name, default)
    try:
        config = dj_database_url.parse(value, conn_max_age=60)
    except Exception as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not a database URL: {exc}") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name}={value!r} names no database")
    return config


def env_cache(name: str, default: str = "") -> dict[str, Any]:
    """The default cache: this process's memory when unset, else a Redis URL, shared by every
    process (so login and token throttles count across gunicorn workers)."""
    raw = env_str(name, default)
    if not raw:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - a bad port raises here, not at the first request
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a cache URL: {exc}") from None
    if parts.scheme not in {"redis", "rediss", "unix"} or not (parts.hostname or parts.path):
        raise ImproperlyConfigured(
            f"{name} must be a Redis URL (redis://host:6379/1, rediss:// or unix://)"
        )
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": raw,
        # An unreachable Redis fails a request (and the health check) in seconds, not minutes.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }


# scheme -> the SMTP connection's TLS options
SMTP_SCHEMES = {
    "smtp": {"use_tls": False, "use_ssl": False},
    "smtp+tls": {"use_tls": True, "use_ssl": False},  # STARTTLS, port 587 by default
    "smtp+ssl": {"use_tls": False, "use_ssl": True},  # implicit TLS, port 465 by default
    "smtps": {"use_tls": False, "use_ssl": True},
}


def env_mailer(name: str, default: str) -> dict[str, Any]:
    """A MAILERS entry from a URL: console: (print e-mails to the terminal), or
    smtp[+tls|+ssl]://user:password@host[:port] (user and password percent-encoded)."""
    raw = env_str(name, default)
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not an e-mail URL: {exc}") from None
    # The password never goes into a message.
    shown = raw.replace(f":{parts.password}@", ":***@") if parts.password else raw
    if parts.scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in SMTP_SCHEMES:
        raise ImproperlyConfigured(
            f"{name}={shown!r} is not an e-mail URL: use console: or "
            "smtp://, smtp+tls:// or smtp+ssl://user:password@host:port"
        )
    if not parts.hostname:
        raise ImproperlyConfigured(f"{name}={shown!r} names no mail server host")
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname,
            "port": port,
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "timeout": 10,
            **SMTP_SCHEMES[parts.scheme],
        },
    }
