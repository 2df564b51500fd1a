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


def start_up(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "false"}, "SECRET_KEY is required when DEBUG is off"),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"FEED_MAX_BYTES": "lots"}, "FEED_MAX_BYTES='lots' is not a whole number"),
        ({"FEED_MAX_BYTES": "0"}, "FEED_MAX_BYTES='0' must be at least 1"),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE='Mars/Olympus' is not an IANA time zone"),
        ({"DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL='nosuchdb://x' is not a database URL"),
        ({"EMAIL_URL": "gmail://me:secret@x"}, "EMAIL_URL='gmail://me:***@x' is not an e-mail URL"),
        ({"EMAIL_URL": "smtp://"}, "EMAIL_URL='smtp://' names no mail server host"),
        ({"EMAIL_URL": "smtp://mail.example:25x"}, "EMAIL_URL is not an e-mail URL"),
    ],
)
def test_a_bad_value_stops_start_up_with_a_message_naming_it(env, message):
    result = start_up(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_settings_start_with_a_secret_key():
    result = start_up(DEBUG="false", SECRET_KEY="s" * 50, ALLOWED_HOSTS="atendo.example.com")
    assert result.returncode == 0, result.stderr


def test_readers(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    monkeypatch.setenv("SIZE", " 42 ")
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    monkeypatch.setenv("ZONE", "America/Sao_Paulo")
    assert env_bool("FLAG", False) is True
    assert env_bool("UNSET_FLAG", True) is True
    assert env_int("SIZE", 1) == 42
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
