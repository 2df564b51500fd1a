"""Variable pay: a month's points per agent by kind (page, CSV, .xlsx, API), scoped by role,
equal to the ledger, in pt-BR formats, final only once nothing can change it by itself."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.models import ChangeCursor, EvaluationChange
from performance.roles import TEAM_LEAD_GROUP
from rewards.models import SPENDING_KINDS, PointsEntry, ReconcileRequest
from rewards.selectors import PAYROLL_KINDS, payroll_agents_for, payroll_for
from rewards.selectors.payroll import month_closes_on
from rewards.services.changes import CHANGE_SUBSCRIBER
from rewards.windows import parse_month
from tests.factories import make_standard
from tests.html import texts_by_testid
from tests.rewards.helpers import award
from tests.scenarios import agent_in, login

pytestmark = pytest.mark.django_db

OCTOBER = parse_month("2026-10", today=date(2026, 12, 6))
PAGE = reverse("rewards:payroll")
CSV = reverse("rewards:payroll-csv")
XLSX = reverse("rewards:payroll-xlsx")
API = "/api/v1/rewards/payroll"
Kind = PointsEntry.Kind
# A moment long after October's last period closed everywhere.
DECEMBER = datetime(2026, 12, 6, 12, tzinfo=UTC)


def october(url: str) -> str:
    return f"{url}?month=2026-10"


@pytest.fixture
def ledger(alice, maria, paulo):
    """October points of every kind for alice and paulo, with points outside the month and
    spending that must stay out; maria (alice's teammate) earned nothing."""
    for kind, points in [
        (Kind.STANDARD, 30),
        (Kind.STANDARD, -10),  # a missed week's penalty
        (Kind.STREAK_BONUS, 15),
        (Kind.BADGE, 25),
        (Kind.CHALLENGE_PRIZE, 100),
        (Kind.TRAINING_COMPLETED, 5),
        (Kind.MANUAL_ADJUSTMENT, -3),
        (Kind.COMPENSATION, -20),
    ]:
        award(alice, points, earned_on=date(2026, 10, 12), kind=kind)
    award(alice, 1000, earned_on=date(2026, 10, 31), kind=Kind.STANDARD)
    award(alice, 7, earned_on=date(2026, 11, 1), kind=Kind.STANDARD)  # November
    award(alice, 8, earned_on=date(2026, 9, 30), kind=Kind.STANDARD)  # September
    award(alice, -50, earned_on=date(2026, 10, 20), kind=Kind.REDEMPTION_HOLD)
    award(alice, 50, earned_on=date(2026, 10, 21), kind=Kind.REDEMPTION_RELEASED)
    award(paulo, 40, earned_on=date(2026, 10, 1), kind=Kind.STANDARD)
    return alice, maria, paulo


def rows_by_name(payroll) -> dict[str, dict]:
    return {row.name: {**row.points, "total": row.total} for row in payroll.rows}


# --- the numbers ---------------------------------------------------------------------------


def test_the_month_sums_each_kind_by_earned_on_without_spending(ledger, dave):
    alice, maria, paulo = ledger
    payroll = payroll_for(payroll_agents_for(dave), OCTOBER, now=DECEMBER)
    rows = rows_by_name(payroll)
    assert rows[alice.display_name] == {
        "standard": 1020,
        "streak_bonus": 15,
        "badge": 25,
        "challenge_prize": 100,
        "training_completed": 5,
        "manual_adjustment": -3,
        "compensation": -20,
        "total": 1142,
    }
    assert rows[maria.display_name]["total"] == 0
    assert rows[paulo.display_name] == {
        **dict.fromkeys(PAYROLL_KINDS, 0),
        "standard": 40,
        "total": 40,
    }
    assert payroll.total == 1182
    assert set(PAYROLL_KINDS).isdisjoint(SPENDING_KINDS)


def test_rows_come_by_team_then_name_with_the_external_ids(ledger, dave, lisbon, source):
    alice, maria, paulo = ledger
    for agent, name in ((alice, "Bea"), (maria, "carla")):
        agent.user.first_name, agent.user.last_name = name, ""
        agent.user.save(update_fields=["first_name", "last_name"])
    agent_in(lisbon, "zed", first_name="Zed", last_name="")
    agent_in(lisbon, "ana", first_name="ana", last_name="", source=source, external_id="X9")
    payroll = payroll_for(payroll_agents_for(dave), OCTOBER, now=DECEMBER)
    assert [(row.team, row.name, row.external_id) for row in payroll.rows] == [
        ("Lisbon", "ana", "X9"),
        ("Lisbon", "Bea", "A1"),
        ("Lisbon", "carla", ""),
        ("Lisbon", "Zed", ""),
        ("Sao Paulo", paulo.display_name, "P1"),
    ]


def test_an_inactive_agent_is_listed_only_for_a_month_they_earned_in(ledger, dave):
    alice, maria, _ = ledger
    for agent in (alice, maria):
        agent.active = False
        agent.save(update_fields=["active"])
    names = {row.name for row in payroll_for(payroll_agents_for(dave), OCTOBER).rows}
    assert alice.display_name in names and maria.display_name not in names


def test_the_page_costs_the_same_queries_however_many_agents(
    client, bob, lisbon, django_assert_num_queries
):
    for index in range(3):
        award(agent_in(lisbon, f"a{index}"), 10, earned_on=date(2026, 10, 5))
    login(client, bob)
    client.get(october(PAGE))
    with django_assert_num_queries(11) as few:
        assert client.get(october(PAGE)).status_code == 200
    for index in range(3, 12):
        award(agent_in(lisbon, f"a{index}"), 10, earned_on=date(2026, 10, 5))
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(october(PAGE))


ENTRY = st.tuples(
    st.integers(0, 2),  # agent
    st.sampled_from(list(Kind)),
    st.integers(-500, 500).filter(bool),
    st.integers(-5, 35),  # day from 1 October
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(ENTRY, max_size=15))
def test_totals_equal_the_ledger_per_agent_and_kind_for_any_entries(
    alice, maria, paulo, dave, entries
):
    agents = [alice, maria, paulo]
    for agent_index, kind, points, day in entries:
        award(
            agents[agent_index],
            points,
            earned_on=date(2026, 10, 1) + timedelta(days=day),
            kind=kind,
        )
    payroll = payroll_for(payroll_agents_for(dave), OCTOBER, now=DECEMBER)
    expected: dict[tuple[int, str], int] = {}
    for agent_id, kind, points, earned_on in PointsEntry.objects.values_list(
        "agent_id", "kind", "points", "earned_on"
    ):
        if OCTOBER.contains(earned_on) and kind not in SPENDING_KINDS:
            expected[(agent_id, kind)] = expected.get((agent_id, kind), 0) + points
    for row in payroll.rows:
        for kind in PAYROLL_KINDS:
            assert row.points[kind] == expected.get((row.agent_id, kind), 0)
    assert payroll.total == sum(expected.values())
    # The files carry the same numbers.
    sheet = openpyxl.load_workbook(io.BytesIO(_xlsx_of(payroll))).active
    assert [list(r)[3:] for r in sheet.iter_rows(min_row=3, values_only=True)] == [
        [*(row.points[kind] for kind in PAYROLL_KINDS), row.total] for row in payroll.rows
    ]


def _xlsx_of(payroll) -> bytes:
    from config.exports import xlsx_bytes
    from rewards.views.payroll import TEXT_COLUMNS, payroll_table

    return xlsx_bytes(
        payroll_table(payroll), produced_at=payroll.produced_at, text_columns=TEXT_COLUMNS
    )


# --- final or provisional ------------------------------------------------------------------


def test_a_month_is_final_once_its_last_week_closed_and_a_night_passed(ledger, dave):
    make_standard(name="Weekly", metric="csat", period="week")
    # October's last week starts Monday the 26th and ends on 2 November (exclusive).
    assert month_closes_on(OCTOBER, {"week", "day", "month"}) == date(2026, 11, 2)
    agents = payroll_agents_for(dave)
    during = payroll_for(agents, OCTOBER, now=datetime(2026, 11, 1, 12, tzinfo=UTC))
    assert not during.final and during.final_from == date(2026, 11, 3)
    assert during.status.startswith("Provisional: periods of the month are still open")
    # Sao Paulo is still on the 2nd when Lisbon is on the 3rd.
    assert not payroll_for(agents, OCTOBER, now=datetime(2026, 11, 3, 2, tzinfo=UTC)).final
    after = payroll_for(agents, OCTOBER, now=datetime(2026, 11, 3, 4, tzinfo=UTC))
    assert after.final and after.status.startswith("Final")


def test_a_month_without_weekly_standards_closes_with_its_last_day(dave, alice):
    make_standard(name="Daily", metric="csat", period="day")
    payroll = payroll_for(payroll_agents_for(dave), OCTOBER, now=DECEMBER)
    assert payroll.final_from == date(2026, 11, 2)


def test_a_pending_reconciliation_keeps_the_month_provisional(ledger, dave):
    agents = payroll_agents_for(dave)
    assert payroll_for(agents, OCTOBER, now=DECEMBER).final
    request = ReconcileRequest.objects.create(
        change_id=1, first_period_start=date(2026, 10, 5), last_period_start=date(2026, 10, 5)
    )
    pending = payroll_for(agents, OCTOBER, now=DECEMBER)
    assert (pending.final, pending.pending_changes) == (False, 1)
    assert "1 evaluation change is still being reconciled" in pending.status
    ReconcileRequest.objects.filter(pk=request.pk).update(done_at=timezone.now())
    assert payroll_for(agents, OCTOBER, now=DECEMBER).final


def test_a_change_not_yet_delivered_to_rewards_keeps_the_month_provisional(ledger, dave):
    agents = payroll_agents_for(dave)
    change = EvaluationChange.objects.create(
        first_period_start=date(2026, 10, 5),
        last_period_start=date(2026, 10, 5),
        created=1,
        updated=0,
        deleted=0,
    )
    assert payroll_for(agents, OCTOBER, now=DECEMBER).pending_changes == 1
    ChangeCursor.objects.update_or_create(
        subscriber=CHANGE_SUBSCRIBER, defaults={"last_change_id": change.pk}
    )
    assert payroll_for(agents, OCTOBER, now=DECEMBER).final


def test_the_current_month_is_provisional(client, ledger, bob):
    login(client, bob)
    month = timezone.localdate().strftime("%Y-%m")
    body = client.get(f"{PAGE}?month={month}").content.decode()
    assert texts_by_testid(body, "status")[0].startswith("Provisional: periods of the month")


# --- who sees what -------------------------------------------------------------------------


ALL_URLS = [PAGE, CSV, XLSX]


def test_anonymous_is_sent_to_log_in(client):
    for url in ALL_URLS:
        response = client.get(october(url))
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(october(API)).status_code == 403


def test_an_agent_exports_nothing(client, ledger):
    alice, _, _ = ledger
    login(client, alice)
    for url in ALL_URLS:
        assert client.get(october(url)).status_code == 404
    response = client.get(october(API))
    assert response.status_code == 403
    assert response.json()["detail"] == "Only team leads and admins export variable pay."


def test_a_lead_exports_the_agents_they_lead_only(client, ledger, bob):
    alice, maria, paulo = ledger
    login(client, bob)
    page = client.get(october(PAGE)).content.decode()
    names = {alice.display_name, maria.display_name}
    assert len(texts_by_testid(page, "payroll-row")) == 2
    assert all(name in page for name in names) and paulo.display_name not in page
    assert texts_by_testid(page, "grand-total") == ["1,142"]
    listed = {row[2] for row in csv_rows(client.get(october(CSV)))}
    assert listed == names
    sheet = workbook(client.get(october(XLSX)))
    assert {row[2] for row in sheet.iter_rows(min_row=3, values_only=True)} == names
    api = client.get(october(API)).json()
    assert {agent["name"] for agent in api["agents"]} == names


def test_the_lead_of_another_team_sees_only_theirs(client, ledger, carol):
    _, _, paulo = ledger
    login(client, carol)
    api = client.get(october(API)).json()
    assert [(agent["name"], agent["total"]) for agent in api["agents"]] == [
        (paulo.display_name, 40)
    ]
    assert {row[2] for row in csv_rows(client.get(october(CSV)))} == {paulo.display_name}
    sheet = workbook(client.get(october(XLSX)))
    assert [row[2] for row in sheet.iter_rows(min_row=3, values_only=True)] == [paulo.display_name]
    page = client.get(october(PAGE)).content.decode()
    assert len(texts_by_testid(page, "payroll-row")) == 1
    assert texts_by_testid(page, "grand-total") == ["40"]


def test_the_page_reads_in_portuguese(client, ledger, dave):
    login(client, dave)
    page = client.get(october(PAGE), HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert texts_by_testid(page, "grand-total") == ["1.182"]
    assert texts_by_testid(page, "month") == ["outubro de 2026"]


def test_a_lead_who_is_also_an_agent_does_not_export_their_own_pay(client, lisbon, alice):
    leda = agent_in(lisbon, "leda", first_name="Leda", last_name="Lead")
    leda.user.groups.add(Group.objects.get(name=TEAM_LEAD_GROUP))
    lisbon.leads.add(leda.user)
    award(leda, 10, earned_on=date(2026, 10, 5))
    login(client, leda)
    page = client.get(october(PAGE)).content.decode()
    rows = texts_by_testid(page, "payroll-row")
    assert len(rows) == 1 and alice.display_name in rows[0]
    assert "Leda Lead" not in texts_by_testid(page, "payroll")[0]


def test_an_admin_exports_everyone(client, ledger, dave):
    login(client, dave)
    api = client.get(october(API)).json()
    assert len(api["agents"]) == 3 and api["total"] == 1182
    assert len(csv_rows(client.get(october(CSV)))) == 3


def test_the_pages_take_only_get(client, bob):
    login(client, bob)
    for url in ALL_URLS:
        assert client.post(october(url)).status_code == 405
    assert client.post(october(API)).status_code == 405


def test_the_team_points_page_links_to_variable_pay(client, bob):
    login(client, bob)
    body = client.get(reverse("rewards:team-points")).content.decode()
    assert texts_by_testid(body, "payroll-link") == ["Variable pay"]
    assert f'href="{PAGE}"' in body


# --- months --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "'2026-13' is not a month (2026-11)."),
        ("2026-W44", "'2026-W44' is not a month (2026-11)."),
        ("2026-10-05", "'2026-10-05' is not a month (2026-11)."),
        ("november", "'november' is not a month (2026-11)."),
        ("1999-12", "'1999-12' is outside the years 2000 to 2099."),
    ],
)
def test_a_bad_month_is_a_400_that_says_why(client, bob, month, message):
    login(client, bob)
    for url in ALL_URLS:
        response = client.get(f"{url}?month={month}")
        assert response.status_code == 400
        assert texts_by_testid(response.content, "errors") == [f"Month: {message}"]
    response = client.get(f"{API}?month={month}")
    assert response.status_code == 400
    assert response.json() == {"month": [message]}


