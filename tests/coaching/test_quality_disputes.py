"""Disputes (issue 10 §2): the agent contests items of a finished review within the form's
window, with a comment, up to its rounds, one open at a time; another reviewer of the team or
an admin decides: accepting changes the answers and the score (re-scoring its period once),
rejecting keeps it and says why. The reviewer never decides their own review."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from coaching.models import QADispute, QAForm, QAItem, QAReview, QASection
from coaching.selectors.quality import disputes_to_decide, may_decide_dispute
from coaching.services.quality import review_finish, review_start, version_rules
from coaching.services.quality_disputes import (
    dispute_accept,
    dispute_deadline,
    dispute_open,
    dispute_reject,
)
from performance.models import Evaluation, EvaluationChange, Notification
from performance.services.evaluation import evaluate_periods
from tests.factories import make_interactions, make_quality_analyst, make_standard

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 5)


@pytest.fixture
def form(db):
    form = QAForm.objects.create(name="Monitoria", dispute_days=5, dispute_rounds=2)
    section = QASection.objects.create(form=form, title="Atendimento")
    QAItem.objects.create(section=section, text="Saudação", weight=1, position=1)
    QAItem.objects.create(section=section, text="Solução", weight=3, position=2)
    return form


@pytest.fixture
def monitor(sao_paulo):
    return make_quality_analyst(sao_paulo, username="monica")


@pytest.fixture
def call(paulo, source):
    return make_interactions(paulo, source=source, on=DAY)[0]


@pytest.fixture
def review(form, monitor, call):
    review = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    greeting, solution = keys(review)
    return review_finish(
        review, reviewer=monitor, answers={greeting: ("yes", ""), solution: ("no", "Errou")}
    )


def keys(review: QAReview) -> list[str]:
    return [rule.key for rule in version_rules(review.version)]


def test_the_agent_contests_items_with_a_comment(review, paulo, carol):
    _greeting, solution = keys(review)
    dispute = dispute_open(review, user=paulo.user, items=[solution], comment=" Resolvi sim ")
    assert (dispute.round, dispute.items, dispute.comment, dispute.status) == (
        1,
        [solution],
        "Resolvi sim",
        "open",
    )
    assert list(disputes_to_decide(carol)) == [dispute]


def test_what_a_dispute_needs(review, paulo, alice):
    _greeting, solution = keys(review)
    with pytest.raises(ValidationError) as error:
        dispute_open(review, user=paulo.user, items=[], comment="")
    assert set(error.value.message_dict) == {"items", "comment"}
    with pytest.raises(ValidationError):
        dispute_open(review, user=paulo.user, items=["999"], comment="x")
    with pytest.raises(ValidationError):
        dispute_open(review, user=alice.user, items=[solution], comment="not mine")
    assert not QADispute.objects.exists()


def test_the_window_runs_from_the_review_then_from_each_decision(review, paulo, carol):
    greeting, solution = keys(review)
    deadline = review.finished_at + timedelta(days=5)
    assert dispute_deadline(review) == deadline
    with pytest.raises(ValidationError):
        dispute_open(
            review, user=paulo.user, items=[solution], comment="late", now=deadline + timedelta(1)
        )
    first = dispute_open(review, user=paulo.user, items=[solution], comment="in time", now=deadline)
    assert dispute_deadline(review) is None  # one open at a time
    with pytest.raises(ValidationError):
        dispute_open(review, user=paulo.user, items=[greeting], comment="again")
    first = dispute_reject(first, user=carol, reason="A solução não foi confirmada")
    assert dispute_deadline(review) == first.decided_at + timedelta(days=5)


def test_rounds_are_limited_by_the_form(review, paulo, carol):
    _greeting, solution = keys(review)
    for round_number in (1, 2):
        dispute = dispute_open(review, user=paulo.user, items=[solution], comment="de novo")
        assert dispute.round == round_number
        dispute_reject(dispute, user=carol, reason="Mantida")
    assert dispute_deadline(review) is None
    with pytest.raises(ValidationError):
        dispute_open(review, user=paulo.user, items=[solution], comment="terceira")


def test_a_form_without_a_window_takes_no_disputes(review, paulo, form):
    form.dispute_days = 0
    form.save()
    review.refresh_from_db()
    with pytest.raises(ValidationError):
        dispute_open(review, user=paulo.user, items=keys(review)[:1], comment="x")


def test_accepting_changes_the_answers_the_score_and_its_period_once(
    review, paulo, carol, call, django_capture_on_commit_callbacks
):
    standard = make_standard(metric="qa", target=80)
    evaluate_periods(since=DAY, until=DAY)
    assert Evaluation.objects.get(standard=standard).value == 25.0
    _greeting, solution = keys(review)
    dispute = dispute_open(review, user=paulo.user, items=[solution], comment="Resolvi")
    with django_capture_on_commit_callbacks(execute=True):
        dispute = dispute_accept(
            dispute, user=carol, answers={solution: ("yes", "Confirmado na gravação")}, reason="ok"
        )
    assert (dispute.status, dispute.changes, dispute.score_before, dispute.score_after) == (
        "accepted",
        {solution: ["no", "yes"]},
        25.0,
        100.0,
    )
    review.refresh_from_db()
    call.refresh_from_db()
    assert review.score == call.qa_score == 100.0
    assert review.answers.get(key=solution).comment == "Confirmado na gravação"
    assert Evaluation.objects.get(standard=standard).value == 100.0
    assert EvaluationChange.objects.filter(batch_id=review.batch_id).count() == 1
    assert Notification.objects.filter(user=paulo.user, key__endswith=":decided").exists()


def test_accepting_must_change_a_contested_answer(review, paulo, carol):
    greeting, solution = keys(review)
    dispute = dispute_open(review, user=paulo.user, items=[solution], comment="Resolvi")
    with pytest.raises(ValidationError):
        dispute_accept(dispute, user=carol, answers={solution: ("no", "")})
    with pytest.raises(ValidationError) as error:
        dispute_accept(dispute, user=carol, answers={greeting: ("no", "")})  # not contested
    assert greeting in error.value.message_dict
    with pytest.raises(ValidationError):
        dispute_accept(dispute, user=carol, answers={solution: ("maybe", "")})
    assert QADispute.objects.get().status == "open"


def test_rejecting_needs_a_reason_and_keeps_the_score(review, paulo, carol, call):
    dispute = dispute_open(review, user=paulo.user, items=keys(review)[1:], comment="x")
    with pytest.raises(ValidationError):
        dispute_reject(dispute, user=carol, reason="  ")
    dispute = dispute_reject(dispute, user=carol, reason="Gravação confirma a nota")
    call.refresh_from_db()
    assert dispute.status == "rejected" and call.qa_score == 25.0


def test_who_decides(review, paulo, monitor, carol, bob, dave, sao_paulo):
    colleague = make_quality_analyst(sao_paulo, username="otavio")
    assert [
        may_decide_dispute(user, review) for user in (monitor, carol, colleague, dave, bob)
    ] == [
        False,  # wrote it
        True,  # the team's supervisor
        True,  # another analyst of the team
        True,  # admin
        False,  # another team's lead
    ]
    dispute = dispute_open(review, user=paulo.user, items=keys(review)[1:], comment="x")
    for user in (monitor, bob, paulo.user):
        with pytest.raises(ValidationError):
            dispute_reject(dispute, user=user, reason="no")
    assert list(disputes_to_decide(monitor)) == [] and list(disputes_to_decide(bob)) == []
    assert Notification.objects.filter(key__endswith=":opened").count() == 0  # after commit


def test_deciders_are_told_after_commit(
    review, paulo, monitor, carol, sao_paulo, django_capture_on_commit_callbacks
):
    colleague = make_quality_analyst(sao_paulo, username="otavio")
    with django_capture_on_commit_callbacks(execute=True):
        dispute_open(review, user=paulo.user, items=keys(review)[1:], comment="x")
    told = set(Notification.objects.filter(key__endswith=":opened").values_list("user", flat=True))
    assert told == {carol.pk, colleague.pk}  # not the reviewer


def test_a_decided_dispute_is_not_decided_again(review, paulo, carol, dave):
    dispute = dispute_open(review, user=paulo.user, items=keys(review)[1:], comment="x")
    dispute_reject(dispute, user=carol, reason="Mantida")
    with pytest.raises(ValidationError):
        dispute_accept(dispute, user=dave, answers={keys(review)[1]: ("yes", "")})
    assert timezone.now() >= QADispute.objects.get().decided_at


def test_admins_read_disputes_and_change_none(admin_client, review, paulo, form):
    from django.urls import reverse

    dispute = dispute_open(review, user=paulo.user, items=keys(review)[1:], comment="Resolvi")
    page = admin_client.get(reverse("admin:coaching_qadispute_change", args=[dispute.pk]))
    assert page.status_code == 200 and "Resolvi" in page.content.decode()
    assert admin_client.get(reverse("admin:coaching_qadispute_add")).status_code == 403
    review_page = admin_client.get(reverse("admin:coaching_qareview_change", args=[review.pk]))
    assert "Resolvi" in review_page.content.decode()
    form_page = admin_client.get(reverse("admin:coaching_qaform_change", args=[form.pk]))
    assert 'name="dispute_days"' in form_page.content.decode()
