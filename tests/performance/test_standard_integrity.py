"""A standard's results cannot be corrupted: what it measures is fixed once it has evaluations
(clone it instead), its dates and numbers have bounds, and no save re-scores more than
STANDARD_RESCORE_MAX_DAYS days."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.metrics import METRICS
from performance.models import Evaluation, ServiceStandard
from performance.services.evaluation import evaluate_periods
from performance.services.evaluation.preview import preview_rule
from performance.services.standards import (
    standard_rescore_span,
    standard_save,
    standard_validate,
)
from tests.factories import make_interactions, make_standard, standard_draft
from tests.scenarios import login

pytestmark = pytest.mark.django_db

ADD = reverse("admin:performance_servicestandard_add")
CHANGELIST = reverse("admin:performance_servicestandard_changelist")
LIST_URL = reverse("api-standards")


def today() -> date:
    return timezone.localdate()


def detail_url(standard: ServiceStandard) -> str:
    return reverse("api-standard-detail", args=[standard.pk])


def change_url(standard: ServiceStandard) -> str:
    return reverse("admin:performance_servicestandard_change", args=[standard.pk])


def clone_url(standard: ServiceStandard) -> str:
    return f"{ADD}?clone={standard.pk}"


@pytest.fixture
def evaluated(alice, source, lisbon):
    """Daily CSAT for Lisbon from 30 days ago, with yesterday evaluated."""
    standard = make_standard(
        name="CSAT",
        metric="csat",
        period="day",
        target=80,
        stretch_target=90,
        active_from=today() - timedelta(days=30),
        teams=[lisbon],
    )
    yesterday = today() - timedelta(days=1)
    make_interactions(alice, source=source, on=yesterday, count=2, csat=[5, 3])
    evaluate_periods(since=yesterday, until=yesterday)
    assert Evaluation.objects.filter(standard=standard).exists()
    return standard


def patch(client, standard, **fields):
    return client.patch(detail_url(standard), fields, content_type="application/json")


# --- what a standard measures is fixed once evaluated --------------------------------------

MEANING_CHANGES = [
    pytest.param({"metric": "qa", "target": 85, "stretch_target": 90}, "metric", id="metric"),
    pytest.param({"period": "week"}, "period", id="period"),
    pytest.param({"channel": "chat"}, "channel", id="channel"),
]


class TestMeaningIsFixedOnceEvaluated:
    @pytest.mark.parametrize(("fields", "field"), MEANING_CHANGES)
    def test_the_api_refuses_a_new_meaning_and_says_clone(
        self, client, dave, evaluated, fields, field
    ):
        login(client, dave)
        response = patch(client, evaluated, **fields)
        assert response.status_code == 400
        (message,) = response.json()[field]
        assert "already has evaluations" in message
        assert "Clone the standard instead" in message
        stored = ServiceStandard.objects.get(pk=evaluated.pk)
        assert (stored.metric, stored.period, stored.channel, stored.version) == (
            "csat",
            "day",
            "",
            1,
        )

    def test_the_api_refuses_new_teams(self, client, dave, evaluated, lisbon, sao_paulo):
        login(client, dave)
        response = patch(client, evaluated, teams=[lisbon.pk, sao_paulo.pk])
        assert response.status_code == 400
        assert "Clone the standard instead" in response.json()["teams"][0]
        assert list(evaluated.teams.all()) == [lisbon]

    def test_the_api_still_renames_and_changes_the_rule(self, client, dave, evaluated, lisbon):
        login(client, dave)
        response = patch(client, evaluated, name="Satisfaction", target=75, teams=[lisbon.pk])
        assert response.status_code == 200, response.json()
        assert (response.json()["name"], response.json()["version"]) == ("Satisfaction", 2)

    def test_before_any_evaluation_the_api_changes_everything(self, client, dave, sao_paulo):
        standard = make_standard(name="CSAT", metric="csat", period="day")
        login(client, dave)
        response = patch(
            client,
            standard,
            metric="qa",
            period="week",
            channel="chat",
            teams=[sao_paulo.pk],
            target=85,
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert (body["metric"], body["period"], body["channel"], body["teams"]) == (
            "qa",
            "week",
            "chat",
            [sao_paulo.pk],
        )

    def test_the_service_refuses_whatever_calls_it(self, evaluated, sao_paulo):
        evaluated.metric = "qa"
        with pytest.raises(ValidationError) as error:
            standard_save(standard=evaluated, team_ids=[sao_paulo.pk])
        assert set(error.value.message_dict) == {"metric", "teams"}

    def test_the_admin_form_refuses_a_meaning_posted_after_evaluation_began(
        self, client, dave, alice, source
    ):
        """The page was opened before the first evaluation: the fields were editable."""
        standard = make_standard(name="CSAT", metric="csat", period="day")
        login(client, dave)
        assert 'name="metric"' in client.get(change_url(standard)).content.decode()
        yesterday = today() - timedelta(days=1)
        make_interactions(alice, source=source, on=yesterday, csat=5)
        evaluate_periods(since=yesterday, until=yesterday)
        # now read-only: a posted metric is ignored, not applied
        response = client.post(
            change_url(standard),
            {
                "name": "CSAT",
                "metric": "qa",
                "active_from": standard.active_from.isoformat(),
                "target": "80",
                "min_sample": "1",
                "points_met": "10",
                "points_exceeded": "20",
                "points_missed_penalty": "0",
                "coaching_missed": "2",
                "coaching_window": "3",
                "coaching_resolve_after": "2",
                "effective_from": today().isoformat(),
            },
        )
        assert response.status_code == 302
        assert ServiceStandard.objects.get(pk=standard.pk).metric == "csat"


# --- cloning -------------------------------------------------------------------------------


class TestClone:
    def test_the_change_page_offers_the_clone(self, client, dave, evaluated):
        login(client, dave)
        page = client.get(change_url(evaluated)).content.decode()
        assert f'href="{clone_url(evaluated)}"' in page
        assert "Clone as a new standard" in page

    def test_the_clone_form_starts_from_the_original(self, client, dave, evaluated, lisbon):
        login(client, dave)
        response = client.get(clone_url(evaluated))
        assert response.status_code == 200
        initial = response.context["adminform"].form.initial
        assert initial["name"] == "CSAT (copy)"
        assert initial["active_from"] == today()
        assert (initial["metric"], initial["period"], initial["channel"]) == ("csat", "day", "")
        assert (initial["target"], initial["stretch_target"]) == (80, 90)
        assert initial["teams"] == [lisbon.pk]
        page = response.content.decode()
        assert "Clone of “CSAT”" in page and "End the original standard" in page

    def test_saving_the_clone_makes_a_new_standard_and_ends_the_original(
        self, client, dave, evaluated, sao_paulo
    ):
        login(client, dave)
        starts = today() + timedelta(days=7)
        response = client.post(
            clone_url(evaluated),
            {
                "name": "CSAT chat (Sao Paulo)",
                "metric": "csat",
                "channel": "chat",
                "period": "week",
                "teams": [sao_paulo.pk],
                "active_from": starts.isoformat(),
                "target": "85",
                "stretch_target": "90",
                "min_sample": "1",
                "points_met": "10",
                "points_exceeded": "20",
                "points_missed_penalty": "0",
                "coaching_missed": "2",
                "coaching_window": "3",
                "coaching_resolve_after": "2",
                "clone_of": evaluated.pk,
                "end_original": "on",
                "_save": "Save",
            },
            follow=True,
        )
        assert response.status_code == 200
        assert "“CSAT” now ends on" in response.content.decode()
        clone = ServiceStandard.objects.get(name="CSAT chat (Sao Paulo)")
        assert (clone.channel, clone.period, clone.version) == ("chat", "week", 1)
        assert list(clone.teams.all()) == [sao_paulo]
        assert clone.versions.get().effective_from == starts
        evaluated.refresh_from_db()
        assert evaluated.active_until == starts - timedelta(days=1)
        assert (evaluated.metric, evaluated.version) == ("csat", 1)

    def test_the_original_may_stay_open(self, client, dave, evaluated):
        login(client, dave)
        data = clone_form_data(evaluated)
        data.pop("end_original")
        assert client.post(clone_url(evaluated), data).status_code == 302
        evaluated.refresh_from_db()
        assert evaluated.active_until is None
        assert ServiceStandard.objects.count() == 2

    def test_an_original_that_cannot_end_then_is_explained(self, client, dave, evaluated):
        login(client, dave)
        data = clone_form_data(evaluated, active_from=evaluated.active_from.isoformat())
        response = client.post(clone_url(evaluated), data)
        assert response.status_code == 200
        assert "“CSAT” cannot end the day before this one starts" in response.content.decode()
        assert ServiceStandard.objects.count() == 1

    def test_the_list_action_opens_the_clone_form(self, client, dave, evaluated):
        login(client, dave)
        response = client.post(
            CHANGELIST,
            {"action": "clone_selected", "_selected_action": [evaluated.pk]},
        )
        assert response.status_code == 302
        assert response.url == clone_url(evaluated)

    def test_the_list_action_clones_one_standard_at_a_time(self, client, dave, evaluated):
        other = make_standard(name="QA", metric="qa", target=85)
        login(client, dave)
        response = client.post(
            CHANGELIST,
            {"action": "clone_selected", "_selected_action": [evaluated.pk, other.pk]},
            follow=True,
        )
        assert "Select exactly one standard to clone." in response.content.decode()
        assert ServiceStandard.objects.count() == 2

    @pytest.mark.parametrize("persona", ["alice", "bob", "carol", "anonymous"])
    def test_only_admins_clone(self, client, request, evaluated, persona):
        if persona != "anonymous":
            login(client, request.getfixturevalue(persona))
        for response in (
            client.get(clone_url(evaluated)),
            client.post(clone_url(evaluated), clone_form_data(evaluated)),
            client.post(
                CHANGELIST, {"action": "clone_selected", "_selected_action": [evaluated.pk]}
            ),
        ):
            assert response.status_code == 302
            assert response.url.startswith(reverse("admin:login"))
        assert ServiceStandard.objects.count() == 1
        evaluated.refresh_from_db()
        assert evaluated.active_until is None


def clone_form_data(standard: ServiceStandard, **overrides) -> dict:
    data = {
        "name": f"{standard.name} (copy)",
        "metric": standard.metric,
        "channel": standard.channel,
        "period": standard.period,
        "active_from": today().isoformat(),
        "target": str(standard.target),
        "stretch_target": "" if standard.stretch_target is None else str(standard.stretch_target),
        "min_sample": str(standard.min_sample),
        "points_met": str(standard.points_met),
        "points_exceeded": str(standard.points_exceeded),
        "points_missed_penalty": str(standard.points_missed_penalty),
        "coaching_missed": str(standard.coaching_missed),
        "coaching_window": str(standard.coaching_window),
        "coaching_resolve_after": str(standard.coaching_resolve_after),
        "clone_of": standard.pk,
        "end_original": "on",
        "_save": "Save",
    }
    data.update(overrides)
    return data


# --- bounds --------------------------------------------------------------------------------


def new_standard(**fields) -> dict:
    return {
        "name": "CSAT",
        "metric": "csat",
        "period": "day",
        "active_from": today().isoformat(),
        "target": 80,
        "stretch_target": 90,
        "min_sample": 5,
        **fields,
    }


HOSTILE = [
    pytest.param({"active_from": "0046-01-01"}, "active_from", "outside the supported days"),
    pytest.param({"active_from": "9043-01-01"}, "active_from", "outside the supported days"),
    pytest.param(
        {"active_from": (date.today() + timedelta(days=400)).isoformat()},
        "active_from",
        "more than a year ahead",
    ),
    pytest.param({"active_until": "9043-01-01"}, "active_until", "outside the supported days"),
    pytest.param({"active_until": "2026-02-30"}, "active_until", "wrong format"),
    pytest.param({"effective_from": "0046-01-01"}, "effective_from", "outside the supported"),
    pytest.param({"target": 1e308}, "target", "takes values from 0 to 100"),
    pytest.param({"target": "1e309"}, "target", "valid number"),
    pytest.param({"target": "NaN"}, "target", "valid number"),
    pytest.param({"target": "Infinity"}, "target", "valid number"),
    pytest.param({"target": -5}, "target", "takes values from 0 to 100"),
    pytest.param({"stretch_target": 101}, "stretch_target", "takes values from 0 to 100"),
    pytest.param({"metric": "nps", "target": -101}, "target", "from -100 to 100"),
    pytest.param({"metric": "ces", "target": 0.5, "stretch_target": 0.2}, "target", "1 to 7"),
    pytest.param({"metric": "aht", "target": 10**9, "stretch_target": None}, "target", "604800"),
    pytest.param({"points_met": 10**30}, "points_met", "less than or equal to 10000"),
    pytest.param({"points_exceeded": -1}, "points_exceeded", "greater than or equal to 0"),
    pytest.param({"min_sample": 10**12}, "min_sample", "less than or equal to 100000"),
    pytest.param({"metric": "sla", "threshold_seconds": 10**10}, "threshold_seconds", "604800"),
    pytest.param({"coaching_window": 1000}, "coaching_window", "less than or equal to 52"),
    pytest.param(
        {"coaching_resolve_after": 0}, "coaching_resolve_after", "greater than or equal to 1"
    ),
    pytest.param(
        {"coaching_resolve_after": 53}, "coaching_resolve_after", "less than or equal to 52"
    ),
]


class TestBounds:
    @pytest.mark.parametrize(("fields", "field", "message"), HOSTILE)
    def test_the_api_refuses_hostile_values_with_a_field_error(
        self, client, dave, fields, field, message
    ):
        login(client, dave)
        response = client.post(LIST_URL, new_standard(**fields), content_type="application/json")
        assert response.status_code == 400
        assert message in " ".join(response.json()[field])
        assert not ServiceStandard.objects.exists()

    @pytest.mark.parametrize(("fields", "field", "message"), HOSTILE)
    def test_a_patch_refuses_them_too(self, client, dave, fields, field, message):
        standard = make_standard(name="CSAT", target=80, stretch_target=90, min_sample=5)
        login(client, dave)
        response = patch(client, standard, **fields)
        assert response.status_code == 400
        assert message in " ".join(response.json()[field])
        stored = ServiceStandard.objects.get(pk=standard.pk)
        assert (stored.target, stored.version, stored.active_from) == (80, 1, date(2026, 1, 1))

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            ({"active_from": "0046-01-01"}, "active_from", "outside the supported days"),
            ({"target": "1e308"}, "target", "takes values from 0 to 100"),
            ({"target": "NaN"}, "target", "Enter a number."),
            ({"points_met": str(10**30)}, "points_met", "less than or equal to 10000"),
        ],
    )
    def test_the_admin_form_and_preview_refuse_them(self, client, dave, fields, field, message):
        login(client, dave)
        data = {
            "name": "CSAT",
            "metric": "csat",
            "channel": "",
            "period": "day",
            "active_from": today().isoformat(),
            "target": "80",
            "min_sample": "1",
            "points_met": "10",
            "points_exceeded": "20",
            "points_missed_penalty": "0",
            "coaching_missed": "2",
            "coaching_window": "3",
            "coaching_resolve_after": "2",
            **fields,
        }
        saved = client.post(ADD, data)
        assert saved.status_code == 200
        assert message in saved.content.decode().replace("&#x27;", "'")
        preview = client.post(
            reverse("admin:performance_servicestandard_preview_add"),
            data,
            HTTP_HX_REQUEST="true",
        )
        assert preview.status_code == 200
        assert message in preview.content.decode()
        assert not ServiceStandard.objects.exists()

    def test_the_database_keeps_the_bounds(self):
        standard = make_standard()
        for fields in (
            {"active_from": date(46, 1, 1)},
            {"active_until": date(2025, 1, 1)},
            {"points_met": 10**6},
            {"coaching_missed": 9, "coaching_window": 3},
            {"coaching_resolve_after": 0},
            {"coaching_resolve_after": 53},
        ):
            with pytest.raises(IntegrityError), transaction.atomic():
                ServiceStandard.objects.filter(pk=standard.pk).update(**fields)
        with pytest.raises(IntegrityError), transaction.atomic():
            standard.versions.update(effective_from=date(9043, 1, 1))

    def test_every_metric_declares_its_range(self):
        for metric in METRICS.values():
            low, high = metric.bounds
            assert math.isfinite(low) and math.isfinite(high) and low < high
            assert not metric.within_bounds(float("nan"))


# Any rule clean() accepts can be evaluated and previewed.
RULES = st.fixed_dictionaries(
    {
        "metric": st.sampled_from(sorted(METRICS)),
        "period": st.sampled_from(["day", "week", "month"]),
        "target": st.floats(allow_nan=True, allow_infinity=True, width=64),
        "stretch_target": st.none() | st.floats(allow_nan=True, allow_infinity=True),
        "threshold_seconds": st.none() | st.integers(min_value=0, max_value=10**7),
        "min_sample": st.integers(min_value=0, max_value=10**6),
        "points_met": st.integers(min_value=0, max_value=10**5),
        "points_exceeded": st.integers(min_value=0, max_value=10**5),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rule=RULES)
def test_any_rule_clean_accepts_is_evaluated_and_previewed(alice, source, rule):
    yesterday = today() - timedelta(days=1)
    draft = standard_draft(name="Drawn", active_from=yesterday - timedelta(days=40), **rule)
    try:
        draft.full_clean(exclude=["teams"])
    except ValidationError:
        return
    preview_rule(draft=draft, team_ids=[], periods=2, until=today())
    standard_save(standard=draft, rescore=False)
    make_interactions(
        alice,
        source=source,
        on=yesterday,
        count=2,
        handle_seconds=300,
        first_response_seconds=20,
        wait_seconds=10,
        csat=4,
        nps=9,
        ces=2,
        qa_score=90,
        resolved=True,
        first_contact_resolution=True,
        case_id="C1",
    )
    run = evaluate_periods(since=yesterday, until=yesterday, standard_ids=[draft.pk])
    assert run.total >= 1


# --- the re-score cap ----------------------------------------------------------------------


@pytest.fixture
def small_cap(settings):
    settings.STANDARD_RESCORE_MAX_DAYS = 30
    return 30


def standard_from(days_ago: int) -> ServiceStandard:
    """A CSAT standard active from `days_ago`, saved before the cap applies (as it would be
    under a larger STANDARD_RESCORE_MAX_DAYS)."""
    standard = standard_draft(name="CSAT", active_from=today() - timedelta(days=days_ago))
    standard_save(standard=standard, rescore=False)
    return standard


class TestRescoreCap:
    def test_a_rule_change_dated_too_far_back_is_refused(self, client, dave, small_cap):
        standard = standard_from(100)
        login(client, dave)
        since = today() - timedelta(days=45)
        response = patch(client, standard, target=70, effective_from=since.isoformat())
        assert response.status_code == 400
        (message,) = response.json()["effective_from"]
        assert "would re-score 45 days" in message
        assert "at most 30 days (STANDARD_RESCORE_MAX_DAYS)" in message
        assert "manage.py evaluate --since … --until …" in message
        assert ServiceStandard.objects.get(pk=standard.pk).version == 1

    def test_within_the_cap_the_change_re_scores_its_span(
        self, client, dave, alice, source, small_cap, django_capture_on_commit_callbacks
    ):
        standard = standard_from(100)
        for days_ago in (40, 10):
            make_interactions(alice, source=source, on=today() - timedelta(days=days_ago), csat=5)
        login(client, dave)
        since = today() - timedelta(days=20)
        with django_capture_on_commit_callbacks(execute=True):
            response = patch(client, standard, target=70, effective_from=since.isoformat())
        assert response.status_code == 200, response.json()
        scored = Evaluation.objects.filter(standard=standard, agent=alice)
        days = sorted(scored.values_list("period_start", flat=True))
        assert (days[0], days[-1], len(days)) == (since, today() - timedelta(days=1), 20)
        assert set(scored.values_list("version__number", flat=True)) == {2}
        assert scored.get(period_start=today() - timedelta(days=10)).outcome == "met"

    def test_a_new_standard_dated_too_far_back_is_refused(self, client, dave, small_cap):
        login(client, dave)
        response = client.post(
            LIST_URL,
            new_standard(active_from=(today() - timedelta(days=31)).isoformat()),
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "would re-score 31 days" in response.json()["active_from"][0]

    def test_moving_active_from_far_back_is_refused(self, client, dave, small_cap):
        standard = make_standard(name="CSAT", active_from=today() - timedelta(days=10))
        login(client, dave)
        response = patch(client, standard, active_from=(today() - timedelta(days=60)).isoformat())
        assert response.status_code == 400
        assert "would re-score 50 days" in response.json()["active_from"][0]

    def test_the_admin_form_names_the_limit(self, client, dave, small_cap):
        standard = standard_from(100)
        login(client, dave)
        response = client.post(
            change_url(standard),
            {
                "name": "CSAT",
                "metric": "csat",
                "channel": "",
                "period": "day",
                "active_from": standard.active_from.isoformat(),
                "target": "70",
                "min_sample": "1",
                "points_met": "10",
                "points_exceeded": "20",
                "points_missed_penalty": "0",
                "coaching_missed": "2",
                "coaching_window": "3",
                "coaching_resolve_after": "2",
                "effective_from": (today() - timedelta(days=90)).isoformat(),
            },
        )
        assert response.status_code == 200
        assert "at most 30 days" in response.content.decode()
        assert ServiceStandard.objects.get(pk=standard.pk).version == 1

    def test_the_demo_and_benchmarks_save_without_the_cap(self, small_cap):
        standard = standard_draft(active_from=date(2020, 1, 1))
        version = standard_save(standard=standard, rescore=False)
        assert version.effective_from == date(2020, 1, 1)


class TestRescoreSpan:
    """What a save re-scores: a new version's days, and the days new dates add or remove."""

    def span(self, standard, *, before=None, effective_from=None):
        latest = before.versions.order_by("-number").first() if before else None
        span = standard_rescore_span(
            standard=standard,
            before=before,
            latest=latest,
            effective_from=effective_from,
            today=date(2026, 6, 15),
        )
        return None if span is None else (span.first, span.last, span.field)

    def stored(self, **fields):
        standard = make_standard(active_from=date(2026, 1, 1), **fields)
        return standard, ServiceStandard.objects.get(pk=standard.pk)

    def test_a_new_standard_from_its_first_day_to_yesterday(self):
        draft = standard_draft(active_from=date(2026, 6, 1))
        assert self.span(draft) == (date(2026, 6, 1), date(2026, 6, 14), "active_from")
        draft = standard_draft(active_from=date(2026, 6, 1), active_until=date(2026, 6, 5))
        assert self.span(draft) == (date(2026, 6, 1), date(2026, 6, 5), "active_from")
        assert self.span(standard_draft(active_from=date(2026, 6, 15))) is None

    def test_a_rule_change_from_its_effective_day(self):
        standard, before = self.stored()
        standard.target = 60
        assert self.span(standard, before=before, effective_from=date(2026, 6, 1)) == (
            date(2026, 6, 1),
            date(2026, 6, 14),
            "effective_from",
        )
        assert self.span(standard, before=before) is None  # from today: nothing closed yet

    def test_dates_re_score_only_the_days_they_add_or_remove(self):
        standard, before = self.stored()
        standard.active_from = date(2026, 3, 1)
        assert self.span(standard, before=before) == (
            date(2026, 1, 1),
            date(2026, 2, 28),
            "active_from",
        )
        standard, before = self.stored()
        standard.active_until = date(2026, 6, 10)
        assert self.span(standard, before=before) == (
            date(2026, 6, 11),
            date(2026, 6, 14),
            "active_until",
        )
        standard.active_until = date(2026, 12, 31)  # a future end changes no closed day
        assert self.span(standard, before=before) is None

    def test_renaming_re_scores_nothing(self):
        standard, before = self.stored()
        standard.name = "Renamed"
        assert self.span(standard, before=before) is None


def test_validate_passes_an_unchanged_standard(evaluated):
    standard_validate(
        standard=evaluated, team_ids=list(evaluated.teams.values_list("pk", flat=True))
    )


# --- the evaluate command ------------------------------------------------------------------


class TestEvaluateCommand:
    def test_a_range_longer_than_the_limit_is_refused_with_the_pieces(self, small_cap):
        with pytest.raises(CommandError) as error:
            call_command("evaluate", "--since", "2026-01-01", "--until", "2026-03-31")
        message = str(error.value)
        assert "2026-01-01 to 2026-03-31 is 90 days" in message
        assert "at most 30 days (STANDARD_RESCORE_MAX_DAYS)" in message
        assert "--since 2026-01-01 --until 2026-01-30, then --since 2026-01-31" in message

    def test_the_default_limit_covers_a_year(self, capsys):
        call_command("evaluate", "--since", "2025-01-01", "--until", "2025-12-31", "--json")
        assert '"since": "2025-01-01"' in capsys.readouterr().out

    def test_years_outside_the_supported_ones_are_refused(self):
        with pytest.raises(CommandError, match="outside the years 2000 to 2099"):
            call_command("evaluate", "--since", "0046-01-01")
