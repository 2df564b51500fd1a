"""The leaderboards API per role: the boards one may open, a page of a board with the same
privacy and own standing as the pages, clear 400s, and its place in the schema."""

from __future__ import annotations

import pytest

from performance.roles import TEAM_LEAD_GROUP
from rewards.models import Leaderboard
from tests.factories import UserFactory
from tests.rewards.helpers import award, board
from tests.scenarios import login

pytestmark = pytest.mark.django_db

NOVEMBER = {"window": "month", "period": "2026-11"}


@pytest.fixture
def boards(crowd):
    return {
        "geral": board(slug="geral", privacy=Leaderboard.Privacy.ANONYMISED, position=1),
        "equipe": board(slug="equipe", scope=Leaderboard.Scope.TEAM, position=2),
    }


def test_anonymous_gets_no_board(client, boards):
    for url in ("/api/v1/rewards/leaderboards", "/api/v1/rewards/leaderboards/geral"):
        assert client.get(url).status_code == 403


@pytest.mark.parametrize("who", ["agent", "lead", "other_lead", "admin"])
def test_every_role_lists_the_active_boards(client, boards, crowd, bob, carol, dave, who):
    board(slug="old", active=False)
    login(client, {"agent": crowd[0], "lead": bob, "other_lead": carol, "admin": dave}[who])
    response = client.get("/api/v1/rewards/leaderboards")
    assert response.status_code == 200
    assert [row["slug"] for row in response.json()] == ["geral", "equipe"]
    only_team = client.get("/api/v1/rewards/leaderboards", {"scope": "team"}).json()
    assert [row["slug"] for row in only_team] == ["equipe"]


def test_a_user_with_no_role_lists_no_board(client, boards, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get("/api/v1/rewards/leaderboards").json() == []
    assert client.get("/api/v1/rewards/leaderboards/geral").status_code == 404


def test_an_agent_reads_the_board_anonymised_with_their_own_standing(client, boards, crowd):
    login(client, crowd[4])  # 20 points, fifth
    body = client.get("/api/v1/rewards/leaderboards/geral", NOVEMBER).json()
    assert body["window"] | {"label": None} == {
        "span": "month",
        "key": "2026-11",
        "start": "2026-11-01",
        "end": "2026-12-01",
        "label": None,
    }
    assert [(row["rank"], row["points"]) for row in body["rows"]] == [
        (1, 50),
        (2, 40),
        (2, 40),
        (4, 30),
        (5, 20),
        (6, 10),
    ]
    others = [row for row in body["rows"] if not row["is_you"]]
    assert {row["name"] for row in others} == {""} and {row["agent"] for row in others} == {None}
    assert body["own"]["rank"] == 5 and body["own"]["gap_to_next"] == 10
    assert body["names_hidden"] is True


def test_a_lead_reads_names(client, boards, crowd, bob):
    login(client, bob)
    body = client.get("/api/v1/rewards/leaderboards/geral", NOVEMBER).json()
    assert body["rows"][0]["name"] == crowd[0].display_name and body["own"] is None


def test_a_team_board_opens_only_on_teams_the_user_may_open(
    client, boards, crowd, paulo, lisbon, sao_paulo, bob, carol
):
    award(paulo, 5)
    url = "/api/v1/rewards/leaderboards/equipe"
    login(client, paulo)
    own_team = client.get(url, NOVEMBER).json()
    assert own_team["team"] == sao_paulo.pk
    assert [row["points"] for row in own_team["rows"]] == [5]
    refused = client.get(url, {"team": lisbon.pk, **NOVEMBER})
    assert refused.status_code == 400 and "team" in refused.json()
    login(client, carol)
    assert client.get(url, {"team": lisbon.pk, **NOVEMBER}).status_code == 400
    login(client, bob)
    assert len(client.get(url, {"team": lisbon.pk, **NOVEMBER}).json()["rows"]) == 6


def test_a_lead_of_no_team_cannot_open_a_team_board(client, boards):
    login(client, UserFactory(groups=[TEAM_LEAD_GROUP]))
    assert client.get("/api/v1/rewards/leaderboards/equipe").status_code == 404


@pytest.mark.parametrize(
    "params, field",
    [
        ({"window": "year"}, "window"),
        ({"window": "month", "period": "2026-13"}, "period"),
        ({"window": "quarter", "period": "26-Q1"}, "period"),
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
    ],
)
def test_a_bad_query_is_a_400_naming_its_field(client, boards, crowd, params, field):
    login(client, crowd[0])
    response = client.get("/api/v1/rewards/leaderboards/geral", params)
    assert response.status_code == 400 and field in response.json()


def test_an_unknown_or_inactive_board_is_not_found(client, boards, crowd):
    board(slug="old", active=False)
    login(client, crowd[0])
    assert client.get("/api/v1/rewards/leaderboards/nope").status_code == 404
    assert client.get("/api/v1/rewards/leaderboards/old").status_code == 404


def test_the_leaderboards_are_in_the_schema(client, dave):
    login(client, dave)
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "/api/v1/rewards/leaderboards" in paths
    parameters = {
        p["name"] for p in paths["/api/v1/rewards/leaderboards/{slug}"]["get"]["parameters"]
    }
    assert {"window", "period", "team", "page"} <= parameters
