"""Settings come from the environment; a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_database, env_int, env_list, env_mailer, env_time_zone

ROOT = Path(__file__).resolve().parent.parent


# Variables this run sets (tests.settings, pytest-django) that a fresh start-up must not inherit.
INHERITED = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}

# The values README "Production" documents, with a host and a key of the deployment's own.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "0123456789abcdef" * 4,
    "ALLOWED_HOSTS": "atendo.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://atendo.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_PROXY_SSL_HEADER": "true",
    "TRUSTED_PROXY_COUNT": "1",
    "CACHE_URL": "redis://127.0.0.1:6379/15",
    "EMAIL_URL": "smtp+tls://atendo:secret@mail.example.com:587",
}


def fresh_env(**env: str) -> dict[str, str]:
    """The plain environment with only `env` on top, for a fresh process."""
    return {**{k: v for k, v in os.environ.items() if k not in INHERITED}, **env}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=fresh_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def start_up(**env: str) -> subprocess.CompletedProcess:
    return manage("check", **env)


def setting(name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(settings.{name})"
    result = manage("shell", "--no-imports", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY is required when DEBUG is off"),
        ({"DEBUG": "false"}, "SECRET_KEY is required when DEBUG is off"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be a random value of at least 50 characters"),
        (
            {"SECRET_KEY": "insecure-development-key-set-SECRET_KEY-in-production"},
            "SECRET_KEY must be a random value of at least 50 characters",
        ),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        (
            {"DEBUG": "true", "FEED_MAX_BYTES": "lots"},
            "FEED_MAX_BYTES='lots' is not a whole number",
        ),
        ({"DEBUG": "true", "FEED_MAX_BYTES": "0"}, "FEED_MAX_BYTES='0' must be at least 1"),
        (
            {"DEBUG": "true", "STANDARD_RESCORE_MAX_DAYS": "0"},
            "STANDARD_RESCORE_MAX_DAYS='0' must be at least 1",
        ),
        (
            {"DEBUG": "true", "STANDARD_RESCORE_MAX_DAYS": "99999"},
            "STANDARD_RESCORE_MAX_DAYS='99999' must be at most 36524",
        ),
        (
            {"DEBUG": "true", "TIME_ZONE": "Mars/Olympus"},
            "TIME_ZONE='Mars/Olympus' is not an IANA time zone",
        ),
        (
            {"DEBUG": "true", "DATABASE_URL": "nosuchdb://x"},
            "DATABASE_URL='nosuchdb://x' is not a database URL",
        ),
        (
            {"DEBUG": "true", "EMAIL_URL": "gmail://me:secret@x"},
            "EMAIL_URL='gmail://me:***@x' is not an e-mail URL",
        ),
        (
            {"DEBUG": "true", "EMAIL_URL": "smtp://"},
            "EMAIL_URL='smtp://' names no mail server host",
        ),
        (
            {"DEBUG": "true", "EMAIL_URL": "smtp://mail.example:25x"},
            "EMAIL_URL is not an e-mail URL",
        ),
        ({"DEBUG": "true", "SECURE_HSTS_SECONDS": "a year"}, "SECURE_HSTS_SECONDS='a year'"),
        (
            {"DEBUG": "true", "FEED_TOKEN_FAILURE_RATE": "20 per minute"},
            "FEED_TOKEN_FAILURE_RATE='20 per minute' is not a rate",
        ),
        ({"DEBUG": "true", "CACHE_URL": "memcached://x"}, "CACHE_URL must be a Redis URL"),
        ({"DEBUG": "true", "TRUSTED_PROXY_COUNT": "one"}, "TRUSTED_PROXY_COUNT='one'"),
    ],
)
def test_a_bad_value_stops_start_up_with_a_message_naming_it(env, message):
    result = start_up(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_debug_is_off_unless_asked_for():
    assert setting("DEBUG", SECRET_KEY=PRODUCTION_ENV["SECRET_KEY"]) == "False"
    assert setting("DEBUG", DEBUG="true") == "True"


def test_production_settings_start_with_a_long_secret_key():
    result = start_up(DEBUG="false", SECRET_KEY="s" * 50, ALLOWED_HOSTS="atendo.example.com")
    assert result.returncode == 0, result.stderr


def test_the_deploy_check_is_clean_with_the_documented_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_security_settings_come_from_the_environment():
    assert (
        setting("SECURE_PROXY_SSL_HEADER", **PRODUCTION_ENV)
        == "('HTTP_X_FORWARDED_PROTO', 'https')"
    )
    assert setting("SECURE_HSTS_SECONDS", **PRODUCTION_ENV) == "31536000"
    assert setting("SESSION_COOKIE_SECURE", DEBUG="true") == "False"


def test_readers(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    monkeypatch.setenv("SIZE", " 42 ")
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    monkeypatch.setenv("ZONE", "America/Sao_Paulo")
    assert env_bool("FLAG", False) is True
    assert env_bool("UNSET_FLAG", True) is True
    assert env_int("SIZE", 1) == 42
    assert env_int("SIZE", 1, maximum=42) == 42
    assert env_int("UNSET_SIZE", 400, minimum=1, maximum=500) == 400
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
    assert env_time_zone("ZONE", "UTC") == "America/Sao_Paulo"


def test_database_url_must_name_a_database(monkeypatch):
    monkeypatch.setenv("DB", "postgres://user@host:5432/")
    with pytest.raises(
        ImproperlyConfigured, match="DB='postgres://user@host:5432/' names no database"
    ):
        env_database("DB", "sqlite:///x.db")
    monkeypatch.setenv("DB", "postgres://user@host:5432/atendo")
    assert env_database("DB", "sqlite:///x.db")["NAME"] == "atendo"


def test_e_mail_goes_to_the_console_by_default_and_to_smtp_from_a_url(monkeypatch):
    assert env_mailer("UNSET_EMAIL_URL", "console:") == {
        "BACKEND": "django.core.mail.backends.console.EmailBackend"
    }
    monkeypatch.setenv("MAIL", "smtp+tls://atendo%40example.com:p%40ss%3Aword@mail.example")
    mailer = env_mailer("MAIL", "console:")
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] == {
        "host": "mail.example",
        "port": None,  # the backend picks 587 for STARTTLS
        "username": "atendo@example.com",
        "password": "p@ss:word",
        "timeout": 10,
        "use_tls": True,
        "use_ssl": False,
    }
    monkeypatch.setenv("MAIL", "smtp+ssl://mail.example:2465")
    assert env_mailer("MAIL", "console:")["OPTIONS"]["port"] == 2465
    assert env_mailer("MAIL", "console:")["OPTIONS"]["use_ssl"] is True


def test_a_bad_e_mail_url_never_shows_its_password(monkeypatch):
    monkeypatch.setenv("MAIL", "imap://me:hunter2@mail.example")
    with pytest.raises(ImproperlyConfigured) as error:
        env_mailer("MAIL", "console:")
    assert "hunter2" not in str(error.value)