def test_without_a_month_the_page_shows_last_month(client, bob):
    login(client, bob)
    body = client.get(PAGE).content.decode()
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    assert texts_by_testid(body, "month") == [
        parse_month(last_month.strftime("%Y-%m"), today=today).label
    ]
    assert client.get(API).json()["month"]["key"] == last_month.strftime("%Y-%m")


def test_the_page_moves_by_month_but_not_into_the_future(client, bob):
    login(client, bob)
    body = client.get(october(PAGE)).content.decode()
    assert f"{PAGE}?month=2026-09" in body and f"{PAGE}?month=2026-11" in body
    current = timezone.localdate().strftime("%Y-%m")
    body = client.get(f"{PAGE}?month={current}").content.decode()
    assert 'rel="next"' not in body


# --- the files -----------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    """The data rows of a CSV download (after the preamble and the header)."""
    text = response.content.decode("utf-8-sig")
    delimiter = ";" if ";" in text.splitlines()[4] else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))[5:]


def workbook(response):
    return openpyxl.load_workbook(io.BytesIO(response.content)).active


def test_the_csv_is_pt_br_for_excel(client, ledger, dave):
    login(client, dave)
    response = client.get(october(CSV), HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith('-2026-10.csv"')
    assert "no-store" in response["Cache-Control"]
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[3] == ""
    header = lines[4].split(";")
    assert len(header) == 3 + len(PAYROLL_KINDS) + 1
    alice_line = next(line for line in lines if line.startswith("Lisbon;A1;"))
    assert alice_line.split(";")[3:] == ["1020", "15", "25", "100", "5", "-3", "-20", "1142"]


def test_the_csv_uses_commas_for_english_readers(client, ledger, dave):
    login(client, dave)
    lines = client.get(october(CSV)).content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Variable pay: October 2026"
    assert lines[4].startswith("Team,External id,Agent,Standards,Streak bonuses,Badges,")
    assert lines[4].endswith(",Total")


def test_the_same_ledger_gives_the_same_csv_but_for_the_produced_at_line(client, ledger, dave):
    login(client, dave)
    first = client.get(october(CSV)).content.decode("utf-8-sig").split("\r\n")
    award(ledger[0], 5, earned_on=date(2026, 11, 3))  # another month's entry changes nothing
    second = client.get(october(CSV)).content.decode("utf-8-sig").split("\r\n")
    assert first[2].startswith("Produced at ")
    assert first[:2] + first[3:] == second[:2] + second[3:]


def test_the_xlsx_reads_back_to_the_same_numbers(client, ledger, dave):
    login(client, dave)
    response = client.get(october(XLSX))
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = workbook(response)
    assert sheet.title == "2026-10"
    title = sheet["A1"].value
    assert title.startswith("Variable pay: October 2026 · Final") and "Produced at" in title
    header = [cell.value for cell in sheet[2]]
    assert header[:4] == ["Team", "External id", "Agent", "Standards"] and header[-1] == "Total"
    assert all(cell.font.b for cell in sheet[2])
    assert sheet.freeze_panes == "D3"
    api = client.get(october(API)).json()
    read = {row[2]: row[3:] for row in sheet.iter_rows(min_row=3, values_only=True)}
    for agent in api["agents"]:
        assert read[agent["name"]] == (
            *(agent["points"][kind] for kind in PAYROLL_KINDS),
            agent["total"],
        )
        assert all(isinstance(value, int) for value in read[agent["name"]])


def test_names_that_look_like_formulas_stay_text(client, lisbon, dave):
    agent = agent_in(lisbon, "mallory", first_name='=HYPERLINK("x")', last_name="")
    award(agent, 10, earned_on=date(2026, 10, 5))
    login(client, dave)
    (row,) = [r for r in csv_rows(client.get(october(CSV))) if "HYPERLINK" in r[2]]
    assert row[2] == '\'=HYPERLINK("x")'
    sheet = workbook(client.get(october(XLSX)))
    cell = next(c for c in sheet["C"] if c.value and "HYPERLINK" in str(c.value))
    assert cell.data_type == "s"


# --- the API -------------------------------------------------------------------------------


def test_the_api_says_the_month_its_status_and_totals(client, ledger, dave):
    login(client, dave)
    body = client.get(october(API)).json()
    assert body["month"]["key"] == "2026-10" and body["month"]["span"] == "month"
    assert body["final"] is True and body["pending_changes"] == 0
    assert body["status"].startswith("Final")
    assert body["totals"]["standard"] == 1060 and body["total"] == 1182
    alice = next(agent for agent in body["agents"] if agent["external_id"] == "A1")
    assert alice["points"]["compensation"] == -20 and alice["active"] is True


def test_the_payroll_endpoint_is_in_the_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/rewards/payroll"]["get"]
    assert [parameter["name"] for parameter in operation["parameters"]] == ["month"]
    assert {"200", "400", "403"} <= set(operation["responses"])
    points = schema["components"]["schemas"]["PayrollPoints"]["properties"]
    assert set(points) == set(PAYROLL_KINDS)
