"""Service standards, versions and evaluations in Django admin, and the rule preview."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from performance.models import Evaluation, ServiceStandard, StandardVersion
from performance.services.evaluation import evaluate_periods
from tests.factories import InteractionFactory, make_standard
from tests.scenarios import login

pytestmark = pytest.mark.django_db

ADD = reverse("admin:performance_servicestandard_add")
CHANGELIST = reverse("admin:performance_servicestandard_changelist")
PREVIEW_ADD = reverse("admin:performance_servicestandard_preview_add")
EVALUATIONS = reverse("admin:performance_evaluation_changelist")
HTMX = {"HTTP_HX_REQUEST": "true"}


def change_url(standard: ServiceStandard) -> str:
    return reverse("admin:performance_servicestandard_change", args=[standard.pk])


def preview_url(standard: ServiceStandard) -> str:
    return reverse("admin:performance_servicestandard_preview", args=[standard.pk])


def today() -> date:
    return timezone.localdate()


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def add_data(**overrides) -> dict:
    """A valid add-form POST; a None override leaves the field out (blank)."""
    data = {
        "name": "CSAT",
        "metric": "csat",
        "channel": "",
        "period": "day",
        "active_from": "2026-01-01",
        "target": "80",
        "stretch_target": "95",
        "min_sample": "1",
        "points_met": "10",
        "points_exceeded": "20",
        "points_missed_penalty": "0",
        "coaching_missed": "2",
        "coaching_window": "3",
        "coaching_resolve_after": "2",
        "_save": "Save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def change_data(standard: ServiceStandard, **overrides) -> dict:
    """The change form of `standard` as the page posts it, with overrides (metric, channel and
    period are ignored once the standard is evaluated: they are read-only then)."""
    data = {
        "name": standard.name,
        "metric": standard.metric,
        "channel": standard.channel,
        "period": standard.period,
        "active_from": standard.active_from.isoformat(),
        "target": str(standard.target),
        "stretch_target": "" if standard.stretch_target is None else str(standard.stretch_target),
        "threshold_seconds": standard.threshold_seconds or "",
        "min_sample": str(standard.min_sample),
        "points_met": str(standard.points_met),
        "points_exceeded": str(standard.points_exceeded),
        "points_missed_penalty": str(standard.points_missed_penalty),
        "quality_gate": standard.quality_gate_id or "",
        "coaching_missed": str(standard.coaching_missed),
        "coaching_window": str(standard.coaching_window),
        "coaching_resolve_after": str(standard.coaching_resolve_after),
        "teams": [team.pk for team in standard.teams.all()],
        "effective_from": today().isoformat(),
        "_save": "Save",
    }
    data.update(overrides)
    return data


@pytest.fixture
def admin_client(client, dave):
    login(client, dave)
    return client


@pytest.fixture
def recent_csat(alice, paulo, maria, source):
    """Chat surveys over the last three days: (agent, days ago) -> scores."""
    scores = {
        (alice, 3): [5, 5, 4],
        (paulo, 3): [2, 3],
        (maria, 3): [5],
        (alice, 2): [5, 3],
        (paulo, 2): [5, 5],
        (alice, 1): [5, 5, 5, 5],
        (paulo, 1): [4, 4, 2],
        (maria, 1): [1, 2, 5],
    }
    for (agent, days_ago), values in scores.items():
        for minute, score in enumerate(values):
            InteractionFactory(
                source=source,
                agent=agent,
                channel="chat",
                started_at=noon(today() - timedelta(days=days_ago)) + timedelta(minutes=minute),
                csat=score,
            )


# --- validation ----------------------------------------------------------------------------


@pytest.fixture
def weekly_gate(db):
    return make_standard(name="Weekly QA", metric="qa", period="week", target=85)


VALIDATION_CASES = [
    pytest.param(
        {"stretch_target": "70"},
        "the stretch target must be above the target (80)",
        id="stretch-below-a-higher-is-better-target",
    ),
    pytest.param(
        {"metric": "aht", "target": "360", "stretch_target": "400"},
        "the stretch target must be below the target (360)",
        id="stretch-above-a-lower-is-better-target",
    ),
    pytest.param(
        {"metric": "sla", "stretch_target": None},
        "A service-level standard needs a threshold in seconds.",
        id="sla-without-threshold",
    ),
    pytest.param(
        {"min_sample": "0"},
        "Ensure this value is greater than or equal to 1.",
        id="min-sample-zero",
    ),
    pytest.param(
        {"coaching_missed": "4", "coaching_window": "3"},
        "K cannot exceed N (missed in K of the last N periods).",
        id="k-above-n",
    ),
    pytest.param(
        {"active_from": "2026-03-01", "active_until": "2026-02-01"},
        "Ends before it starts.",
        id="ends-before-it-starts",
    ),
    pytest.param({"channel": "fax"}, "Select a valid choice.", id="unknown-channel"),
]


@pytest.mark.parametrize(("overrides", "message"), VALIDATION_CASES)
def test_the_add_form_explains_each_rule(admin_client, overrides, message):
    response = admin_client.post(ADD, add_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ServiceStandard.objects.exists()


def test_a_gate_must_use_the_same_period(admin_client, weekly_gate):
    response = admin_client.post(ADD, add_data(quality_gate=weekly_gate.pk))
    assert "The gate must use the same period (day)." in response.content.decode()
    assert ServiceStandard.objects.count() == 1


def test_a_standard_cannot_gate_itself(admin_client):
    standard = make_standard(name="CSAT")
    response = admin_client.post(
        change_url(standard), change_data(standard, quality_gate=standard.pk)
    )
    assert "A standard cannot gate itself." in response.content.decode()
    assert ServiceStandard.objects.get(pk=standard.pk).quality_gate is None


def test_gates_cannot_form_a_loop(admin_client):
    quality = make_standard(name="Quality", metric="qa", target=85)
    speed = make_standard(name="Speed", metric="aht", target=360, quality_gate=quality)
    response = admin_client.post(change_url(quality), change_data(quality, quality_gate=speed.pk))
    assert "Gates cannot form a loop." in response.content.decode()
    assert ServiceStandard.objects.get(pk=quality.pk).quality_gate is None


# --- adding and changing -------------------------------------------------------------------


def test_the_channel_is_a_select_of_the_channel_table_with_all_channels(admin_client):
    page = admin_client.get(ADD).content.decode()
    assert '<option value="" selected>All channels</option>' in page
    assert '<option value="chat">Chat</option>' in page
    assert 'name="effective_from"' not in page  # the first version starts with active_from


def test_adding_a_standard_saves_its_teams_and_version_1(admin_client, lisbon, sao_paulo):
    response = admin_client.post(ADD, add_data(channel="chat", teams=[lisbon.pk]))
    assert response.status_code == 302
    standard = ServiceStandard.objects.get()
    assert (standard.channel, standard.version) == ("chat", 1)
    assert list(standard.teams.all()) == [lisbon]
    version = standard.versions.get()
    assert (version.number, version.effective_from, version.target) == (1, date(2026, 1, 1), 80)
    assert version.created_by.username == "dave"


def test_a_penalty_for_missed_periods_is_saved_listed_and_summarised(admin_client):
    response = admin_client.post(ADD, add_data(points_missed_penalty="12"))
    assert response.status_code == 302
    assert ServiceStandard.objects.get().versions.get().points_missed_penalty == 12
    assert "10 / 20; penalty \N{MINUS SIGN}12" in admin_client.get(CHANGELIST).content.decode()
    preview = admin_client.post(PREVIEW_ADD, add_data(points_missed_penalty="12"), **HTMX)
    assert "penalty \N{MINUS SIGN}12 when missed" in preview.context["rule_preview"].rule


def test_a_blank_penalty_is_refused_with_its_field_named(admin_client):
    response = admin_client.post(ADD, add_data(points_missed_penalty=""))
    assert response.status_code == 200
    assert "points_missed_penalty" in response.context["adminform"].form.errors
    assert not ServiceStandard.objects.exists()


def test_changing_teams_saves_them_without_a_new_version(admin_client, lisbon, sao_paulo):
    standard = make_standard(teams=[lisbon])
    response = admin_client.post(
        change_url(standard), change_data(standard, teams=[lisbon.pk, sao_paulo.pk])
    )
    assert response.status_code == 302
    assert set(standard.teams.all()) == {lisbon, sao_paulo}
    assert standard.versions.count() == 1


def test_metric_period_channel_and_teams_are_read_only_once_evaluated(
    admin_client, recent_csat, lisbon
):
    standard = make_standard(name="CSAT", metric="csat", period="day", channel="")
    evaluate_periods(since=today() - timedelta(days=3), until=today() - timedelta(days=1))
    page = admin_client.get(change_url(standard)).content.decode()
    for field in ("metric", "period", "channel", "teams"):
        assert f'name="{field}"' not in page
    assert "All channels" in page and "Customer satisfaction" in page
    assert "clone it as a new standard" in page

    response = admin_client.post(
        change_url(standard),
        change_data(
            standard,
            name="CSAT (renamed)",
            metric="aht",
            period="week",
            channel="chat",
            teams=[lisbon.pk],
        ),
    )

    assert response.status_code == 302
    standard.refresh_from_db()
    assert (standard.name, standard.metric, standard.period, standard.channel) == (
        "CSAT (renamed)",
        "csat",
        "day",
        "",
    )
    assert not standard.teams.exists()
    assert standard.version == 1  # a new name is not a new rule


def test_before_any_evaluation_everything_stays_editable(admin_client, lisbon):
    standard = make_standard(name="CSAT", metric="csat", period="day", channel="")
    page = admin_client.get(change_url(standard)).content.decode()
    for field in ("metric", "period", "channel", "teams"):
        assert f'name="{field}"' in page

    response = admin_client.post(
        change_url(standard),
        change_data(
            standard, metric="qa", period="week", channel="chat", target="85", stretch_target=""
        ),
    )

    assert response.status_code == 302
    standard.refresh_from_db()
    assert (standard.metric, standard.period, standard.channel, standard.target) == (
        "qa",
        "week",
        "chat",
        85,
    )


def test_editing_the_target_makes_version_2_and_old_evaluations_keep_version_1(
    admin_client, recent_csat
):
    standard = make_standard(name="CSAT", target=80, min_sample=1, channel="chat")
    old_day, new_day = today() - timedelta(days=3), today() - timedelta(days=1)
    evaluate_periods(since=old_day, until=new_day)
    assert set(Evaluation.objects.values_list("version__number", flat=True)) == {1}

    response = admin_client.post(
        change_url(standard),
        change_data(
            standard, target="60", effective_from=(today() - timedelta(days=2)).isoformat()
        ),
        follow=True,
    )

    assert (
        "Rule changed: version 2 judges periods starting on or after" in response.content.decode()
    )
    standard.refresh_from_db()
    assert standard.version == 2
    v2 = standard.versions.get(number=2)
    assert (v2.effective_from, v2.target, v2.created_by.username) == (
        today() - timedelta(days=2),
        60,
        "dave",
    )
    evaluate_periods(since=old_day, until=new_day)
    versions = dict(
        Evaluation.objects.filter(agent__user__username="paulo").values_list(
            "period_start", "version__number"
        )
    )
    assert versions[old_day] == 1
    assert versions[new_day] == 2
    # paulo's 67 % on the last day misses 80 but meets 60
    assert (
        Evaluation.objects.get(agent__user__username="paulo", period_start=new_day).outcome == "met"
    )


def test_the_change_page_lists_the_versions(admin_client):
    standard = make_standard(name="CSAT", target=80)
    admin_client.post(change_url(standard), change_data(standard, target="85"))
    page = admin_client.get(change_url(standard)).content.decode()
    assert "Versions (current: 2)" in page
    assert "v1" in page and "v2 (current)" in page
    assert "?standard__id__exact=" in page  # the link to this standard's evaluations


def test_the_list_shows_and_filters_standards(admin_client):
    chat = make_standard(name="Chat SLA", metric="sla", threshold_seconds=60, channel="chat")
    csat = make_standard(name="CSAT", metric="csat", target=80, stretch_target=95)
    response = admin_client.get(CHANGELIST)
    page = response.content.decode()
    assert "Service level" in page and "All channels" in page and "10 / 20" in page

    def listed(query: str) -> set[str]:
        return {s.name for s in admin_client.get(CHANGELIST + query).context["cl"].result_list}

    assert listed("?channel=all") == {csat.name}
    assert listed("?channel=chat") == {chat.name}
    assert listed("?metric__exact=sla") == {chat.name}
    assert listed("?period__exact=day") == {chat.name, csat.name}
    assert listed("?q=sla") == {chat.name}


# --- the rule preview ----------------------------------------------------------------------


def stored_counts(standard: ServiceStandard) -> dict[date, Counter]:
    return {
        day: Counter(
            Evaluation.objects.filter(standard=standard, period_start=day).values_list(
                "outcome", flat=True
            )
        )
        for day in Evaluation.objects.filter(standard=standard).values_list(
            "period_start", flat=True
        )
    }


def previewed_counts(response) -> dict[date, Counter]:
    table = response.context["rule_preview"]
    counts = {}
    for line in table.lines:
        cells = {key: draft for key, draft, _ in line.cells}
        counts[date.fromisoformat(line.key)] = Counter(
            {key: cells[key] for key in ("exceeded", "met", "missed", "insufficient_data")}
        )
    return counts


def test_preview_on_the_add_page_matches_what_evaluation_stores(admin_client, recent_csat, lisbon):
    data = add_data(name="Draft", channel="chat", target="80", stretch_target="95", min_sample="2")
    response = admin_client.post(PREVIEW_ADD, {**data, "preview_periods": "4"}, **HTMX)

    assert response.status_code == 200
    assert [t.name for t in response.templates] == [
        "admin/performance/servicestandard/_rule_preview.html"
    ]
    assert not ServiceStandard.objects.exists()
    assert len(response.context["rule_preview"].lines) == 4
    assert response.context["rule_preview"].compared_version is None

    saved = make_standard(name="Saved", channel="chat", target=80, stretch_target=95, min_sample=2)
    evaluate_periods(since=today() - timedelta(days=4), until=today() - timedelta(days=1))
    expected = {day: +counts for day, counts in stored_counts(saved).items()}
    assert {day: +counts for day, counts in previewed_counts(response).items()} == expected
    # one exceeded (alice, 100 %) and one missed (paulo, 0 %) three days ago
    three_days_ago = today() - timedelta(days=3)
    assert expected[three_days_ago] == Counter(exceeded=1, missed=1, insufficient_data=1)


def test_preview_without_javascript_renders_the_form_with_the_values_kept(
    admin_client, recent_csat
):
    response = admin_client.post(PREVIEW_ADD, add_data(name="My draft rule", _preview="Preview"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "admin/performance/servicestandard/change_form.html" in [
        t.name for t in response.templates
    ]
    assert 'value="My draft rule"' in page
    assert f'action="{ADD}"' in page  # Save still goes to the add view
    assert 'data-column="exceeded"' in page
    assert not ServiceStandard.objects.exists()


def test_preview_on_the_change_page_compares_with_the_current_version(admin_client, recent_csat):
    standard = make_standard(name="CSAT", target=80, min_sample=1, channel="chat")
    data = change_data(standard, target="60")

    response = admin_client.post(preview_url(standard), data, **HTMX)

    table = response.context["rule_preview"]
    assert table.compared_version == 1
    yesterday = table.lines[0]
    assert yesterday.key == (today() - timedelta(days=1)).isoformat()
    cells = {key: (draft, current) for key, draft, current in yesterday.cells}
    # yesterday: alice 100 %, paulo 67 %, maria 33 %: at 60 paulo meets, at 80 he misses
    assert cells["met"] == (2, 1)
    assert cells["missed"] == (1, 2)
    assert '<span class="current">(1)</span>' in response.content.decode()


def test_preview_writes_nothing(admin_client, recent_csat):
    gate = make_standard(name="Quality", metric="csat", target=90)
    standard = make_standard(name="Volume", metric="volume", target=1, quality_gate=gate)
    before = (
        ServiceStandard.objects.count(),
        StandardVersion.objects.count(),
        Evaluation.objects.count(),
    )

    response = admin_client.post(
        preview_url(standard), change_data(standard, target="3", name="Renamed"), **HTMX
    )

    assert response.status_code == 200
    assert response.context["rule_preview"].lines
    assert 'data-column="gate_not_met"' in response.content.decode()
    after = (
        ServiceStandard.objects.count(),
        StandardVersion.objects.count(),
        Evaluation.objects.count(),
    )
    assert after == before
    standard.refresh_from_db()
    assert (standard.name, standard.target, standard.version) == ("Volume", 1, 1)


def test_an_invalid_form_shows_its_errors_instead_of_a_preview(admin_client):
    response = admin_client.post(
        PREVIEW_ADD, add_data(metric="sla", stretch_target=None, preview_periods="99"), **HTMX
    )
    page = response.content.decode()
    assert "rule_preview" not in response.context
    assert "Fix the form before previewing" in page
    assert "A service-level standard needs a threshold in seconds." in page
    assert "Ensure this value is less than or equal to 36." in page


def test_preview_answers_get_with_the_form(admin_client):
    standard = make_standard()
    assert admin_client.get(PREVIEW_ADD).url == ADD
    assert admin_client.get(preview_url(standard)).url == change_url(standard)


def test_the_form_pages_carry_the_preview_button(admin_client):
    standard = make_standard()
    for url, target in ((ADD, PREVIEW_ADD), (change_url(standard), preview_url(standard))):
        page = admin_client.get(url).content.decode()
        assert f'formaction="{target}"' in page
        assert f'hx-post="{target}"' in page
        assert "vendor/htmx.min.js" in page


# --- evaluations ---------------------------------------------------------------------------


@pytest.fixture
def evaluated(recent_csat, lisbon):
    csat = make_standard(name="CSAT", target=80, min_sample=1, channel="chat")
    lisbon_only = make_standard(name="Lisbon volume", metric="volume", target=1, teams=[lisbon])
    evaluate_periods(since=today() - timedelta(days=3), until=today() - timedelta(days=1))
    return csat, lisbon_only


def test_evaluations_are_listed_read_only(admin_client, evaluated):
    evaluation = Evaluation.objects.select_related("version").first()
    response = admin_client.get(EVALUATIONS)
    page = response.content.decode()
    assert response.status_code == 200
    assert "v1" in page
    assert reverse("admin:performance_evaluation_add") not in page
    assert admin_client.get(reverse("admin:performance_evaluation_add")).status_code == 403
    change = reverse("admin:performance_evaluation_change", args=[evaluation.pk])
    assert admin_client.get(change).status_code == 200  # view only
    assert admin_client.post(change, {"outcome": "met"}).status_code == 403
    delete = reverse("admin:performance_evaluation_delete", args=[evaluation.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Evaluation.objects.filter(pk=evaluation.pk).exists()


def test_evaluations_filter_by_team_standard_outcome_and_period(
    admin_client, evaluated, lisbon, sao_paulo
):
    _, lisbon_only = evaluated

    def listed(query: str) -> list[Evaluation]:
        return list(admin_client.get(EVALUATIONS + query).context["cl"].result_list)

    assert {e.agent.team_id for e in listed(f"?agent__team__id__exact={sao_paulo.pk}")} == {
        sao_paulo.pk
    }
    assert {e.standard_id for e in listed(f"?standard__id__exact={lisbon_only.pk}")} == {
        lisbon_only.pk
    }
    assert {e.outcome for e in listed("")} > {"missed"}
    assert {e.outcome for e in listed("?outcome__exact=missed")} == {"missed"}
    yesterday = today() - timedelta(days=1)
    since = f"?period_start__gte={yesterday.isoformat()}&period_start__lt={today().isoformat()}"
    assert {e.period_start for e in listed(since)} == {yesterday}


def test_standard_versions_are_read_only(admin_client):
    standard = make_standard()
    version = standard.versions.get()
    assert (
        admin_client.get(reverse("admin:performance_standardversion_changelist")).status_code == 200
    )
    change = reverse("admin:performance_standardversion_change", args=[version.pk])
    assert admin_client.post(change, {"target": "1"}).status_code == 403


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "bob", "anonymous"])
def test_people_who_are_not_staff_are_sent_to_the_admin_login(client, request, persona):
    standard = make_standard()
    if persona != "anonymous":
        person = request.getfixturevalue(persona)
        login(client, person)
    for response in (
        client.get(CHANGELIST),
        client.get(ADD),
        client.get(change_url(standard)),
        client.post(PREVIEW_ADD, add_data()),
        client.post(preview_url(standard), change_data(standard)),
        client.get(EVALUATIONS),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
