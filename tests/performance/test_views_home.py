from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, FeedBatchFactory, FeedSourceFactory, InteractionFactory
from tests.scenarios import login

pytestmark = pytest.mark.django_db

HOME = reverse("home")


def nav_links(response) -> dict[str, bool]:
    html = response.content.decode()
    return {
        "upload": 'href="/feeds/upload/"' in html,
        "batches": 'href="/feeds/batches/"' in html,
        "admin": 'href="/admin/"' in html,
    }


def test_anonymous_is_sent_to_login(client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next=/"


def test_login_page_renders_and_logs_in(client, alice):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content

    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == HOME


def test_wrong_password_shows_an_error(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content


def test_logout_needs_a_post_and_ends_the_session(client, alice):
    login(client, alice)
    assert client.get(reverse("logout")).status_code == 405

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert client.get(HOME).status_code == 302


def test_agent_sees_their_team_and_own_recent_interactions(client, alice, paulo, source):
    now = timezone.now()
    for days in (1, 5, 20):
        InteractionFactory(agent=alice, source=source, started_at=now - timedelta(days=days))
    InteractionFactory(agent=alice, source=source, started_at=now - timedelta(days=45))
    InteractionFactory(agent=paulo, source=source, started_at=now - timedelta(days=1))
    login(client, alice)

    response = client.get(HOME)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Lisbon" in html
    assert "Your interactions, last 30 days" in html
    assert '<span class="stat-value">3</span>' in html
    assert 'action="/logout/"' in html
    assert nav_links(response) == {"upload": False, "batches": False, "admin": False}


def test_agent_does_not_see_batches_or_sources(client, alice, bob, source):
    FeedBatchFactory(source=source, uploaded_by=bob, original_name="bobs-feed.csv")
    login(client, alice)

    html = client.get(HOME).content.decode()

    assert "bobs-feed.csv" not in html
    assert "Feed sources" not in html


def test_lead_sees_their_teams_and_the_batches_they_uploaded(client, bob, carol, alice, source):
    FeedBatchFactory(source=source, uploaded_by=bob, original_name="bobs-feed.csv")
    FeedBatchFactory(source=source, uploaded_by=carol, original_name="carols-feed.csv")
    login(client, bob)

    response = client.get(HOME)

    html = response.content.decode()
    assert "Your teams" in html
    assert "<td>Lisbon</td>" in html
    assert "Sao Paulo" not in html
    assert "bobs-feed.csv" in html
    assert "carols-feed.csv" not in html
    assert "Feed sources" not in html
    assert nav_links(response) == {"upload": True, "batches": True, "admin": False}


def test_lead_of_another_team_sees_only_their_own(client, bob, carol, source):
    FeedBatchFactory(source=source, uploaded_by=bob, original_name="bobs-feed.csv")
    login(client, carol)

    html = client.get(HOME).content.decode()

    assert "<td>Sao Paulo</td>" in html
    assert "<td>Lisbon</td>" not in html
    assert "bobs-feed.csv" not in html


def test_admin_sees_sources_and_all_recent_batches(client, dave, bob, carol, source):
    FeedSourceFactory(name="Telephony", slug="telephony", active=False)
    FeedBatchFactory(source=source, uploaded_by=bob, original_name="bobs-feed.csv")
    FeedBatchFactory(source=source, uploaded_by=carol, original_name="carols-feed.csv")
    login(client, dave)

    response = client.get(HOME)

    html = response.content.decode()
    assert "Feed sources" in html
    assert "Helpdesk" in html
    assert "Telephony" in html
    assert "Inactive" in html
    assert "bobs-feed.csv" in html
    assert "carols-feed.csv" in html
    assert nav_links(response) == {"upload": True, "batches": True, "admin": True}


def test_home_needs_few_queries(client, dave, source, django_assert_max_num_queries):
    for _ in range(10):
        FeedBatchFactory(source=source, uploaded_by=dave)
    login(client, dave)

    with django_assert_max_num_queries(9):
        assert client.get(HOME).status_code == 200
