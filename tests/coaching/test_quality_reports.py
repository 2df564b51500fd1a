"""QA reports (issue 10 §5): scores by month, team, agent and form, each section's and item's
earned share, the items each team misses most, hand-computed; calibration reviews never
count; each person sees the teams they review; the period's reviews as CSV and .xlsx."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from django.urls import reverse

from coaching.models import QAForm, QAItem, QASection
from coaching.selectors.quality_reports import qa_report
from coaching.services.quality import review_finish, review_start, version_rules
from coaching.services.quality_calibration import calibration_open, calibration_review
from tests.factories import make_interactions, make_quality_analyst

pytestmark = pytest.mark.django_db

OCT, NOV = date(2026, 10, 5), date(2026, 11, 9)


@pytest.fixture
def form(db):
    form = QAForm.objects.create(name="Voz")
    opening = QASection.objects.create(form=form, title="Abertura", position=1)
    QAItem.objects.create(section=opening, text="Saudação", weight=1, position=1)
    solving = QASection.objects.create(form=form, title="Solução", position=2)
    QAItem.objects.create(
        section=solving, text="Escuta", kind=QAItem.Kind.SCALE, scale_max=4, weight=2, position=1
    )
    QAItem.objects.create(section=solving, text="Protocolo", weight=1, position=2)
    return form


@pytest.fixture
def monitor(sao_paulo, lisbon):
    return make_quality_analyst(sao_paulo, lisbon, username="monica")


def reviewed(form, monitor, agent, source, on, answers) -> None:
    call = make_interactions(agent, source=source, on=on)[0]
    review = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    keys = [rule.key for rule in version_rules(review.version)]
    review_finish(
        review, reviewer=monitor, answers={k: (a, "") for k, a in zip(keys, answers, strict=True)}
    )


@pytest.fixture
def reviews(form, monitor, paulo, alice, source):
    # paulo (São Paulo): 100, then 25 (greeting yes, listening 0, protocol no)
    reviewed(form, monitor, paulo, source, OCT, ["yes", 4, "yes"])
    reviewed(form, monitor, paulo, source, NOV, ["yes", 0, "no"])
    # alice (Lisbon): 50 (no, 2 of 4, yes), then N/A protocol: (1 + 2) / 3 = 100
    reviewed(form, monitor, alice, source, OCT, ["no", 2, "yes"])
    reviewed(form, monitor, alice, source, NOV, ["yes", 4, "na"])


def test_scores_by_month_team_agent_and_form(reviews, monitor):
    report = qa_report(monitor, since=date(2026, 10, 1), until=date(2026, 11, 30))
    assert (report.reviews, report.mean) == (4, 68.75)  # (100 + 25 + 50 + 100) / 4
    assert [(line.key.month, line.reviews, line.mean) for line in report.by_month] == [
        (10, 2, 75.0),
        (11, 2, 62.5),
    ]
    assert {line.label: line.mean for line in report.by_team} == {"Lisbon": 75.0, "Sao Paulo": 62.5}
    assert [line.mean for line in report.by_agent] == [62.5, 75.0]  # lowest first
    assert [(line.label, line.reviews) for line in report.by_form] == [("Voz", 4)]


def test_items_sections_and_the_most_missed(reviews, monitor):
    report = qa_report(monitor, since=date(2026, 10, 1), until=date(2026, 11, 30))
    items = {line.text: line for line in report.items}
    assert (items["Saudação"].applicable, items["Saudação"].share) == (4, 0.75)
    assert items["Escuta"].share == (1 + 0 + 0.5 + 1) / 4
    assert (items["Protocolo"].applicable, items["Protocolo"].not_applicable) == (3, 1)
    sections = {line.section: line for line in report.sections}
    assert sections["Solução"].applicable == 7 and sections["Abertura"].applicable == 4
    assert [(section.section, [i.text for i in items]) for section, items in report.by_section] == [
        ("Abertura", ["Saudação"]),
        ("Solução", ["Escuta", "Protocolo"]),
    ]
    # Ranked only with 3 applicable answers in the team: none per team here...
    assert report.most_failed == {"Lisbon": [], "Sao Paulo": []}


def test_the_most_missed_items_rank_by_miss_rate(form, monitor, paulo, source):
    for answers in (["no", 0, "yes"], ["no", 1, "yes"], ["yes", 3, "no"]):
        reviewed(form, monitor, paulo, source, OCT, answers)
    report = qa_report(monitor, since=date(2026, 10, 1), until=date(2026, 10, 31))
    ranked = [(line.text, line.missed) for line in report.most_failed["Sao Paulo"]]
    assert ranked == [("Escuta", 2), ("Saudação", 2), ("Protocolo", 1)]


def test_calibration_reviews_never_count(reviews, form, monitor, sao_paulo, paulo, source, carol):
    call = make_interactions(paulo, source=source, on=OCT)[0]
    other = make_quality_analyst(sao_paulo, username="otto")
    session = calibration_open(
        by=carol,
        title="c",
        interaction_id=call.pk,
        form=form,
        participant_ids=[monitor.pk, other.pk],
    )
    review = calibration_review(session, reviewer=monitor)
    keys = [rule.key for rule in version_rules(review.version)]
    review_finish(
        review, reviewer=monitor, answers={k: ("no" if k != keys[1] else 0, "") for k in keys}
    )
    assert qa_report(monitor, since=date(2026, 10, 1), until=date(2026, 11, 30)).reviews == 4


def test_each_person_sees_the_teams_they_review(reviews, carol, bob, dave):
    since, until = date(2026, 10, 1), date(2026, 11, 30)
    assert {line.label for line in qa_report(carol, since=since, until=until).by_team} == {
        "Sao Paulo"
    }
    assert {line.label for line in qa_report(bob, since=since, until=until).by_team} == {"Lisbon"}
    assert qa_report(dave, since=since, until=until).reviews == 4


class TestPages:
    def test_the_report_page_per_role(self, client, reviews, monitor, carol, paulo):
        url = reverse("coaching:quality-reports")
        client.force_login(carol)
        page = client.get(url, {"since": "2026-10-01", "until": "2026-11-30"})
        assert page.status_code == 200
        html = page.content.decode()
        assert "2 reviews" in html and "Sao Paulo" in html and "Lisbon" not in html
        bad = client.get(url, {"since": "2026-12-01", "until": "2026-10-01"})
        assert bad.status_code == 400 and "The start comes after the end." in bad.content.decode()
        client.force_login(paulo.user)
        assert client.get(url).status_code == 404

    def test_the_reviews_export_as_csv_and_xlsx(self, client, reviews, monitor, carol, paulo):
        client.force_login(carol)
        query = {"since": "2026-10-01", "until": "2026-11-30"}
        csv = client.get(reverse("coaching:quality-reports-export", args=["csv"]), query)
        assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
        lines = csv.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("QA reviews:") and len(lines) == 5 + 2  # title lines + 2 rows
        xlsx = client.get(reverse("coaching:quality-reports-export", args=["xlsx"]), query)
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
        rows = list(sheet.iter_rows(min_row=3, values_only=True))
        assert [row[10] for row in rows] == [100, 25]  # scores, typed, oldest first
        assert (
            client.get(reverse("coaching:quality-reports-export", args=["pdf"]), query).status_code
            == 404
        )
        client.force_login(paulo.user)
        assert (
            client.get(reverse("coaching:quality-reports-export", args=["csv"]), query).status_code
            == 404
        )
