"""Home, navigation and the demo seed are composed from what each app registers, so an app
added later (rewards, coaching) shows up without performance importing it."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from config.composition import DemoStep, HomePanel, NavEntry, composition
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def nav(html: str) -> list[tuple[str, bool]]:
    """The main navigation's links, in order, with whether each is the current page."""
    block = re.search(r'<nav class="nav" aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    return [
        (label, bool(current))
        for current, label in re.findall(
            r'<a href="[^"]*"( aria-current="page")?>([^<]*)</a>', block
        )
    ]


@pytest.fixture
def another_app(monkeypatch, settings, tmp_path):
    """An app contributing a nav entry, a home panel for agents and a demo step."""
    (tmp_path / "points.html").write_text(
        '<section class="card">Points: {{ panel.points }}</section>'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    ]
    monkeypatch.setattr(composition, "nav_entries", list(composition.nav_entries))
    monkeypatch.setattr(composition, "home_panels", list(composition.home_panels))
    monkeypatch.setattr(composition, "demo_steps", list(composition.demo_steps))
    composition.contribute(
        nav=[NavEntry("Leaderboard", "feed-batches", 50, current_on=frozenset({"home"}))],
        home=[
            HomePanel(
                "points",
                "points.html",
                lambda request: {"points": 120},
                20,
                lambda user: hasattr(user, "agent"),
            )
        ],
    )


def test_the_navigation_marks_one_current_entry_per_page(client, alice, bob):
    AgentFactory(user=bob, team=alice.team)  # a lead who is also an agent
    client.force_login(alice.user)
    page = client.get(reverse("agent-scorecard", args=[alice.id]), {"period": "2026-10-29"})
    assert nav(page.content.decode()) == [
        ("Home", False),
        ("My scorecard", True),
        ("My points", False),
        ("My coaching", False),
        ("Leaderboards", False),
        ("Challenges", False),
        ("Store", False),
    ]

    client.force_login(bob)
    page = client.get(reverse("agent-scorecard", args=[alice.id]), {"period": "2026-10-29"})
    # On a team member's scorecard the lead is in "Team", not in "My scorecard".
    assert nav(page.content.decode()) == [
        ("Home", False),
        ("My scorecard", False),
        ("My points", False),
        ("My coaching", False),
        ("Team", True),
        ("Coaching", False),
        ("Points", False),
        ("Leaderboards", False),
        ("Challenges", False),
        ("Store", False),
        ("Approvals", False),
        ("Feeds", False),
    ]
    assert [
        current for _, current in nav(client.get(reverse("feed-batches")).content.decode())
    ] == [False] * 11 + [True]


def test_an_admin_gets_the_admin_link_last(client, dave):
    client.force_login(dave)
    entries = nav(client.get(reverse("home")).content.decode())
    assert entries[0] == ("Home", True)
    assert entries[-1] == ("Admin", False)


def test_another_apps_contributions_show_up(client, alice, bob, another_app):
    client.force_login(alice.user)
    html = client.get(reverse("home")).content.decode()
    assert "Points: 120" in html
    assert html.index("Your interactions, last 30 days") < html.index("Points: 120")
    # The last entry claiming the page is the current one.
    assert nav(html)[-1] == ("Leaderboard", True)
    assert ("Home", False) in nav(html)

    client.force_login(bob)
    assert "Points:" not in client.get(reverse("home")).content.decode()


def test_seed_demo_runs_every_registered_step_in_order(monkeypatch):
    ran = []
    monkeypatch.setattr(
        composition,
        "demo_steps",
        [
            DemoStep("first", lambda options: ran.append(("first", options.days)), 10),
            DemoStep("second", lambda options: options.log("second step done"), 20),
        ],
    )
    out = io.StringIO()
    call_command("seed_demo", "--days", "3", stdout=out)
    assert ran == [("first", 3)]
    assert "second step done" in out.getvalue()

    def refuse(options):
        raise ValueError("days must be at least 1")

    monkeypatch.setattr(composition, "demo_steps", [DemoStep("refuses", refuse, 10)])
    with pytest.raises(CommandError, match="days must be at least 1"):
        call_command("seed_demo", "--days", "0", stdout=io.StringIO())


def test_contributing_twice_changes_nothing(monkeypatch):
    monkeypatch.setattr(composition, "nav_entries", list(composition.nav_entries))
    before = list(composition.nav_entries)
    composition.contribute(nav=before)
    assert composition.nav_entries == before
