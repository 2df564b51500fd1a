"""Mystery shopping (issue 10 §4): reviews on a mystery-shopping form write the interaction's
mystery-shopper score through the same audited path (never its QA score), a shopper vendor's
file maps onto mystery_score with the feeds' mapping tools, a standard of its own evaluates it,
and reports keep it apart from quality monitoring."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from coaching.models import QAForm, QAItem, QASection
from coaching.selectors.quality_reports import qa_report
from coaching.services.quality import review_finish, review_start, version_rules
from performance.feeds import guess_field
from performance.models import Evaluation, FeedBatch, Interaction
from performance.services.evaluation import evaluate_periods
from tests.factories import make_interactions, make_quality_analyst, make_standard
from tests.performance.helpers import ingest_text

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 5)


@pytest.fixture
def mystery_form(db):
    form = QAForm.objects.create(name="Cliente oculto", kind=QAForm.Kind.MYSTERY)
    section = QASection.objects.create(form=form, title="Jornada")
    QAItem.objects.create(section=section, text="Ofereceu o produto certo", weight=3)
    QAItem.objects.create(section=section, text="Despedida", weight=1, position=2)
    return form


@pytest.fixture
def monitor(sao_paulo):
    return make_quality_analyst(sao_paulo, username="monica")


def finish(form, monitor, call, answers):
    review = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    keys = [rule.key for rule in version_rules(review.version)]
    return review_finish(
        review, reviewer=monitor, answers={k: (a, "") for k, a in zip(keys, answers, strict=True)}
    )


def test_a_mystery_review_writes_the_mystery_score_only(mystery_form, monitor, paulo, source):
    call = make_interactions(paulo, source=source, on=DAY, qa_score=80)[0]
    review = finish(mystery_form, monitor, call, ["yes", "no"])
    call.refresh_from_db()
    assert (call.mystery_score, call.qa_score, call.qa_reviewed) == (75.0, 80.0, False)
    assert review.batch.via == FeedBatch.Via.REVIEW


def test_a_standard_of_its_own_evaluates_it(
    mystery_form, monitor, paulo, source, django_capture_on_commit_callbacks
):
    mystery = make_standard(name="Cliente oculto", metric="mystery", target=80)
    quality = make_standard(name="Qualidade", metric="qa", target=80)
    call = make_interactions(paulo, source=source, on=DAY, qa_score=90)[0]
    evaluate_periods(since=DAY, until=DAY)
    with django_capture_on_commit_callbacks(execute=True):
        finish(mystery_form, monitor, call, ["yes", "yes"])
    assert Evaluation.objects.get(standard=mystery).value == 100.0
    assert Evaluation.objects.get(standard=quality).value == 90.0


def test_a_shopper_vendors_file_maps_onto_the_mystery_score(source, paulo, tmp_path):
    assert guess_field("Nota do cliente oculto") == "mystery_score"
    make_interactions(paulo, source=source, on=DAY)
    external_id = Interaction.objects.get().external_id
    source.column_mapping = {"Protocolo": "external_id", "Nota do cliente oculto": "mystery_score"}
    source.save()
    batch = ingest_text(source, f"Protocolo,Nota do cliente oculto\n{external_id},62.5\n", tmp_path)
    assert batch.updated_count == 1 and Interaction.objects.get().mystery_score == 62.5
    refused = ingest_text(
        source, f"Protocolo,Nota do cliente oculto\n{external_id},140\n", tmp_path, name="b.csv"
    )
    assert refused.rejected_count == 1 and Interaction.objects.get().mystery_score == 62.5


def test_reports_keep_mystery_shopping_apart(mystery_form, monitor, paulo, source, client, carol):
    regular = QAForm.objects.create(name="Voz")
    section = QASection.objects.create(form=regular, title="Tudo")
    QAItem.objects.create(section=section, text="Saudação")
    QAItem.objects.create(section=section, text="Solução", position=2)
    calls = make_interactions(paulo, source=source, on=DAY, count=2)
    finish(mystery_form, monitor, calls[0], ["no", "yes"])
    finish(regular, monitor, calls[1], ["yes", "yes"])
    since, until = date(2026, 10, 1), date(2026, 10, 31)
    assert qa_report(monitor, since=since, until=until).mean == 100.0
    assert qa_report(monitor, since=since, until=until, kind="mystery").mean == 25.0
    client.force_login(carol)
    page = client.get(
        reverse("coaching:quality-reports"),
        {"kind": "mystery", "since": "2026-10-01", "until": "2026-10-31"},
    )
    assert page.status_code == 200 and "Cliente oculto" in page.content.decode()
