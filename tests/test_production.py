"""With DEBUG off: branded error pages, a Content Security Policy, strong passwords and static
files served by WhiteNoise after collectstatic."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import translation

from tests.factories import PASSWORD
from tests.test_settings import PRODUCTION_ENV, ROOT, fresh_env, manage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Page not found"), ("pt-br", "Página não encontrada")]
)
def test_an_unknown_page_is_a_branded_404_in_the_viewers_language(client, language, title):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    assert title in response.content.decode()
    assert "Atendo" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Something went wrong"), ("pt-br", "Algo deu errado")]
)
def test_a_crash_is_a_branded_500_that_shows_no_settings(client, alice, language, title):
    client.force_login(alice.user)
    client.raise_request_exception = False
    with mock.patch("config.views.composition.home_panels_for", side_effect=RuntimeError("boom")):
        response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=language)
    page = response.content.decode()
    assert response.status_code == 500
    assert title in page
    assert "boom" not in page
    assert "DATABASE" not in page
    assert "SECRET_KEY" not in page


def test_pages_carry_a_content_security_policy_of_this_site_only(client, alice):
    client.force_login(alice.user)
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_the_api_docs_style_and_script_carry_the_policy_nonce(client, alice):
    client.force_login(alice.user)
    response = client.get(reverse("api-docs"))
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    page = response.content.decode()
    assert f'<style nonce="{nonce}">' in page
    assert f'<script nonce="{nonce}">' in page
    assert "<script>" not in page


@pytest.mark.parametrize(
    "password",
    ["8402957163", pytest.param("alice-lisbon", id="close-to-username"), "short1!"],
)
def test_weak_passwords_are_refused_on_the_change_page(client, alice, password):
    alice.user.username = "alice-lisbon"
    alice.user.save()
    client.force_login(alice.user)
    with translation.override("en"):
        response = client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["new_password2"])
    assert any(
        reason in errors
        for reason in ("entirely numeric", "too similar to the username", "too short")
    ), errors
    alice.user.refresh_from_db()
    assert alice.user.check_password(PASSWORD)


def test_numeric_and_username_like_passwords_each_name_their_reason(client, alice):
    alice.user.username = "alice-lisbon"
    alice.user.save()
    client.force_login(alice.user)
    for password, reason in [
        ("8402957163", "This password is entirely numeric."),
        ("alice-lisbon1", "The password is too similar to the username."),
    ]:
        response = client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
        )
        assert reason in response.content.decode()


def test_gunicorn_serves_compressed_hashed_static_files_after_collectstatic(tmp_path):
    """The production start of README "Production", on a loopback port."""
    env = {
        **PRODUCTION_ENV,
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    collected = manage("collectstatic", "--no-input", **env)
    assert collected.returncode == 0, collected.stderr
    hashed = json.loads((tmp_path / "staticfiles" / "staticfiles.json").read_text())["paths"]
    htmx, admin_css = hashed["vendor/htmx.min.js"], hashed["admin/css/base.css"]

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=fresh_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def get(path: str) -> tuple[int, dict[str, str]]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response.status, dict(response.headers)

    try:
        for _ in range(100):
            try:
                status, headers = get(f"/static/{htmx}")
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer on its port")
        assert status == 200
        assert headers["Content-Encoding"] == "gzip"
        assert "immutable" in headers["Cache-Control"]
        assert get(f"/static/{admin_css}")[0] == 200
        assert get("/health/")[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=10)


# --- throttling of failed logins -----------------------------------------------------------


@pytest.fixture
def throttled(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def log_in(client, url: str, username: str, password: str, language: str = "en"):
    return client.post(
        url, {"username": username, "password": password}, HTTP_ACCEPT_LANGUAGE=language
    )


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_failed_logins_lock_that_username_from_that_address(client, throttled, dave, url):
    for _ in range(2):
        assert log_in(client, url, "dave", "wrong").status_code == 200
    locked = log_in(client, url, "dave", "wrong")
    assert locked.status_code == 429
    assert "After 3 wrong passwords, this username is locked from your address." in (
        locked.content.decode()
    )
    assert "Try again in 15 minutes" in locked.content.decode()
    # Locked even with the right password, until the cool-off ends or an admin unlocks.
    assert log_in(client, url, "dave", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lock_is_for_one_username_from_one_address(client, throttled, dave, bob):
    for _ in range(3):
        log_in(client, "/login/", "dave", "wrong")
    assert log_in(client, "/login/", "bob", PASSWORD).status_code == 302
    other_address = client.post(
        "/login/", {"username": "dave", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert other_address.status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(client, throttled, dave):
    for _ in range(2):
        log_in(client, "/login/", "dave", "wrong")
    assert log_in(client, "/login/", "dave", PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        assert log_in(client, "/login/", "dave", "wrong").status_code == 200


def test_the_lockout_message_is_in_portuguese(client, throttled, dave):
    for _ in range(3):
        locked = log_in(client, "/login/", "dave", "wrong", language="pt-br")
    assert locked.status_code == 429
    assert "Tente de novo em 15 minutos" in locked.content.decode()
