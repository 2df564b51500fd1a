"""The standards API: everyone logged in reads, only admins create and change, every rule
change is a new version, and evaluations keep the version they were computed with."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from performance.models import Evaluation, ServiceStandard, StandardVersion
from performance.services.evaluation import evaluate_periods
from performance.services.standards import standard_save
from performance.services.tokens import feed_source_rotate_token
from tests.factories import InteractionFactory, make_standard
from tests.scenarios import login

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api-standards")
PEOPLE = ["alice", "paulo", "bob", "carol", "dave"]
NOT_ADMINS = ["alice", "paulo", "bob", "carol"]


def detail_url(standard_id: int) -> str:
    return reverse("api-standard-detail", args=[standard_id])


@pytest.fixture
def personas(alice, paulo, bob, carol, dave):
    return alice, paulo, bob, carol, dave


@pytest.fixture
def csat(lisbon):
    return make_standard(
        name="CSAT", metric="csat", period="day", target=80, stretch_target=90, teams=[lisbon]
    )


@pytest.fixture
def token(source) -> str:
    return feed_source_rotate_token(source=source)


def new_standard(**fields) -> dict:
    return {
        "name": "Chat service level",
        "metric": "sla",
        "channel": "chat",
        "period": "week",
        "active_from": "2026-01-01",
        "target": 80,
        "stretch_target": 90,
        "threshold_seconds": 60,
        "min_sample": 20,
        "points_met": 10,
        "points_exceeded": 25,
        "coaching_missed": 2,
        "coaching_window": 3,
        "coaching_resolve_after": 2,
        **fields,
    }


class TestReading:
    @pytest.mark.parametrize("persona", PEOPLE)
    def test_everyone_logged_in_reads_the_list_and_a_standard(
        self, client, request, personas, csat, persona
    ):
        login(client, request.getfixturevalue(persona))
        body = client.get(LIST_URL).json()
        assert body["count"] == 1
        assert [s["name"] for s in body["results"]] == ["CSAT"]
        assert client.get(detail_url(csat.id)).json()["name"] == "CSAT"

    def test_anonymous_is_refused(self, client, csat):
        assert client.get(LIST_URL).status_code == 403
        assert client.get(detail_url(csat.id)).status_code == 403

    def test_a_feed_token_is_no_login(self, client, csat, token):
        auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
        assert client.get(LIST_URL, **auth).status_code == 403
        assert client.get(detail_url(csat.id), **auth).status_code == 403
        response = client.post(LIST_URL, new_standard(), content_type="application/json", **auth)
        assert response.status_code == 403
        assert ServiceStandard.objects.count() == 1

    def test_unknown_standard_is_404(self, client, dave):
        login(client, dave)
        assert client.get(detail_url(999_999)).status_code == 404

    def test_the_output_explains_the_rule_and_its_versions(self, client, alice, csat, lisbon):
        login(client, alice)
        body = client.get(detail_url(csat.id)).json()
        assert body == {
            "id": csat.id,
            "name": "CSAT",
            "metric": "csat",
            "metric_label": "Customer satisfaction",
            "unit": "%",
            "direction": "higher",
            "channel": "",
            "teams": [lisbon.id],
            "period": "day",
            "active_from": "2026-01-01",
            "active_until": None,
            "target": 80.0,
            "stretch_target": 90.0,
            "threshold_seconds": None,
            "min_sample": 1,
            "points_met": 10,
            "points_exceeded": 20,
            "points_missed_penalty": 0,
            "quality_gate": None,
            "coaching_missed": 2,
            "coaching_window": 3,
            "coaching_resolve_after": 2,
            "version": 1,
            "versions": [
                {
                    "number": 1,
                    "effective_from": "2026-01-01",
                    "target": 80.0,
                    "stretch_target": 90.0,
                    "threshold_seconds": None,
                    "min_sample": 1,
                    "points_met": 10,
                    "points_exceeded": 20,
                    "points_missed_penalty": 0,
                    "quality_gate": None,
                    "coaching_missed": 2,
                    "coaching_window": 3,
                    "coaching_resolve_after": 2,
                    "created_at": body["versions"][0]["created_at"],
                }
            ],
        }

    def test_list_is_paginated_by_name(self, client, dave):
        for name in ["Volume", "AHT", "CSAT"]:
            make_standard(name=name)
        login(client, dave)
        body = client.get(LIST_URL, {"page_size": 2}).json()
        assert body["count"] == 3
        assert [s["name"] for s in body["results"]] == ["AHT", "CSAT"]
        assert body["next"]
        second = client.get(body["next"]).json()
        assert [s["name"] for s in second["results"]] == ["Volume"]

    def test_list_query_count_does_not_grow_with_standards(
        self, client, dave, lisbon, django_assert_num_queries
    ):
        for n in range(5):
            standard = make_standard(name=f"S{n}", teams=[lisbon])
            standard.target = 70 + n
            standard_save(standard=standard, effective_from=date(2026, 6, 1))
        login(client, dave)
        # session, user, count, page, teams, versions
        with django_assert_num_queries(6):
            body = client.get(LIST_URL).json()
        assert [len(s["versions"]) for s in body["results"]] == [2] * 5


class TestCreating:
    def test_an_admin_creates_a_standard_with_its_first_version(
        self, client, dave, lisbon, sao_paulo
    ):
        login(client, dave)
        response = client.post(
            LIST_URL,
            new_standard(teams=[lisbon.id, sao_paulo.id]),
            content_type="application/json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        standard = ServiceStandard.objects.get()
        assert response.headers["Location"] == detail_url(standard.id)
        assert body["id"] == standard.id
        assert (body["metric"], body["unit"], body["direction"]) == ("sla", "%", "higher")
        assert sorted(body["teams"]) == sorted([lisbon.id, sao_paulo.id])
        assert (body["threshold_seconds"], body["version"]) == (60, 1)
        assert [(v["number"], v["effective_from"]) for v in body["versions"]] == [(1, "2026-01-01")]
        version = StandardVersion.objects.get()
        assert (version.standard, version.created_by, version.target) == (standard, dave, 80)

    def test_defaults_fill_what_is_left_out(self, client, dave):
        login(client, dave)
        response = client.post(
            LIST_URL,
            {"name": "QA", "metric": "qa", "active_from": "2026-01-01", "target": 85},
            content_type="application/json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["channel"], body["teams"], body["period"]) == ("", [], "week")
        assert (body["min_sample"], body["points_met"], body["points_exceeded"]) == (10, 10, 20)
        assert body["points_missed_penalty"] == 0

    def test_a_standard_may_carry_a_penalty_for_a_missed_period(self, client, dave):
        login(client, dave)
        response = client.post(
            LIST_URL, new_standard(points_missed_penalty=15), content_type="application/json"
        )
        assert response.status_code == 201, response.json()
        assert response.json()["points_missed_penalty"] == 15
        assert response.json()["versions"][0]["points_missed_penalty"] == 15
        assert StandardVersion.objects.get().points_missed_penalty == 15

    @pytest.mark.parametrize("persona", NOT_ADMINS)
    def test_agents_and_leads_cannot_create(self, client, request, personas, persona):
        login(client, request.getfixturevalue(persona))
        response = client.post(LIST_URL, new_standard(), content_type="application/json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Only admins configure standards."
        assert not ServiceStandard.objects.exists()

    def test_anonymous_cannot_create(self, client):
        response = client.post(LIST_URL, new_standard(), content_type="application/json")
        assert response.status_code == 403
        assert not ServiceStandard.objects.exists()


class TestValidation:
    """The model's clean() speaks through the API as 400s with field errors."""

    def post(self, client, dave, **fields):
        login(client, dave)
        before = ServiceStandard.objects.count()
        response = client.post(LIST_URL, new_standard(**fields), content_type="application/json")
        assert response.status_code == 400
        assert ServiceStandard.objects.count() == before
        return response.json()

    def test_stretch_below_the_target_of_a_higher_is_better_metric(self, client, dave):
        errors = self.post(client, dave, metric="csat", threshold_seconds=None, stretch_target=70)
        assert errors == {
            "stretch_target": [
                "Customer satisfaction is better when higher: the stretch target must be "
                "above the target (80)."
            ]
        }

    def test_stretch_above_the_target_of_a_lower_is_better_metric(self, client, dave):
        errors = self.post(client, dave, metric="aht", target=360, stretch_target=400)
        assert "must be below the target (360)" in errors["stretch_target"][0]

    def test_service_level_needs_a_threshold(self, client, dave):
        errors = self.post(client, dave, threshold_seconds=None)
        assert errors == {
            "threshold_seconds": ["A service-level standard needs a threshold in seconds."]
        }

    @pytest.mark.parametrize(
        ("penalty", "message"),
        [(-5, "greater than or equal to 0"), (20_000, "less than or equal to 10000")],
    )
    def test_the_penalty_is_bounded(self, client, dave, penalty, message):
        errors = self.post(client, dave, points_missed_penalty=penalty)
        assert message in errors["points_missed_penalty"][0]

    def test_min_sample_at_least_one(self, client, dave):
        assert "min_sample" in self.post(client, dave, min_sample=0)

    def test_coaching_rule_k_not_above_n(self, client, dave):
        errors = self.post(client, dave, coaching_missed=4, coaching_window=3)
        assert errors["coaching_missed"] == [
            "K cannot exceed N (missed in K of the last N periods)."
        ]

    def test_ends_before_it_starts(self, client, dave):
        assert self.post(client, dave, active_until="2025-12-31") == {
            "active_until": ["Ends before it starts."]
        }

    def test_gate_on_another_period(self, client, dave):
        gate = make_standard(name="QA daily", metric="qa", period="day", target=85)
        errors = self.post(client, dave, quality_gate=gate.id)
        assert errors == {
            "quality_gate": ["The gate must use the same period (iso week (monday to sunday))."]
        }

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"metric": "happiness"}, "metric"),
            ({"period": "fortnight"}, "period"),
            ({"channel": "pigeon"}, "channel"),
            ({"teams": [999_999]}, "teams"),
            ({"quality_gate": 999_999}, "quality_gate"),
            ({"active_from": "01/01/2026"}, "active_from"),
            ({"target": "high"}, "target"),
            ({"name": ""}, "name"),
        ],
    )
    def test_malformed_fields(self, client, dave, fields, field):
        assert field in self.post(client, dave, **fields)

    def test_unknown_channel_names_the_known_ones(self, client, dave):
        message = self.post(client, dave, channel="pigeon")["channel"][0]
        assert message.startswith("Unknown channel 'pigeon': use one of ")
        assert "chat" in message and "phone" in message

    def test_a_standard_cannot_gate_itself(self, client, dave, csat):
        login(client, dave)
        response = client.patch(
            detail_url(csat.id), {"quality_gate": csat.id}, content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json() == {"quality_gate": ["A standard cannot gate itself."]}
        csat.refresh_from_db()
        assert (csat.quality_gate_id, csat.version) == (None, 1)

    def test_gates_cannot_form_a_loop(self, client, dave, csat):
        speed = make_standard(name="Speed", metric="aht", target=300, quality_gate=csat)
        login(client, dave)
        response = client.patch(
            detail_url(csat.id), {"quality_gate": speed.id}, content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json() == {"quality_gate": ["Gates cannot form a loop."]}

    def test_a_valid_gate_is_kept(self, client, dave, csat):
        login(client, dave)
        response = client.post(
            LIST_URL,
            new_standard(metric="aht", period="day", target=300, stretch_target=240)
            | {"threshold_seconds": None, "quality_gate": csat.id},
            content_type="application/json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["quality_gate"] == csat.id
        assert response.json()["versions"][0]["quality_gate"] == csat.id


class TestUpdating:
    @pytest.mark.parametrize("persona", NOT_ADMINS)
    def test_agents_and_leads_cannot_change(self, client, request, personas, csat, persona):
        login(client, request.getfixturevalue(persona))
        for method in (client.put, client.patch):
            response = method(detail_url(csat.id), {"target": 50}, content_type="application/json")
            assert response.status_code == 403
        csat.refresh_from_db()
        assert (csat.target, csat.version) == (80, 1)

    def test_anonymous_cannot_change(self, client, csat):
        response = client.patch(
            detail_url(csat.id), {"target": 50}, content_type="application/json"
        )
        assert response.status_code == 403

    def test_no_delete(self, client, request, personas, csat):
        login(client, request.getfixturevalue("dave"))
        assert client.delete(detail_url(csat.id)).status_code == 405
        login(client, request.getfixturevalue("alice"))
        assert client.delete(detail_url(csat.id)).status_code == 403
        assert ServiceStandard.objects.filter(id=csat.id).exists()

    def test_unknown_standard_is_404(self, client, dave):
        login(client, dave)
        response = client.patch(detail_url(999_999), {"target": 5}, content_type="application/json")
        assert response.status_code == 404

    def test_a_rule_change_is_a_new_version_from_effective_from(self, client, dave, csat):
        login(client, dave)
        response = client.patch(
            detail_url(csat.id),
            {"target": 85, "effective_from": "2026-03-01"},
            content_type="application/json",
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert (body["target"], body["version"]) == (85.0, 2)
        assert [(v["number"], v["effective_from"], v["target"]) for v in body["versions"]] == [
            (1, "2026-01-01", 80.0),
            (2, "2026-03-01", 85.0),
        ]
        assert StandardVersion.objects.get(standard=csat, number=2).created_by == dave

    def test_renaming_or_rescoping_is_no_new_version(self, client, dave, csat, sao_paulo):
        login(client, dave)
        response = client.patch(
            detail_url(csat.id),
            {"name": "Satisfaction", "teams": [sao_paulo.id]},
            content_type="application/json",
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert (body["name"], body["teams"], body["version"]) == (
            "Satisfaction",
            [sao_paulo.id],
            1,
        )
        assert len(body["versions"]) == 1

    def test_patch_keeps_teams_it_does_not_mention(self, client, dave, csat, lisbon):
        login(client, dave)
        body = client.patch(
            detail_url(csat.id), {"min_sample": 5}, content_type="application/json"
        ).json()
        assert (body["teams"], body["min_sample"], body["version"]) == ([lisbon.id], 5, 2)

    def test_put_replaces_the_whole_standard(self, client, dave, csat):
        login(client, dave)
        response = client.put(
            detail_url(csat.id),
            {"name": "CSAT", "metric": "csat", "active_from": "2026-01-01", "target": 75},
            content_type="application/json",
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        # Left out: defaults (all teams, weekly, no stretch).
        assert (body["teams"], body["period"], body["stretch_target"]) == ([], "week", None)
        assert (body["target"], body["version"]) == (75.0, 2)

    def test_put_without_required_fields_is_400(self, client, dave, csat):
        login(client, dave)
        response = client.put(detail_url(csat.id), {"target": 75}, content_type="application/json")
        assert response.status_code == 400
        assert set(response.json()) == {"name", "metric", "active_from"}

    def test_saving_the_same_rule_again_adds_no_version(self, client, dave, csat):
        login(client, dave)
        body = client.patch(
            detail_url(csat.id),
            {"target": 80, "stretch_target": 90},
            content_type="application/json",
        ).json()
        assert (body["version"], len(body["versions"])) == (1, 1)

    def test_a_rejected_change_writes_nothing(self, client, dave, csat):
        login(client, dave)
        response = client.patch(
            detail_url(csat.id),
            {"name": "Renamed", "target": 95},  # now above the stretch target
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "stretch_target" in response.json()
        csat.refresh_from_db()
        assert (csat.name, csat.target, csat.version) == ("CSAT", 80, 1)
        assert StandardVersion.objects.filter(standard=csat).count() == 1


def survey(source, agent, day: date, csat: int, n: int) -> None:
    InteractionFactory(
        source=source,
        agent=agent,
        external_id=f"{agent.id}-{day}-{n}",
        channel="phone",
        started_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        csat=csat,
    )


class TestVersionsAndEvaluations:
    def test_old_evaluations_keep_their_version_after_an_update(self, client, source, alice, dave):
        login(client, dave)
        created = client.post(
            LIST_URL,
            new_standard(
                name="CSAT", metric="csat", channel="", period="day", target=80, min_sample=2
            )
            | {"threshold_seconds": None, "stretch_target": None},
            content_type="application/json",
        ).json()
        january, march = date(2026, 1, 5), date(2026, 3, 2)
        for n, score in enumerate([5, 4, 3]):  # 2 of 3 satisfied: 66.7 %
            survey(source, alice, january, score, n)
            survey(source, alice, march, score, n)
        evaluate_periods(since=january, until=january)
        old = Evaluation.objects.get(agent=alice, period_start=january)
        assert (old.version.number, old.outcome) == (1, "missed")

        response = client.patch(
            detail_url(created["id"]),
            {"target": 60, "effective_from": "2026-02-01"},
            content_type="application/json",
        )
        assert response.json()["version"] == 2

        evaluate_periods(since=january, until=march)
        old.refresh_from_db()
        assert (old.version.number, old.outcome, old.points) == (1, "missed", 0)
        new = Evaluation.objects.get(agent=alice, period_start=march)
        assert (new.version.number, new.outcome, new.points) == (2, "met", 10)

        body = client.get(
            reverse("api-evaluations"),
            {"agent": alice.id, "standard": created["id"], "outcome": "missed"},
        ).json()
        assert [(e["period_start"], e["version"]) for e in body["results"]] == [("2026-01-05", 1)]
        body = client.get(reverse("api-evaluations"), {"agent": alice.id, "outcome": "met"}).json()
        assert [(e["period_start"], e["version"]) for e in body["results"]] == [("2026-03-02", 2)]


class TestSchema:
    def test_the_standards_paths_are_documented(self, client):
        response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        paths = response.json()["paths"]
        assert set(paths["/api/v1/standards/"]) == {"get", "post"}
        assert set(paths["/api/v1/standards/{standard_id}/"]) == {"get", "put", "patch"}
        create = paths["/api/v1/standards/"]["post"]
        assert {"201", "400", "403"} <= set(create["responses"])
        assert create["security"] == [{"cookieAuth": []}]
        assert create["tags"] == ["standards"]
        schemas = response.json()["components"]["schemas"]
        assert {"versions", "metric_label", "direction", "teams"} <= set(
            schemas["StandardOutput"]["properties"]
        )
        assert "effective_from" in schemas["StandardInput"]["properties"]
