"""Finishing a review (issue 10 §2): every item answered and one applicable; the score set on
the interaction through performance's audited write path, re-scoring its period exactly once
and flowing into `qa` standards; a feed's later score kept aside, never winning."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from coaching.models import QAForm, QAItem, QAReview, QASection
from coaching.services.quality import (
    NO,
    NOT_APPLICABLE,
    YES,
    review_answers_save,
    review_finish,
    review_start,
    version_rules,
)
from performance.models import Channel, Evaluation, EvaluationChange, FeedBatch
from performance.services.evaluation import evaluate_periods
from tests.factories import make_interactions, make_quality_analyst, make_standard

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 5)


@pytest.fixture
def form(db):
    phone, _ = Channel.objects.get_or_create(code="phone", defaults={"name": "Telefone"})
    form = QAForm.objects.create(name="Monitoria telefone", channel=phone)
    section = QASection.objects.create(form=form, title="Atendimento")
    QAItem.objects.create(section=section, text="Saudação", weight=2, position=1)
    QAItem.objects.create(
        section=section, text="Empatia", kind=QAItem.Kind.SCALE, scale_max=5, weight=4, position=2
    )
    QAItem.objects.create(
        section=section, text="LGPD", critical=True, allows_na=False, weight=1, position=3
    )
    return form


@pytest.fixture
def monitor(sao_paulo):
    return make_quality_analyst(sao_paulo, username="monica")


@pytest.fixture
def calls(paulo, source):
    return make_interactions(paulo, source=source, on=DAY, count=2, qa_score=[50, 60])


def started(form, monitor, call) -> tuple[QAReview, list[str]]:
    review = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    return review, [rule.key for rule in version_rules(review.version)]


def test_finishing_needs_every_item_answered(form, monitor, calls):
    review, (greeting, empathy, lgpd) = started(form, monitor, calls[0])
    review_answers_save(review, reviewer=monitor, answers={greeting: (YES, "")})
    with pytest.raises(ValidationError) as error:
        review_finish(review, reviewer=monitor)
    assert set(error.value.message_dict) == {empathy, lgpd}
    review.refresh_from_db()
    calls[0].refresh_from_db()
    assert review.status == "draft" and calls[0].qa_score == 50.0
    assert not FeedBatch.objects.filter(via=FeedBatch.Via.REVIEW).exists()


def test_a_review_where_nothing_applies_cannot_finish(monitor, calls):
    form = QAForm.objects.create(name="Só N/A")
    section = QASection.objects.create(form=form, title="Tudo")
    QAItem.objects.create(section=section, text="Oferta", weight=1)
    review, (offer,) = started(form, monitor, calls[0])
    with pytest.raises(ValidationError):
        review_finish(review, reviewer=monitor, answers={offer: (NOT_APPLICABLE, "")})
    assert QAReview.objects.get(pk=review.pk).status == "draft"


def test_a_finished_review_sets_the_score_and_rescores_its_period_once(
    form, monitor, calls, paulo, django_capture_on_commit_callbacks
):
    standard = make_standard(metric="qa", target=80)
    evaluate_periods(since=DAY, until=DAY)
    assert Evaluation.objects.get(standard=standard, agent=paulo).value == 55.0
    review, (greeting, empathy, lgpd) = started(form, monitor, calls[0])
    with django_capture_on_commit_callbacks(execute=True):
        review = review_finish(
            review,
            reviewer=monitor,
            answers={greeting: (YES, ""), empathy: (5, "Muito cordial"), lgpd: (YES, "")},
            comment="Excelente",
        )
    assert (review.status, review.score, review.comment) == ("finished", 100.0, "Excelente")
    assert review.finished_at is not None and review.batch.via == FeedBatch.Via.REVIEW
    calls[0].refresh_from_db()
    assert (calls[0].qa_score, calls[0].feed_qa_score, calls[0].qa_reviewed) == (100, 50, True)
    evaluation = Evaluation.objects.get(standard=standard, agent=paulo)
    assert (evaluation.value, evaluation.outcome) == (80.0, "met")  # mean of 100 and 60
    assert EvaluationChange.objects.filter(batch_id=review.batch_id).count() == 1


def test_a_critical_no_finishes_at_zero(form, monitor, calls):
    review, (greeting, empathy, lgpd) = started(form, monitor, calls[1])
    review = review_finish(
        review,
        reviewer=monitor,
        answers={greeting: (YES, ""), empathy: (5, ""), lgpd: (NO, "Pediu o CPF completo")},
    )
    calls[1].refresh_from_db()
    assert review.score == 0.0 and calls[1].qa_score == 0.0


def test_a_finished_review_no_longer_changes(form, monitor, calls, carol):
    review, (greeting, empathy, lgpd) = started(form, monitor, calls[0])
    answers = {greeting: (YES, ""), empathy: (4, ""), lgpd: (YES, "")}
    with pytest.raises(ValidationError):
        review_finish(review, reviewer=carol, answers={})  # not carol's review
    review_finish(review, reviewer=monitor, answers=answers)
    with pytest.raises(ValidationError):
        review_finish(review, reviewer=monitor)
    with pytest.raises(ValidationError):
        review_answers_save(review, reviewer=monitor, answers={greeting: (NO, "")})
    assert FeedBatch.objects.filter(via=FeedBatch.Via.REVIEW).count() == 1


def test_a_reviewer_who_lost_the_team_cannot_finish(form, monitor, calls, sao_paulo):
    review, (greeting, empathy, lgpd) = started(form, monitor, calls[0])
    sao_paulo.quality_analysts.remove(monitor)
    with pytest.raises(ValidationError) as error:
        review_finish(
            review,
            reviewer=monitor,
            answers={greeting: (YES, ""), empathy: (4, ""), lgpd: (YES, "")},
        )
    assert calls[0].external_id in str(error.value)
    calls[0].refresh_from_db()
    assert calls[0].qa_score == 50.0 and QAReview.objects.get(pk=review.pk).status == "draft"
