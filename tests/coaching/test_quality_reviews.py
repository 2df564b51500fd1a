"""Draft reviews (issue 10 §2): started only on interactions the reviewer may review and on a
form for their channel, answers checked per item (nothing kept when one is refused), the
score so far kept, and only the reviewer's own draft changes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from coaching.models import QAForm, QAItem, QASection
from coaching.services.quality import (
    NO,
    NOT_APPLICABLE,
    YES,
    review_answers_save,
    review_start,
    version_rules,
)
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
    QAItem.objects.create(
        section=section, text="LGPD", critical=True, allows_na=False, weight=1, position=3
    )
    return form


@pytest.fixture
def monitor(sao_paulo):
    return make_quality_analyst(sao_paulo, username="monica")


@pytest.fixture
def call(paulo):
    return InteractionFactory(agent=paulo, channel="phone", external_id="S-1")


def keys(review) -> list[str]:
    return [rule.key for rule in version_rules(review.version)]


def test_a_draft_keeps_answers_comments_and_the_score_so_far(form, monitor, call, paulo):
    review = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    assert review.agent == paulo and review.version.number == 1 and review.status == "draft"
    greeting, empathy, lgpd = keys(review)
    review = review_answers_save(
        review,
        reviewer=monitor,
        answers={greeting: (YES, " Usou o script "), empathy: (3, "")},
        comment="Boa ligação",
    )
    assert review.score == round(100 * (2 + 2.4) / 6, 2)  # LGPD not answered yet
    assert {a.key: (a.answer, a.comment) for a in review.answers.all()} == {
        greeting: ("yes", "Usou o script"),
        empathy: ("3", ""),
    }
    review = review_answers_save(review, reviewer=monitor, answers={lgpd: (NO, "Não confirmou")})
    assert review.score == 0.0 and review.comment == "Boa ligação"


def test_refused_answers_are_reported_per_item_and_nothing_is_kept(form, monitor, call):
    review = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    greeting, empathy, lgpd = keys(review)
    with pytest.raises(ValidationError) as error:
        review_answers_save(
            review,
            reviewer=monitor,
            answers={
                greeting: (YES, ""),
                empathy: (9, ""),
                lgpd: (NOT_APPLICABLE, ""),
                "999": (YES, ""),
            },
        )
    assert set(error.value.message_dict) == {empathy, lgpd, "999"}
    assert "0 to 5" in error.value.message_dict[empathy][0]
    assert review.answers.count() == 0


def test_only_reviewable_interactions_on_a_form_of_their_channel(form, monitor, call, alice, carol):
    lisbon_call = InteractionFactory(agent=alice, channel="phone")
    with pytest.raises(ValidationError) as error:
        review_start(reviewer=monitor, interaction_id=lisbon_call.pk, form=form)
    assert "interaction" in error.value.message_dict
    chat = InteractionFactory(agent=call.agent, channel="chat")
    with pytest.raises(ValidationError) as error:
        review_start(reviewer=monitor, interaction_id=chat.pk, form=form)
    assert "form" in error.value.message_dict
    form.active = False
    form.save()
    with pytest.raises(ValidationError):
        review_start(reviewer=carol, interaction_id=call.pk, form=form)  # São Paulo's lead


def test_only_the_reviewer_changes_their_draft(form, monitor, call, carol):
    review = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    with pytest.raises(ValidationError):
        review_answers_save(review, reviewer=carol, answers={keys(review)[0]: (YES, "")})


def test_a_review_keeps_the_version_it_started_on(form, monitor, call):
    review = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    QAItem.objects.filter(text="Saudação").update(weight=10)
    greeting, empathy, _lgpd = keys(review)
    review = review_answers_save(
        review, reviewer=monitor, answers={greeting: (YES, ""), empathy: (0, "")}
    )
    assert review.score == 33.33 and review.version.number == 1  # 2 of 6, not 10 of 14
    other = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    assert other.version.number == 2


def test_admins_read_reviews_and_change_none(admin_client, form, monitor, call):
    from django.urls import reverse

    review = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    review_answers_save(review, reviewer=monitor, answers={keys(review)[0]: (YES, "Ótimo")})
    page = admin_client.get(reverse("admin:coaching_qareview_change", args=[review.pk]))
    assert page.status_code == 200 and "Ótimo" in page.content.decode()
    assert admin_client.get(reverse("admin:coaching_qareview_add")).status_code == 403
