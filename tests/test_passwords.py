"""Every user changes their own password; a forgotten one is reset by e-mail."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CHANGE = reverse("password_change")
RESET = reverse("password_reset")
NEW_PASSWORD = "a-brand-new-passphrase-42"


def person(request, persona: str):
    found = request.getfixturevalue(persona)
    return getattr(found, "user", found)


def can_log_in(client, username: str, password: str) -> bool:
    client.logout()
    return client.login(username=username, password=password)


# --- who may open what -------------------------------------------------------------------


def test_anonymous_is_sent_to_login_from_the_change_page(client):
    response = client.get(CHANGE)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_opens_the_reset_pages(client):
    for url in (RESET, reverse("password_reset_done"), reverse("password_reset_complete")):
        assert client.get(url).status_code == 200


def test_the_login_page_links_to_the_reset_page(client):
    assert f'href="{RESET}"' in client.get(reverse("login")).content.decode()


@pytest.mark.parametrize("persona", ["alice", "bob", "dave"])
def test_every_role_finds_the_change_page_in_the_header(client, request, persona):
    client.force_login(person(request, persona))

    home = client.get(reverse("home")).content.decode()
    page = client.get(CHANGE)

    assert f'href="{CHANGE}"' in home
    assert page.status_code == 200
    assert 'name="old_password"' in page.content.decode()


# --- changing a password -----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "bob", "dave"])
def test_a_user_changes_their_password(client, request, persona):
    user = person(request, persona)
    client.force_login(user)

    response = client.post(
        CHANGE,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    assert client.get(response.url).status_code == 200  # still logged in
    assert can_log_in(client, user.username, NEW_PASSWORD)
    assert not can_log_in(client, user.username, PASSWORD)


def test_a_wrong_current_password_changes_nothing_and_says_why(client, alice):
    client.force_login(alice.user)

    response = client.post(
        CHANGE,
        {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert can_log_in(client, alice.user.username, PASSWORD)


def test_a_weak_new_password_is_refused_with_the_rule(client, alice):
    client.force_login(alice.user)

    response = client.post(
        CHANGE, {"old_password": PASSWORD, "new_password1": "abc", "new_password2": "abc"}
    )

    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert can_log_in(client, alice.user.username, PASSWORD)


# --- resetting a forgotten password ------------------------------------------------------


def reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/password/reset/\S+/)", message.body).group(1)


def test_the_full_reset_flow_by_e_mail(client, alice):
    response = client.post(RESET, {"email": "alice@example.com"})

    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your Atendo password"
    assert "Your login is: alice" in message.body

    link = reset_link(message)
    form_page = client.get(link, follow=True)
    assert 'name="new_password1"' in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done.status_code == 302
    assert done.url == reverse("password_reset_complete")
    assert can_log_in(client, "alice", NEW_PASSWORD)
    client.logout()
    again = client.get(link, follow=True).content.decode()
    assert 'data-testid="invalid-link"' in again  # a link works once


def test_an_unknown_address_sends_nothing_and_reveals_nothing(client, alice):
    response = client.post(RESET, {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_a_tampered_link_is_refused_with_a_way_forward(client, alice):
    html = client.get("/password/reset/MQ/not-a-token/", follow=True).content.decode()

    assert 'data-testid="invalid-link"' in html
    assert f'href="{RESET}"' in html
    assert get_user_model().objects.get(username="alice").check_password(PASSWORD)
