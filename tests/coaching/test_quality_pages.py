"""The monitoria pages (issue 10 §2): a reviewer's monitoria with search, starting, saving
and finishing a review; an agent's own reviews and their acknowledgement. Every page and
action per role: reviewers reach only the teams they review, an agent only their own
finished reviews, nobody another reviewer's drafts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coaching.models import QAForm, QAItem, QAReview, QASection
from coaching.services.quality import review_finish, review_start, version_rules
from performance.models import Channel
from tests.factories import InteractionFactory, make_quality_analyst

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(db):
    phone, _ = Channel.objects.get_or_create(code="phone", defaults={"name": "Telefone"})
    form = QAForm.objects.create(name="Monitoria telefone", channel=phone)
    section = QASection.objects.create(form=form, title="Atendimento")
    QAItem.objects.create(section=section, text="Saudação", weight=2, position=1)
    QAItem.objects.create(
        section=section, text="Empatia", kind=QAItem.Kind.SCALE, scale_max=5, weight=4, position=2
    )
    return form


@pytest.fixture
def monitor(sao_paulo):
    return make_quality_analyst(sao_paulo, username="monica")


@pytest.fixture
def call(paulo, source):
    return InteractionFactory(
        agent=paulo, source=source, channel="phone", external_id="SP-100", case_id="PROT-77"
    )


@pytest.fixture
def lisbon_call(alice, source):
    return InteractionFactory(agent=alice, source=source, channel="phone", external_id="LX-200")


def keys(review: QAReview) -> list[str]:
    return [rule.key for rule in version_rules(review.version)]


@pytest.fixture
def finished(form, monitor, call):
    review = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    greeting, empathy = keys(review)
    return review_finish(
        review,
        reviewer=monitor,
        answers={greeting: ("yes", "Saudou pelo nome"), empathy: (3, "Pouco empático")},
        comment="Bom atendimento",
    )


class TestMonitoringPage:
    def test_per_role(self, client, monitor, carol, bob, dave, paulo, call, lisbon_call, form):
        url = reverse("coaching:quality")
        for user, sees in [(monitor, True), (carol, True), (bob, False), (dave, True)]:
            client.force_login(user)
            page = client.get(url)
            assert page.status_code == 200
            html = page.content.decode()
            assert ("SP-100" in html) is sees, user
            assert ("LX-200" in html) is (user in (bob, dave)), user
        client.force_login(paulo.user)
        assert client.get(url).status_code == 404
        client.logout()
        assert client.get(url).status_code == 302

    def test_search_by_protocol_swaps_the_table(self, client, monitor, call, paulo, source, form):
        InteractionFactory(agent=paulo, source=source, channel="phone", external_id="SP-999")
        client.force_login(monitor)
        page = client.get(
            reverse("coaching:quality"), {"reference": "prot-7"}, HTTP_HX_REQUEST="true"
        )
        html = page.content.decode()
        assert 'id="interactions"' in html and "SP-100" in html and "SP-999" not in html
        assert "<html" not in html

    def test_a_bad_search_says_why(self, client, monitor):
        client.force_login(monitor)
        page = client.get(reverse("coaching:quality"), {"day": "31/31/2026", "agent": "x"})
        assert page.status_code == 200
        assert "That search cannot be run." in page.content.decode()


class TestStarting:
    def test_a_reviewer_starts_a_review_and_lands_on_its_form(self, client, monitor, call, form):
        client.force_login(monitor)
        response = client.post(
            reverse("coaching:review-start"), {"interaction": call.pk, "form": form.pk}
        )
        review = QAReview.objects.get()
        assert response.url == reverse("coaching:review", args=[review.pk])
        page = client.get(response.url).content.decode()
        assert 'data-testid="review-form"' in page and "Saudação" in page

    def test_outside_the_teams_reviewed_nothing_starts(self, client, monitor, lisbon_call, form):
        client.force_login(monitor)
        response = client.post(
            reverse("coaching:review-start"),
            {"interaction": lisbon_call.pk, "form": form.pk},
            follow=True,
        )
        assert "You may not review this interaction." in response.content.decode()
        assert not QAReview.objects.exists()

    def test_agents_cannot_start(self, client, paulo, call, form):
        client.force_login(paulo.user)
        response = client.post(
            reverse("coaching:review-start"), {"interaction": call.pk, "form": form.pk}
        )
        assert response.status_code == 404 and not QAReview.objects.exists()

    def test_a_malformed_start_says_what_is_missing(self, client, monitor):
        client.force_login(monitor)
        response = client.post(reverse("coaching:review-start"), {"interaction": "x"}, follow=True)
        assert "Choose an interaction and a form" in response.content.decode()


class TestReviewForm:
    @pytest.fixture
    def draft(self, form, monitor, call):
        return review_start(reviewer=monitor, interaction_id=call.pk, form=form)

    def test_saving_keeps_answers_and_comments(self, client, monitor, draft):
        greeting, empathy = keys(draft)
        client.force_login(monitor)
        response = client.post(
            reverse("coaching:review", args=[draft.pk]),
            {
                f"answer-{greeting}": "yes",
                f"comment-{greeting}": "Usou o script",
                f"answer-{empathy}": "4",
                "comment": "Geral",
                "action": "save",
            },
        )
        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.status == "draft" and draft.comment == "Geral"
        assert {a.key: (a.answer, a.comment) for a in draft.answers.all()} == {
            greeting: ("yes", "Usou o script"),
            empathy: ("4", ""),
        }

    def test_a_refused_answer_is_shown_on_its_item_and_nothing_is_kept(
        self, client, monitor, draft
    ):
        greeting, empathy = keys(draft)
        client.force_login(monitor)
        response = client.post(
            reverse("coaching:review", args=[draft.pk]),
            {f"answer-{greeting}": "yes", f"answer-{empathy}": "9", "action": "save"},
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert "qa-item-error" in html and "1 item needs attention" in html
        assert 'value="yes" checked' in html  # what was posted is still there
        assert not draft.answers.exists()

    def test_finishing_an_incomplete_review_lists_the_items(self, client, monitor, draft):
        greeting, _empathy = keys(draft)
        client.force_login(monitor)
        response = client.post(
            reverse("coaching:review", args=[draft.pk]),
            {f"answer-{greeting}": "yes", "action": "finish"},
        )
        assert response.status_code == 400
        assert "Answer this item to finish." in response.content.decode()
        draft.refresh_from_db()
        assert draft.status == "draft"

    def test_finishing_sets_the_interactions_score(self, client, monitor, draft, call):
        greeting, empathy = keys(draft)
        client.force_login(monitor)
        response = client.post(
            reverse("coaching:review", args=[draft.pk]),
            {f"answer-{greeting}": "yes", f"answer-{empathy}": "5", "action": "finish"},
            follow=True,
        )
        assert "now scores 100." in response.content.decode()
        call.refresh_from_db()
        assert call.qa_score == 100.0 and call.qa_reviewed

    def test_a_draft_is_its_reviewers_alone(
        self, client, draft, sao_paulo, carol, paulo, dave, bob
    ):
        colleague = make_quality_analyst(sao_paulo, username="otavio")
        url = reverse("coaching:review", args=[draft.pk])
        for user in (colleague, carol, paulo.user, bob):
            client.force_login(user)
            assert client.get(url).status_code == 404, user
            assert client.post(url, {"action": "finish"}).status_code == 404, user
        client.force_login(dave)
        assert client.get(url).status_code == 200
        assert client.post(url, {"action": "save"}).status_code == 404  # admins read only
        assert QAReview.objects.get(pk=draft.pk).status == "draft"


class TestFinishedReview:
    def test_who_reads_it(self, client, finished, monitor, carol, bob, dave, paulo, alice):
        url = reverse("coaching:review", args=[finished.pk])
        for user, status in [
            (monitor, 200),
            (carol, 200),
            (dave, 200),
            (paulo.user, 200),
            (bob, 404),
            (alice.user, 404),
        ]:
            client.force_login(user)
            assert client.get(url).status_code == status, user
        client.force_login(paulo.user)
        html = client.get(url).content.decode()
        assert "Saudou pelo nome" in html and "Pouco empático" in html and "Bom atendimento" in html
        assert 'data-testid="review-form"' not in html

    def test_nobody_changes_it(self, client, finished, monitor):
        client.force_login(monitor)
        url = reverse("coaching:review", args=[finished.pk])
        assert client.post(url, {"action": "save", "comment": "x"}).status_code == 404
        finished.refresh_from_db()
        assert finished.comment == "Bom atendimento"


class TestMyReviews:
    def test_an_agent_lists_their_finished_reviews_only(
        self, client, finished, form, monitor, paulo, source
    ):
        other = InteractionFactory(agent=paulo, source=source, channel="phone", external_id="D-1")
        review_start(reviewer=monitor, interaction_id=other.pk, form=form)  # a draft
        client.force_login(paulo.user)
        html = client.get(reverse("coaching:my-reviews")).content.decode()
        assert "SP-100" in html and "D-1" not in html
        assert "1 review waits for you" in html

    def test_someone_elses_list_is_not_theirs(self, client, finished, alice, carol):
        client.force_login(alice.user)
        assert "SP-100" not in client.get(reverse("coaching:my-reviews")).content.decode()
        client.force_login(carol)  # a lead with no agent of their own
        assert client.get(reverse("coaching:my-reviews")).status_code == 404

    def test_the_agent_acknowledges_once(self, client, finished, paulo):
        client.force_login(paulo.user)
        url = reverse("coaching:review-acknowledge", args=[finished.pk])
        assert client.post(url).status_code == 302
        first = QAReview.objects.get(pk=finished.pk).acknowledged_at
        assert first is not None
        client.post(url)
        assert QAReview.objects.get(pk=finished.pk).acknowledged_at == first
        assert "waits for you" not in client.get(reverse("coaching:my-reviews")).content.decode()

    def test_only_the_agent_acknowledges(self, client, finished, carol, monitor, alice):
        url = reverse("coaching:review-acknowledge", args=[finished.pk])
        for user in (carol, monitor, alice.user):
            client.force_login(user)
            assert client.post(url).status_code == 404, user
        assert QAReview.objects.get(pk=finished.pk).acknowledged_at is None

    def test_a_draft_cannot_be_acknowledged(self, client, form, monitor, call, paulo):
        draft = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
        client.force_login(paulo.user)
        url = reverse("coaching:review-acknowledge", args=[draft.pk])
        assert client.post(url).status_code == 404


class TestHomePanel:
    def test_an_analyst_sees_their_drafts_and_teams(self, client, monitor, form, call):
        review_start(reviewer=monitor, interaction_id=call.pk, form=form)
        client.force_login(monitor)
        html = client.get(reverse("home")).content.decode()
        assert 'data-testid="home-quality"' in html
        assert "1 review in draft" in html and "Teams you review: Sao Paulo" in html

    def test_agents_and_admins_have_no_panel(self, client, paulo, dave):
        for user in (paulo.user, dave):
            client.force_login(user)
            assert 'data-testid="home-quality"' not in client.get(reverse("home")).content.decode()


class TestDisputePages:
    def test_the_agent_contests_an_item_from_the_review_page(self, client, finished, paulo):
        _greeting, empathy = keys(finished)
        client.force_login(paulo.user)
        url = reverse("coaching:review", args=[finished.pk])
        assert 'data-testid="dispute-form"' in client.get(url).content.decode()
        refused = client.post(
            reverse("coaching:review-dispute", args=[finished.pk]), {"item": [empathy]}
        )
        assert refused.status_code == 400
        assert "Say why you contest these items." in refused.content.decode()
        response = client.post(
            reverse("coaching:review-dispute", args=[finished.pk]),
            {"item": [empathy], "comment": "Fui empático"},
        )
        assert response.status_code == 302
        html = client.get(url).content.decode()
        assert "Fui empático" in html and 'data-testid="dispute-form"' not in html
        assert finished.disputes.get().items == [empathy]

    def test_only_the_agent_contests(self, client, finished, carol, alice, monitor):
        url = reverse("coaching:review-dispute", args=[finished.pk])
        for user, status in [(carol, 404), (monitor, 404), (alice.user, 404)]:
            client.force_login(user)
            assert client.post(url, {"item": keys(finished), "comment": "x"}).status_code == status
        assert not finished.disputes.exists()

    def test_the_supervisor_decides_from_the_monitoria(self, client, finished, paulo, carol, call):
        from coaching.services.quality_disputes import dispute_open

        greeting, empathy = keys(finished)
        dispute = dispute_open(finished, user=paulo.user, items=[empathy], comment="Fui empático")
        client.force_login(carol)
        html = client.get(reverse("coaching:quality")).content.decode()
        assert 'data-testid="disputes-to-decide"' in html
        page = client.get(reverse("coaching:review", args=[finished.pk])).content.decode()
        assert 'data-testid="decide-form"' in page and f"contested-{empathy}" in page
        decide = reverse("coaching:dispute-decide", args=[dispute.pk])
        unchanged = client.post(decide, {"action": "accept", f"answer-{empathy}": "3"})
        assert unchanged.status_code == 400 and "Change at least one" in unchanged.content.decode()
        response = client.post(
            decide,
            {"action": "accept", f"answer-{empathy}": "5", f"answer-{greeting}": "no"},
        )
        assert response.status_code == 302
        finished.refresh_from_db()
        call.refresh_from_db()
        assert finished.score == call.qa_score == 100.0  # the greeting was not contested
        assert finished.answers.get(key=greeting).answer == "yes"

    def test_a_rejection_needs_a_reason(self, client, finished, paulo, carol):
        from coaching.services.quality_disputes import dispute_open

        dispute = dispute_open(finished, user=paulo.user, items=keys(finished), comment="x")
        client.force_login(carol)
        decide = reverse("coaching:dispute-decide", args=[dispute.pk])
        assert client.post(decide, {"action": "reject"}).status_code == 400
        assert client.post(decide, {"action": "reject", "reason": "Mantida"}).status_code == 302
        dispute.refresh_from_db()
        assert (dispute.status, dispute.reason) == ("rejected", "Mantida")

    def test_who_may_not_decide(self, client, finished, paulo, monitor, bob, alice):
        from coaching.services.quality_disputes import dispute_open

        dispute = dispute_open(finished, user=paulo.user, items=keys(finished), comment="x")
        decide = reverse("coaching:dispute-decide", args=[dispute.pk])
        for user in (monitor, bob, alice.user, paulo.user):
            client.force_login(user)
            assert client.post(decide, {"action": "reject", "reason": "no"}).status_code == 404
        dispute.refresh_from_db()
        assert dispute.status == "open"


def test_the_navigation_marks_the_monitoria(client, monitor, carol):
    from tests.test_composition import nav

    client.force_login(monitor)
    assert nav(client.get(reverse("coaching:quality")).content.decode()) == [
        ("Home", False),
        ("Quality", True),
    ]
    client.force_login(carol)  # a lead: it is part of their coaching
    entries = nav(client.get(reverse("coaching:quality")).content.decode())
    assert ("Coaching", True) in entries and "Quality" not in dict(entries)
