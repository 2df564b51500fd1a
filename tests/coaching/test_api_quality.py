"""The monitoria API (issue 10 §6): forms for reviewers, reviews started, saved and finished
by their reviewer, read per the role matrix (an agent only their own finished reviews, nobody
another reviewer's drafts), acknowledged and contested by the agent, disputes decided by
another reviewer of the team; refusals are 400s naming the item, never 500s."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coaching.models import QADispute, QAForm, QAItem, QAReview, QASection
from coaching.services.quality import review_finish, review_start, version_rules
from performance.models import Channel, Interaction
from tests.factories import InteractionFactory, make_quality_analyst

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(db):
    phone, _ = Channel.objects.get_or_create(code="phone", defaults={"name": "Telefone"})
    form = QAForm.objects.create(name="Voz", channel=phone)
    section = QASection.objects.create(form=form, title="Atendimento")
    QAItem.objects.create(section=section, text="Saudação", weight=1, position=1)
    QAItem.objects.create(
        section=section, text="Escuta", kind=QAItem.Kind.SCALE, scale_max=4, weight=2, position=2
    )
    return form


@pytest.fixture
def monitor(sao_paulo):
    return make_quality_analyst(sao_paulo, username="monica")


@pytest.fixture
def call(paulo, source):
    return InteractionFactory(agent=paulo, source=source, channel="phone", external_id="C-9")


def keys(review) -> list[str]:
    return [rule.key for rule in version_rules(review.version)]


@pytest.fixture
def finished(form, monitor, call):
    review = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    greeting, listening = keys(review)
    return review_finish(
        review, reviewer=monitor, answers={greeting: ("no", "Sem saudação"), listening: (4, "")}
    )


def test_forms_for_reviewers_only(client, form, monitor, carol, dave, paulo):
    url = reverse("api-quality-forms")
    for user in (monitor, carol, dave):
        client.force_login(user)
        body = client.get(url).json()
        assert [f["name"] for f in body] == ["Voz"] and body[0]["points"] == 3
        assert [i["kind"] for i in body[0]["sections"][0]["items"]] == ["yes_no", "scale"]
    client.force_login(paulo.user)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 403


def test_a_reviewer_starts_saves_and_finishes_a_review(client, form, monitor, call):
    client.force_login(monitor)
    started = client.post(
        reverse("api-quality-reviews"),
        {"interaction": call.pk, "form": form.pk},
        content_type="application/json",
    )
    assert started.status_code == 201
    review = started.json()
    greeting, listening = (item["key"] for item in review["sections"][0]["items"])
    answers_url = reverse("api-quality-review-answers", args=[review["id"]])
    refused = client.post(
        answers_url,
        {"answers": [{"item": listening, "answer": "7"}]},
        content_type="application/json",
    )
    assert refused.status_code == 400 and listening in refused.json()
    saved = client.post(
        answers_url,
        {"answers": [{"item": greeting, "answer": "yes", "comment": "Ok"}], "comment": "Bom"},
        content_type="application/json",
    )
    assert saved.status_code == 200 and saved.json()["score"] == 100.0
    unfinished = client.post(
        reverse("api-quality-review-finish", args=[review["id"]]),
        {},
        content_type="application/json",
    )
    assert unfinished.status_code == 400 and listening in unfinished.json()
    done = client.post(
        reverse("api-quality-review-finish", args=[review["id"]]),
        {"answers": [{"item": listening, "answer": "2"}]},
        content_type="application/json",
    )
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["score"]) == ("finished", 66.67)
    assert Interaction.objects.get(pk=call.pk).qa_score == 66.67


def test_starting_outside_the_teams_reviewed_is_refused(client, form, monitor, alice, source):
    lisbon_call = InteractionFactory(agent=alice, source=source, channel="phone")
    client.force_login(monitor)
    response = client.post(
        reverse("api-quality-reviews"),
        {"interaction": lisbon_call.pk, "form": form.pk},
        content_type="application/json",
    )
    assert response.status_code == 400 and "interaction" in response.json()
    missing_form = client.post(
        reverse("api-quality-reviews"),
        {"interaction": lisbon_call.pk, "form": 999},
        content_type="application/json",
    )
    assert missing_form.status_code == 400
    assert not QAReview.objects.exists()


def test_agents_cannot_start_reviews(client, form, paulo, call):
    client.force_login(paulo.user)
    response = client.post(
        reverse("api-quality-reviews"),
        {"interaction": call.pk, "form": form.pk},
        content_type="application/json",
    )
    assert response.status_code == 404 and not QAReview.objects.exists()


def test_who_reads_which_reviews(client, finished, form, monitor, carol, bob, dave, paulo, alice):
    draft = review_start(reviewer=monitor, interaction_id=finished.interaction_id, form=form)
    expected = {
        monitor: {finished.pk, draft.pk},
        carol: {finished.pk},
        dave: {finished.pk, draft.pk},
        paulo.user: {finished.pk},
        bob: set(),
        alice.user: set(),
    }
    for user, ids in expected.items():
        client.force_login(user)
        listed = {row["id"] for row in client.get(reverse("api-quality-reviews")).json()["results"]}
        assert listed == ids, user
        for review in (finished, draft):
            detail = client.get(reverse("api-quality-review", args=[review.pk]))
            assert detail.status_code == (200 if review.pk in ids else 404), (user, review)


def test_only_the_reviewer_changes_a_draft(client, form, monitor, call, carol, dave):
    draft = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    for user in (carol, dave):
        client.force_login(user)
        response = client.post(
            reverse("api-quality-review-answers", args=[draft.pk]),
            {"answers": []},
            content_type="application/json",
        )
        assert response.status_code == 404


def test_the_agent_acknowledges_and_contests(client, finished, paulo, carol):
    greeting, _listening = keys(finished)
    client.force_login(paulo.user)
    detail = client.get(reverse("api-quality-review", args=[finished.pk])).json()
    assert detail["dispute_until"] is not None
    assert detail["sections"][0]["items"][0]["comment"] == "Sem saudação"
    ack = client.post(reverse("api-quality-review-acknowledge", args=[finished.pk]))
    assert ack.status_code == 200 and ack.json()["acknowledged_at"]
    url = reverse("api-quality-review-dispute", args=[finished.pk])
    refused = client.post(url, {"items": [], "comment": ""}, content_type="application/json")
    assert refused.status_code == 400 and set(refused.json()) == {"items", "comment"}
    opened = client.post(
        url, {"items": [greeting], "comment": "Saudei sim"}, content_type="application/json"
    )
    assert opened.status_code == 201 and opened.json()["round"] == 1
    client.force_login(carol)
    assert (
        client.post(
            url, {"items": [greeting], "comment": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("api-quality-review-acknowledge", args=[finished.pk])).status_code
        == 404
    )


def test_disputes_are_decided_by_another_reviewer(client, finished, paulo, carol, monitor, bob):
    from coaching.services.quality_disputes import dispute_open

    greeting, _listening = keys(finished)
    dispute = dispute_open(finished, user=paulo.user, items=[greeting], comment="Saudei")
    accept = reverse("api-quality-dispute-accept", args=[dispute.pk])
    body = {"answers": [{"item": greeting, "answer": "yes"}], "reason": "Ouvi de novo"}
    for user in (monitor, bob, paulo.user):
        client.force_login(user)
        assert client.post(accept, body, content_type="application/json").status_code == 404
    client.force_login(carol)
    listed = client.get(reverse("api-quality-disputes"), {"status": "open"}).json()["results"]
    assert [row["id"] for row in listed] == [dispute.pk]
    response = client.post(accept, body, content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["score_after"]) == ("accepted", 100.0)
    again = client.post(
        reverse("api-quality-dispute-reject", args=[dispute.pk]),
        {"reason": "no"},
        content_type="application/json",
    )
    assert again.status_code == 400
    assert QADispute.objects.get().status == "accepted"
    client.force_login(paulo.user)
    assert [
        row["status"] for row in client.get(reverse("api-quality-disputes")).json()["results"]
    ] == ["accepted"]


def test_malformed_bodies_are_400s(client, finished, carol, monitor, form, call):
    client.force_login(monitor)
    draft = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    for body in (
        {"answers": "x"},
        {"answers": [{"answer": "yes"}]},
        {"answers": [{"item": "1", "answer": "x" * 20}]},
    ):
        response = client.post(
            reverse("api-quality-review-answers", args=[draft.pk]),
            body,
            content_type="application/json",
        )
        assert response.status_code == 400, body
    assert (
        client.post(
            reverse("api-quality-reviews"), {"interaction": "a"}, content_type="application/json"
        ).status_code
        == 400
    )
