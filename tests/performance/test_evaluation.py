"""The evaluation engine: periods in local time, versions, quality gates, re-scoring."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.models import Evaluation
from performance.periods import PeriodKind, parse_period_key, period_containing, periods_between
from performance.services.evaluation import evaluate_periods
from performance.services.standards import standard_save
from performance.signals import evaluations_changed
from tests.factories import InteractionFactory, make_standard

LISBON = ZoneInfo("Europe/Lisbon")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def outcome_rows(**filters) -> list[tuple]:
    return list(
        Evaluation.objects.filter(**filters)
        .order_by("agent_id", "standard_id", "period_start")
        .values_list(
            "agent_id",
            "standard_id",
            "version__number",
            "period_start",
            "period_end",
            "value",
            "sample_size",
            "outcome",
            "points",
            "gate_passed",
        )
    )


class TestPeriods:
    def test_iso_weeks_run_monday_to_sunday(self):
        week = period_containing(date(2026, 11, 1), PeriodKind.WEEK)  # a Sunday
        assert (week.start, week.end, week.key) == (
            date(2026, 10, 26),
            date(2026, 11, 2),
            "2026-W44",
        )

    def test_months(self):
        month = period_containing(date(2026, 12, 31), PeriodKind.MONTH)
        assert (month.start, month.end, month.key) == (
            date(2026, 12, 1),
            date(2027, 1, 1),
            "2026-12",
        )

    def test_a_dst_day_in_lisbon_lasts_25_hours(self):
        start, end = period_containing(date(2026, 10, 25), PeriodKind.DAY).bounds(LISBON)
        assert (start, end - start) == (
            datetime(2026, 10, 24, 23, 0, tzinfo=UTC),
            timedelta(hours=25),
        )

    def test_periods_between_and_keys_round_trip(self):
        weeks = list(periods_between(date(2026, 10, 1), date(2026, 10, 31), PeriodKind.WEEK))
        assert [w.key for w in weeks] == [
            "2026-W40",
            "2026-W41",
            "2026-W42",
            "2026-W43",
            "2026-W44",
        ]
        assert all(parse_period_key(w.key, "week") == w for w in weeks)
        assert parse_period_key("2026-10", "month").start == date(2026, 10, 1)


@pytest.mark.django_db
class TestLocalPeriods:
    def test_a_contact_after_local_midnight_belongs_to_the_next_day(self, alice, source):
        # 23:30 UTC in July is 00:30 the next day in Lisbon (UTC+1)
        InteractionFactory(agent=alice, source=source, started_at=at("2026-07-15T23:30:00+00:00"))
        standard = make_standard(metric="volume", target=1)
        evaluate_periods(since=date(2026, 7, 15), until=date(2026, 7, 16))
        assert dict(
            Evaluation.objects.filter(standard=standard).values_list("period_start", "sample_size")
        ) == {
            date(2026, 7, 15): 0,
            date(2026, 7, 16): 1,
        }

    def test_the_lisbon_dst_change_day_holds_its_25_hours(self, alice, source):
        for moment in (
            "2026-10-24T22:59:00+00:00",
            "2026-10-24T23:30:00+00:00",
            "2026-10-25T23:30:00+00:00",
            "2026-10-26T00:00:00+00:00",
        ):
            InteractionFactory(agent=alice, source=source, started_at=at(moment))
        standard = make_standard(metric="volume", target=1)
        evaluate_periods(since=date(2026, 10, 24), until=date(2026, 10, 26))
        assert dict(
            Evaluation.objects.filter(standard=standard).values_list("period_start", "value")
        ) == {
            date(2026, 10, 24): 1,
            date(2026, 10, 25): 2,
            date(2026, 10, 26): 1,
        }

    def test_each_team_uses_its_own_zone(self, alice, paulo, source):
        # 02:00 UTC on the 30th is still the 29th in Sao Paulo (UTC-3), already the 30th in Lisbon
        for agent in (alice, paulo):
            InteractionFactory(
                agent=agent, source=source, started_at=at("2026-10-30T02:00:00+00:00")
            )
        standard = make_standard(metric="volume", target=1)
        evaluate_periods(since=date(2026, 10, 29), until=date(2026, 10, 30))
        counted = set(
            Evaluation.objects.filter(standard=standard, sample_size=1).values_list(
                "agent__user__username", "period_start"
            )
        )
        assert counted == {("alice", date(2026, 10, 30)), ("paulo", date(2026, 10, 29))}

    def test_week_and_month_standards(self, alice, source):
        for day in (26, 28, 31):
            InteractionFactory(
                agent=alice, source=source, started_at=at(f"2026-10-{day}T12:00:00+00:00"), csat=5
            )
        InteractionFactory(
            agent=alice, source=source, started_at=at("2026-11-01T12:00:00+00:00"), csat=1
        )
        weekly = make_standard(metric="csat", period="week", target=80)
        monthly = make_standard(metric="csat", period="month", target=80)
        evaluate_periods(since=date(2026, 10, 26), until=date(2026, 11, 1))
        week = Evaluation.objects.get(standard=weekly, agent=alice)
        assert (week.period_start, week.period_end, week.value, week.sample_size) == (
            date(2026, 10, 26),
            date(2026, 11, 2),
            75,
            4,
        )
        months = dict(
            Evaluation.objects.filter(standard=monthly, agent=alice).values_list(
                "period_start", "value"
            )
        )
        assert months == {date(2026, 10, 1): 100, date(2026, 11, 1): 0}


@pytest.mark.django_db
class TestScope:
    def test_team_scoped_standards_judge_only_their_teams(self, alice, paulo, lisbon, source):
        make_standard(metric="volume", teams=[lisbon])
        evaluate_periods(since=date(2026, 10, 29), until=date(2026, 10, 29))
        assert set(Evaluation.objects.values_list("agent__user__username", flat=True)) == {"alice"}

    def test_standards_apply_between_their_active_dates(self, alice, source):
        make_standard(
            metric="volume", active_from=date(2026, 10, 28), active_until=date(2026, 10, 29)
        )
        evaluate_periods(since=date(2026, 10, 26), until=date(2026, 10, 31))
        assert sorted(Evaluation.objects.values_list("period_start", flat=True)) == [
            date(2026, 10, 28),
            date(2026, 10, 29),
        ]

    def test_inactive_agents_are_judged_only_where_they_have_data(self, alice, paulo, source):
        paulo.active = False
        paulo.save()
        InteractionFactory(agent=paulo, source=source, started_at=at("2026-10-29T15:00:00+00:00"))
        make_standard(metric="volume")
        evaluate_periods(since=date(2026, 10, 28), until=date(2026, 10, 29))
        assert set(
            Evaluation.objects.filter(agent=paulo).values_list("period_start", flat=True)
        ) == {date(2026, 10, 29)}
        assert Evaluation.objects.filter(agent=alice).count() == 2


@pytest.mark.django_db
class TestVersions:
    def test_editing_a_rule_creates_a_version_and_old_evaluations_keep_theirs(self, alice, source):
        for day in (28, 29, 30):
            InteractionFactory(
                agent=alice, source=source, started_at=at(f"2026-10-{day}T12:00:00+00:00"), csat=4
            )
            InteractionFactory(
                agent=alice, source=source, started_at=at(f"2026-10-{day}T13:00:00+00:00"), csat=2
            )
        standard = make_standard(metric="csat", target=50)
        evaluate_periods(since=date(2026, 10, 28), until=date(2026, 10, 30))

        standard.target = 60
        version = standard_save(standard=standard, effective_from=date(2026, 10, 30))
        assert (version.number, standard.version) == (2, 2)
        evaluate_periods(since=date(2026, 10, 28), until=date(2026, 10, 30))
        rows = {
            e.period_start: (e.version.number, e.outcome)
            for e in Evaluation.objects.select_related("version")
        }
        assert rows == {
            date(2026, 10, 28): (1, "met"),
            date(2026, 10, 29): (1, "met"),
            date(2026, 10, 30): (2, "missed"),
        }

    def test_saving_without_a_rule_change_keeps_the_version(self, alice):
        standard = make_standard(metric="csat")
        standard.name = "Renamed"
        assert standard_save(standard=standard).number == 1
        assert standard.versions.count() == 1


@pytest.mark.django_db
class TestQualityGate:
    @pytest.fixture
    def standards(self):
        quality = make_standard(name="CSAT", metric="csat", target=80)
        speed = make_standard(
            name="AHT", metric="aht", target=300, quality_gate=quality, points_met=15
        )
        return quality, speed

    def test_speed_does_not_pay_when_quality_fails(self, alice, source, standards):
        _quality, speed = standards
        InteractionFactory(
            agent=alice,
            source=source,
            started_at=at("2026-10-29T12:00:00+00:00"),
            handle_seconds=200,
            csat=2,
        )
        evaluate_periods(since=date(2026, 10, 29), until=date(2026, 10, 29))
        gated = Evaluation.objects.get(standard=speed)
        assert (gated.outcome, gated.gate_passed, gated.points) == ("met", False, 0)

    def test_speed_pays_when_quality_is_met(self, alice, source, standards):
        _quality, speed = standards
        InteractionFactory(
            agent=alice,
            source=source,
            started_at=at("2026-10-29T12:00:00+00:00"),
            handle_seconds=200,
            csat=5,
        )
        evaluate_periods(
            since=date(2026, 10, 29), until=date(2026, 10, 29), standard_ids=[speed.id]
        )
        gated = Evaluation.objects.get(standard=speed)
        assert (gated.outcome, gated.gate_passed, gated.points) == ("met", True, 15)

    def test_insufficient_quality_data_closes_the_gate(self, alice, source, standards):
        _quality, speed = standards
        InteractionFactory(
            agent=alice,
            source=source,
            started_at=at("2026-10-29T12:00:00+00:00"),
            handle_seconds=200,
        )
        evaluate_periods(since=date(2026, 10, 29), until=date(2026, 10, 29))
        assert Evaluation.objects.get(standard=speed).gate_passed is False


@pytest.mark.django_db
class TestRescoring:
    def test_rerunning_changes_nothing_and_announces_nothing(
        self, alice, paulo, source, django_capture_on_commit_callbacks
    ):
        InteractionFactory(
            agent=alice, source=source, started_at=at("2026-10-29T12:00:00+00:00"), csat=5
        )
        make_standard(metric="csat")
        received = []

        def receiver(sender, change_id, change, **kwargs):
            received.append((change_id, change.created, change.updated))

        evaluations_changed.connect(receiver)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                first = evaluate_periods(since=date(2026, 10, 29), until=date(2026, 10, 29))
            before = outcome_rows()
            with django_capture_on_commit_callbacks(execute=True):
                again = evaluate_periods(since=date(2026, 10, 29), until=date(2026, 10, 29))
        finally:
            evaluations_changed.disconnect(receiver)
        assert (first.created, again.created, again.updated, again.unchanged) == (2, 0, 0, 2)
        assert received == [(first.change_id, 2, 0)]
        assert outcome_rows() == before

    def test_a_late_survey_flips_an_outcome(
        self, alice, source, tmp_path, django_capture_on_commit_callbacks
    ):
        from tests.performance.helpers import ingest_text

        standard = make_standard(metric="csat", target=80, min_sample=2)
        with django_capture_on_commit_callbacks(execute=True):
            ingest_text(
                source,
                "external_id,agent,channel,started_at,csat\nx1,A1,chat,2026-10-29T10:00:00Z,5\nx2,A1,chat,2026-10-29T11:00:00Z,2\n",
                tmp_path,
            )
        assert Evaluation.objects.get(standard=standard, agent=alice).outcome == "missed"
        with django_capture_on_commit_callbacks(execute=True):
            ingest_text(source, "external_id,csat\nx2,4\n", tmp_path, name="late.csv")
        evaluation = Evaluation.objects.get(standard=standard, agent=alice)
        assert (evaluation.value, evaluation.outcome) == (100, "met")


day_offsets = st.integers(0, 2)
contacts = st.lists(
    st.tuples(
        st.sampled_from(["alice", "paulo"]),
        day_offsets,
        st.integers(0, 23),
        st.one_of(st.none(), st.integers(1, 5)),
        st.one_of(st.none(), st.integers(0, 900)),
    ),
    max_size=30,
)


@pytest.mark.django_db
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=contacts, min_sample=st.integers(1, 3))
def test_reevaluation_is_idempotent_and_matches_a_reference(rows, min_sample, alice, paulo, source):
    from performance.models import Interaction, ServiceStandard, StandardVersion

    Evaluation.objects.all().delete()
    StandardVersion.objects.all().delete()
    ServiceStandard.objects.all().delete()
    Interaction.objects.all().delete()
    agents = {"alice": alice, "paulo": paulo}
    for name, offset, hour, csat, handle in rows:
        InteractionFactory(
            agent=agents[name],
            source=source,
            started_at=datetime(2026, 10, 28 + offset, hour, tzinfo=UTC),
            csat=csat,
            handle_seconds=handle,
        )
    csat = make_standard(metric="csat", target=60, min_sample=min_sample)
    make_standard(
        metric="aht", target=400, stretch_target=200, min_sample=min_sample, period="week"
    )
    evaluate_periods(since=date(2026, 10, 27), until=date(2026, 10, 31))
    first = outcome_rows()
    again = evaluate_periods(since=date(2026, 10, 27), until=date(2026, 10, 31))
    assert (again.created, again.updated) == (0, 0)
    assert outcome_rows() == first

    for evaluation in Evaluation.objects.filter(standard=csat).select_related("agent__team"):
        zone = ZoneInfo(evaluation.agent.team.time_zone)
        scores = [
            c
            for name, offset, hour, c, _ in rows
            if agents[name].id == evaluation.agent_id
            and c is not None
            and datetime(2026, 10, 28 + offset, hour, tzinfo=UTC).astimezone(zone).date()
            == evaluation.period_start
        ]
        assert evaluation.sample_size == len(scores)
        if len(scores) >= min_sample:
            assert evaluation.value == pytest.approx(
                100 * sum(s >= 4 for s in scores) / len(scores)
            )
        else:
            assert evaluation.outcome == "insufficient_data"


@pytest.mark.django_db
def test_a_new_or_changed_rule_rescores_from_its_first_day_after_commit(
    alice, source, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        standard = make_standard(metric="volume", active_from=today - timedelta(days=3))
    assert Evaluation.objects.filter(standard=standard).count() == 3  # the last three days

    standard.target = 5
    with django_capture_on_commit_callbacks(execute=True):
        standard_save(standard=standard, effective_from=today - timedelta(days=1))
    versions = dict(
        Evaluation.objects.filter(standard=standard).values_list("period_start", "version__number")
    )
    assert versions == {
        today - timedelta(days=3): 1,
        today - timedelta(days=2): 1,
        today - timedelta(days=1): 2,
    }
