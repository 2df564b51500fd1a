"""Calibration (issue 10 §3): reviewers score one interaction blind on the same version, the
spread shows once one's own review is finished, the facilitator records the reference and
closes; alignment per reviewer, over time; calibration never touches the agent's scores."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coaching.models import QACalibration, QAForm, QAItem, QAReview, QASection
from coaching.selectors.quality import (
    agent_reviews,
    alignment_over_time,
    calibration_alignment,
    calibration_spread,
    may_see_spread,
    reviews_visible_to,
)
from coaching.services.quality import review_answers_save, review_finish, version_rules
from coaching.services.quality_calibration import (
    calibration_close,
    calibration_open,
    calibration_review,
)
from performance.models import Evaluation, FeedBatch
from performance.services.evaluation import evaluate_periods
from tests.factories import make_interactions, make_quality_analyst, make_standard

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 5)


@pytest.fixture
def form(db):
    form = QAForm.objects.create(name="Voz")
    section = QASection.objects.create(form=form, title="Atendimento")
    QAItem.objects.create(section=section, text="Saudação", weight=1, position=1)
    QAItem.objects.create(section=section, text="Solução", weight=3, position=2)
    return form


@pytest.fixture
def analysts(sao_paulo):
    return [make_quality_analyst(sao_paulo, username=name) for name in ("ana", "caio", "duda")]


@pytest.fixture
def call(paulo, source):
    return make_interactions(paulo, source=source, on=DAY, qa_score=70)[0]


@pytest.fixture
def session(form, analysts, call, carol):
    return calibration_open(
        by=carol,
        title="Calibração outubro",
        interaction_id=call.pk,
        form=form,
        participant_ids=[a.pk for a in analysts],
    )


def score(calibration, reviewer, greeting: str, solution: str) -> QAReview:
    review = calibration_review(calibration, reviewer=reviewer)
    g, s = (rule.key for rule in version_rules(review.version))
    return review_finish(review, reviewer=reviewer, answers={g: (greeting, ""), s: (solution, "")})


def keys(calibration) -> list[str]:
    return [
        item["key"]
        for section in calibration.version.structure["sections"]
        for item in section["items"]
    ]


def test_opening_needs_reviewers_of_the_interactions_team(form, analysts, call, carol, bob, lisbon):
    with pytest.raises(ValidationError) as error:
        calibration_open(
            by=carol, title="", interaction_id=call.pk, form=form, participant_ids=[analysts[0].pk]
        )
    assert set(error.value.message_dict) == {"title", "participants"}
    outsider = make_quality_analyst(lisbon, username="lia")
    with pytest.raises(ValidationError) as error:
        calibration_open(
            by=carol,
            title="x",
            interaction_id=call.pk,
            form=form,
            participant_ids=[analysts[0].pk, outsider.pk],
        )
    assert "lia" in str(error.value) or outsider.get_full_name() in str(error.value)
    with pytest.raises(ValidationError):
        calibration_open(
            by=bob,
            title="x",
            interaction_id=call.pk,
            form=form,
            participant_ids=[a.pk for a in analysts],
        )
    assert not QACalibration.objects.exists()


def test_scoring_is_blind_until_ones_own_review_is_finished(session, analysts, carol):
    ana, caio, _duda = analysts
    score(session, ana, "yes", "no")
    assert may_see_spread(ana, session) and not may_see_spread(caio, session)
    assert may_see_spread(carol, session)  # the facilitator scores none
    calibration_review(session, reviewer=caio)  # a draft is not enough
    assert not may_see_spread(caio, session)
    spread = {item.key: item for item in calibration_spread(session)}
    assert [answer for _name, answer in spread[keys(session)[1]].answers] == ["no"]


def test_the_spread_reference_and_alignment(session, analysts, carol):
    ana, caio, duda = analysts
    score(session, ana, "yes", "no")
    score(session, caio, "yes", "yes")
    score(session, duda, "no", "yes")
    greeting, solution = keys(session)
    spread = {item.key: item for item in calibration_spread(session)}
    assert spread[greeting].counts == [("yes", 2), ("no", 1)]
    assert round(spread[solution].agreement, 2) == 0.67
    closed = calibration_close(
        session,
        by=carol,
        answers={greeting: ("yes", ""), solution: ("yes", "")},
        notes="Solução confirmada",
    )
    assert closed.status == "closed" and closed.reference.score == 100.0
    results = {row.reviewer_id: row for row in calibration_alignment(closed)}
    assert (results[ana.pk].agreed, results[ana.pk].score_gap) == (1, -75.0)
    assert (results[caio.pk].agreed, results[caio.pk].score_gap) == (2, 0.0)
    assert (results[duda.pk].agreed, results[duda.pk].score_gap) == (1, -25.0)
    rows = {row.reviewer: row for row in alignment_over_time(carol)}
    assert rows[caio.get_full_name()].agreement == 1.0
    own = alignment_over_time(ana)
    assert [row.reviewer for row in own] == [ana.get_full_name()]


def test_closing_is_the_facilitators_and_needs_a_finished_review(session, analysts, carol):
    greeting, solution = keys(session)
    answers = {greeting: ("yes", ""), solution: ("yes", "")}
    with pytest.raises(ValidationError):
        calibration_close(session, by=carol, answers=answers)  # nobody finished
    score(session, analysts[0], "yes", "yes")
    with pytest.raises(ValidationError):
        calibration_close(session, by=analysts[0], answers=answers)
    with pytest.raises(ValidationError):
        calibration_close(session, by=carol, answers={greeting: ("yes", "")})  # every item
    calibration_close(session, by=carol, answers=answers)
    with pytest.raises(ValidationError):
        calibration_review(session, reviewer=analysts[1])  # closed: no new review


def test_a_draft_left_open_cannot_be_finished_after_closing(session, analysts, carol):
    draft = calibration_review(session, reviewer=analysts[1])
    score(session, analysts[0], "yes", "yes")
    greeting, solution = keys(session)
    calibration_close(session, by=carol, answers={greeting: ("yes", ""), solution: ("yes", "")})
    with pytest.raises(ValidationError):
        review_answers_save(draft, reviewer=analysts[1], answers={greeting: ("no", "")})


def test_calibration_never_touches_the_agents_scores(
    session, analysts, carol, call, paulo, django_capture_on_commit_callbacks
):
    standard = make_standard(metric="qa", target=80)
    evaluate_periods(since=DAY, until=DAY)
    before = Evaluation.objects.get(standard=standard).value
    with django_capture_on_commit_callbacks(execute=True):
        score(session, analysts[0], "yes", "yes")
        greeting, solution = keys(session)
        calibration_close(session, by=carol, answers={greeting: ("no", ""), solution: ("no", "")})
    call.refresh_from_db()
    assert (call.qa_score, call.qa_reviewed) == (70.0, False)
    assert Evaluation.objects.get(standard=standard).value == before
    assert not FeedBatch.objects.filter(via=FeedBatch.Via.REVIEW).exists()
    assert QAReview.objects.filter(calibration=session, batch__isnull=False).count() == 0
    # Nor does the agent, nor their lead outside the session, see it.
    assert not agent_reviews(paulo).exists()
    assert not reviews_visible_to(paulo.user).exists()
    reference = QACalibration.objects.get().reference
    assert set(reviews_visible_to(carol)) == {reference}  # only her own reference


def test_a_calibration_review_cannot_be_disputed(session, analysts, paulo):
    from coaching.services.quality_disputes import dispute_deadline

    review = score(session, analysts[0], "yes", "yes")
    assert dispute_deadline(review) is None


class TestPages:
    def test_opening_a_session_from_the_page(self, client, form, analysts, call, carol):
        client.force_login(carol)
        page = client.get(reverse("coaching:calibrations"))
        assert page.status_code == 200 and analysts[0].get_full_name() in page.content.decode()
        response = client.post(
            reverse("coaching:calibrations"),
            {
                "title": "Outubro",
                "interaction": call.external_id,
                "form": form.pk,
                "participants": [analysts[0].pk, analysts[1].pk],
            },
        )
        calibration = QACalibration.objects.get()
        assert response.url == reverse("coaching:calibration", args=[calibration.pk])
        refused = client.post(
            reverse("coaching:calibrations"),
            {
                "title": "x",
                "interaction": "nope",
                "form": form.pk,
                "participants": [analysts[0].pk],
            },
        )
        assert refused.status_code == 400 and QACalibration.objects.count() == 1

    def test_a_participant_scores_blind_then_sees_the_spread(self, client, session, analysts):
        _ana, caio, _duda = analysts
        client.force_login(caio)
        url = reverse("coaching:calibration", args=[session.pk])
        assert 'data-testid="blind"' in client.get(url).content.decode()
        response = client.post(url, {"action": "score"})
        review = QAReview.objects.get(calibration=session, reviewer=caio)
        assert response.url == reverse("coaching:review", args=[review.pk])
        greeting, solution = keys(session)
        finished = client.post(
            reverse("coaching:review", args=[review.pk]),
            {f"answer-{greeting}": "yes", f"answer-{solution}": "no", "action": "finish"},
        )
        assert finished.url == url
        assert 'data-testid="spread"' in client.get(url).content.decode()

    def test_the_facilitator_closes_from_the_page(self, client, session, analysts, carol):
        score(session, analysts[0], "yes", "no")
        client.force_login(carol)
        url = reverse("coaching:calibration", args=[session.pk])
        assert 'data-testid="close-form"' in client.get(url).content.decode()
        greeting, solution = keys(session)
        response = client.post(
            url, {"action": "close", f"answer-{greeting}": "yes", f"answer-{solution}": "yes"}
        )
        assert response.status_code == 302
        html = client.get(url).content.decode()
        assert 'data-testid="alignment"' in html
        assert client.get(reverse("coaching:calibration-alignment")).status_code == 200

    def test_who_opens_a_session(self, client, session, analysts, carol, bob, paulo, dave):
        url = reverse("coaching:calibration", args=[session.pk])
        for user, status in [
            (analysts[0], 200),
            (carol, 200),
            (dave, 200),
            (bob, 404),
            (paulo.user, 404),
        ]:
            client.force_login(user)
            assert client.get(url).status_code == status, user
        client.force_login(bob)
        assert client.post(url, {"action": "score"}).status_code == 404
        client.force_login(paulo.user)
        assert client.get(reverse("coaching:calibrations")).status_code == 404


def test_answers_read_in_the_readers_language(client, session, analysts, carol):
    from django.utils import translation

    from coaching.templatetags.quality import qa_answer

    score(session, analysts[0], "yes", "no")
    with translation.override("pt-br"):
        assert [qa_answer(a) for a in ("yes", "no", "na", "4", "")] == [
            "Sim",
            "Não",
            "Não se aplica",
            "4",
            "—",
        ]
    client.force_login(carol)
    html = client.get(reverse("coaching:calibration", args=[session.pk])).content.decode()
    times = "\N{MULTIPLICATION SIGN}"
    assert f"Yes {times} 1" in html and f"No {times} 1" in html


def test_the_alignment_page_per_role(client, session, analysts, carol, paulo, bob):
    greeting, solution = keys(session)
    score(session, analysts[0], "yes", "no")
    calibration_close(session, by=carol, answers={greeting: ("yes", ""), solution: ("yes", "")})
    url = reverse("coaching:calibration-alignment")
    client.force_login(carol)
    assert analysts[0].get_full_name() in client.get(url).content.decode()
    client.force_login(bob)  # another team's lead: not in the session
    assert analysts[0].get_full_name() not in client.get(url).content.decode()
    client.force_login(paulo.user)
    assert client.get(url).status_code == 404
