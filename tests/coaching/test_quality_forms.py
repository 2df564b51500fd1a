"""QA forms (issue 10 §1): the one score of a review against hand-computed cases and as a
property, the versions reviews keep when a form changes, and the admin's preview."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from coaching.models import QAForm, QAItem, QASection
from coaching.services.quality import (
    NO,
    NOT_APPLICABLE,
    YES,
    AnswerError,
    ItemRule,
    form_version_current,
    review_score,
    version_rules,
)
from performance.models import Channel
from tests.html import texts_by_testid
from tests.scenarios import login

YES_NO, SCALE = QAItem.Kind.YES_NO, QAItem.Kind.SCALE

GREETING = ItemRule("greeting", YES_NO, weight=2)
EMPATHY = ItemRule("empathy", SCALE, weight=4, scale_max=5)
LGPD = ItemRule("lgpd", YES_NO, weight=1, critical=True, allows_na=False)
EXTRA_MILE = ItemRule("extra", YES_NO, weight=2, bonus=True)
RULES = [GREETING, EMPATHY, LGPD, EXTRA_MILE]


@pytest.mark.parametrize(
    ("answers", "score"),
    [
        # every item earns in full: 2 + 4 + 1 of 7 (the bonus adds, capped at 100)
        ({"greeting": YES, "empathy": 5, "lgpd": YES, "extra": YES}, 100.0),
        # greeting missed: 5 of 7
        ({"greeting": NO, "empathy": 5, "lgpd": YES, "extra": NO}, 71.43),
        # empathy 3 of 5 earns 2.4 of its 4: (2 + 2.4 + 1) / 7
        ({"greeting": YES, "empathy": 3, "lgpd": YES, "extra": NO}, 77.14),
        # greeting N/A: it leaves the possible points too: (2.4 + 1) / 5
        ({"greeting": NOT_APPLICABLE, "empathy": 3, "lgpd": YES, "extra": NO}, 68.0),
        # the bonus makes up for a miss: (0 + 4 + 1 + 2) / 7
        ({"greeting": NO, "empathy": 5, "lgpd": YES, "extra": YES}, 100.0),
        # the bonus adds what it earns: (0 + 2.4 + 1 + 2) / 7
        ({"greeting": NO, "empathy": 3, "lgpd": YES, "extra": YES}, 77.14),
        # a critical "no" zeroes everything else
        ({"greeting": YES, "empathy": 5, "lgpd": NO, "extra": YES}, 0.0),
    ],
)
def test_scores_by_hand(answers, score):
    assert review_score(RULES, answers).score == score


def test_a_review_with_nothing_applicable_has_no_score():
    result = review_score([GREETING, EXTRA_MILE], {"greeting": NOT_APPLICABLE, "extra": YES})
    assert result.score is None and result.possible == 0


@pytest.mark.parametrize(
    ("rule", "answer"),
    [
        (LGPD, NOT_APPLICABLE),  # this item must be answered
        (GREETING, 1),  # a yes-no item takes yes, no or N/A
        (EMPATHY, 6),  # above the scale
        (EMPATHY, -1),
        (EMPATHY, YES),
        (EMPATHY, True),
    ],
)
def test_answers_an_item_does_not_take_are_refused(rule, answer):
    with pytest.raises(AnswerError, match=rule.key):
        review_score([rule], {rule.key: answer})


def rules_and_answers():
    kinds = st.sampled_from([YES_NO, SCALE])

    @st.composite
    def build(draw):
        rules, answers = [], {}
        for index in range(draw(st.integers(1, 8))):
            kind = draw(kinds)
            critical = kind == YES_NO and draw(st.booleans())
            rule = ItemRule(
                key=f"i{index}",
                kind=kind,
                weight=draw(st.integers(1, 10)),
                scale_max=draw(st.integers(1, 10)) if kind == SCALE else 1,
                critical=critical,
                bonus=not critical and draw(st.booleans()),
            )
            rules.append(rule)
            if kind == YES_NO:
                answers[rule.key] = draw(st.sampled_from([YES, NO, NOT_APPLICABLE]))
            else:
                answers[rule.key] = draw(
                    st.one_of(st.integers(0, rule.scale_max), st.just(NOT_APPLICABLE))
                )
        return rules, answers

    return build()


@given(rules_and_answers())
def test_any_review_scores_between_0_and_100_and_a_critical_no_is_0(case):
    rules, answers = case
    result = review_score(rules, answers)
    critical_no = any(rule.critical and answers[rule.key] == NO for rule in rules)
    if critical_no:
        assert result.score == 0.0 and result.critical_failed
    elif all(rule.bonus or answers[rule.key] == NOT_APPLICABLE for rule in rules):
        assert result.score is None
    else:
        assert 0.0 <= result.score <= 100.0
    # Taking a not-applicable item away changes nothing; a bonus "yes" never lowers the score.
    kept = [rule for rule in rules if answers[rule.key] != NOT_APPLICABLE]
    assert review_score(kept, answers) == result
    for rule in rules:
        if rule.bonus and rule.kind == YES_NO:
            better = review_score(rules, {**answers, rule.key: YES}).score
            assert result.score is None or better >= result.score


# --- forms, versions, admin -----------------------------------------------------------------


@pytest.fixture
def phone_form(db):
    phone, _ = Channel.objects.get_or_create(code="phone", defaults={"name": "Telefone"})
    form = QAForm.objects.create(name="Monitoria telefone", channel=phone)
    opening = QASection.objects.create(form=form, title="Abertura", position=1)
    QAItem.objects.create(section=opening, text="Saudação padrão", weight=2, position=1)
    QAItem.objects.create(
        section=opening,
        text="Empatia",
        kind=SCALE,
        scale_max=5,
        weight=4,
        position=2,
        guidance="Reconhece o problema do cliente antes de resolver.",
    )
    security = QASection.objects.create(form=form, title="Segurança", position=2)
    QAItem.objects.create(
        section=security, text="Confirma os dados (LGPD)", critical=True, allows_na=False
    )
    return form


@pytest.mark.django_db
def test_a_form_in_use_is_versioned_and_old_reviews_keep_their_items(phone_form):
    first = form_version_current(phone_form)
    assert first.number == 1 and form_version_current(phone_form) == first  # nothing changed
    greeting = QAItem.objects.get(text="Saudação padrão")
    greeting.weight = 5
    greeting.save()
    second = form_version_current(phone_form)
    assert second.number == 2
    first.refresh_from_db()
    weights = {rule.key: rule.weight for rule in version_rules(first)}
    assert weights[str(greeting.pk)] == 2  # what the first reviews were scored on
    assert {rule.key: rule.weight for rule in version_rules(second)}[str(greeting.pk)] == 5
    rules = version_rules(second)
    answers = {rules[0].key: YES, rules[1].key: 5, rules[2].key: YES}
    assert review_score(rules, answers).score == 100.0


@pytest.mark.django_db
def test_items_a_score_cannot_follow_are_refused_in_admin_forms(phone_form):
    section = phone_form.sections.first()
    with pytest.raises(ValidationError) as error:
        QAItem(section=section, text="Tom de voz", kind=SCALE, critical=True).full_clean()
    assert "critical" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        QAItem(section=section, text="Oferta extra", critical=True, bonus=True).full_clean()
    assert "bonus" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        QAItem(section=section, text="Nota", kind=SCALE, scale_max=0, weight=0).full_clean()
    assert {"scale_max", "weight"} <= set(error.value.message_dict)


@pytest.mark.django_db
def test_admins_preview_a_form_and_nobody_else_does(client, phone_form, alice, bob, dave):
    preview = reverse("coaching:qa-form-preview", args=[phone_form.pk])
    assert client.get(preview).status_code == 302  # to the login
    for person in (alice, bob):
        login(client, person)
        assert client.get(preview).status_code == 404
    login(client, dave)
    page = client.get(preview).content
    assert texts_by_testid(page, "qa-section")[0].startswith("1. Abertura")
    items = texts_by_testid(page, "qa-item")
    assert len(items) == 3 and "critical" in items[2] and "0 to 5" in items[1]
    assert client.get(reverse("coaching:qa-form-preview", args=[999])).status_code == 404


@pytest.mark.django_db
def test_admin_authors_a_form_with_sections_and_items(admin_client, phone_form):
    assert admin_client.get(reverse("admin:coaching_qaform_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:coaching_qaform_add")).status_code == 200
    change = admin_client.get(reverse("admin:coaching_qaform_change", args=[phone_form.pk]))
    assert b"Abertura" in change.content and b"Preview" in change.content
    section = phone_form.sections.first()
    page = admin_client.get(reverse("admin:coaching_qasection_change", args=[section.pk]))
    assert page.status_code == 200 and b"Empatia" in page.content
