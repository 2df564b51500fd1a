"""Notices: once per person and key, in the recipient's language, e-mailed once to those who
opted in; the page lists one's own only and opening it marks them read."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.translation import gettext as _

from performance.models import Notification, UserPreference
from performance.services.notifications import Notice, notices_send
from tests.html import texts_by_testid
from tests.scenarios import login

pytestmark = pytest.mark.django_db


def notice(user, key: str = "k1", url: str = "/rewards/me/") -> Notice:
    return Notice(user_id=user.pk, key=key, kind="test", message=lambda: _("Log in"), url=url)


def test_a_notice_is_written_once_per_key(alice):
    assert notices_send([notice(alice.user), notice(alice.user)]) == 1
    assert notices_send([notice(alice.user), notice(alice.user, "k2")]) == 1
    assert Notification.objects.filter(user=alice.user).count() == 2


def test_a_notice_speaks_the_recipients_saved_language_else_the_sites(alice, maria, settings):
    UserPreference.objects.create(user=alice.user, language="pt-br")
    settings.LANGUAGE_CODE = "en"
    notices_send([notice(alice.user), notice(maria.user)])
    assert Notification.objects.get(user=alice.user).message == "Entrar"
    assert Notification.objects.get(user=maria.user).message == "Log in"


def test_only_those_who_opted_in_get_an_email_and_only_once(
    alice, maria, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://atendo.example.com"
    alice.user.email, maria.user.email = "alice@example.com", "maria@example.com"
    alice.user.save(update_fields=["email"])
    maria.user.save(update_fields=["email"])
    UserPreference.objects.create(user=alice.user, language="", email_notifications=True)
    with django_capture_on_commit_callbacks(execute=True):
        notices_send([notice(alice.user), notice(maria.user)])
    with django_capture_on_commit_callbacks(execute=True):
        notices_send([notice(alice.user)])
    assert [message.to for message in mail.outbox] == [["alice@example.com"]]
    assert "https://atendo.example.com/rewards/me/" in mail.outbox[0].body
    assert Notification.objects.get(user=alice.user).emailed_at is not None


def test_the_page_lists_ones_own_notices_and_marks_them_read(client, alice, maria):
    notices_send([notice(alice.user), notice(maria.user, "theirs")])
    login(client, alice)
    count = client.get(reverse("notification-count"))
    assert texts_by_testid(count.content, "notices-count") == [": 1 unread"]
    page = client.get(reverse("notifications"))
    assert page.status_code == 200
    (listed,) = texts_by_testid(page.content, "notices")
    assert listed.endswith("Log in New")
    assert Notification.objects.get(user=alice.user).read_at is not None
    assert Notification.objects.get(user=maria.user).read_at is None
    assert texts_by_testid(client.get(reverse("notification-count")).content, "notices-count") == [
        ""
    ]


def test_the_email_opt_in_is_ones_own_choice(client, bob):
    login(client, bob)
    response = client.post(reverse("notification-settings"), {"email_notifications": "on"})
    assert response.status_code == 302
    assert UserPreference.objects.get(user=bob).email_notifications is True
    assert UserPreference.objects.get(user=bob).language == ""
    client.post(reverse("notification-settings"), {})
    assert UserPreference.objects.get(user=bob).email_notifications is False


@pytest.mark.parametrize("name", ["notifications", "notification-count"])
def test_anonymous_is_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_anonymous_cannot_change_the_opt_in(client):
    response = client.post(reverse("notification-settings"), {"email_notifications": "on"})
    assert response.status_code == 302 and not UserPreference.objects.exists()


def test_every_page_links_the_notices_and_loads_the_count_after(client, dave):
    login(client, dave)
    body = client.get(reverse("home")).content.decode()
    assert f'hx-get="{reverse("notification-count")}"' in body
