"""Links from monitoria to coaching (issue 10 §5): an item the agent keeps missing (the form's
training_misses of its latest training_window reviews) suggests the training modules linked
to it, or assigns them when the form says so; a lead opens a coaching flag from a review."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from coaching.models import QAForm, QAItem, QASection, TrainingAssignment, TrainingModule
from coaching.selectors.quality import repeated_misses
from coaching.services.quality import review_finish, review_start, version_rules
from tests.factories import make_interactions, make_quality_analyst, make_standard

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 5)


@pytest.fixture
def module(db):
    return TrainingModule.objects.create(title="LGPD no atendimento")


@pytest.fixture
def form(module):
    form = QAForm.objects.create(name="Voz", training_misses=2, training_window=3)
    section = QASection.objects.create(form=form, title="Atendimento")
    lgpd = QAItem.objects.create(section=section, text="Confirmou os dados", weight=2, position=1)
    lgpd.training_modules.add(module)
    QAItem.objects.create(section=section, text="Saudação", weight=1, position=2)
    return form


@pytest.fixture
def monitor(sao_paulo):
    return make_quality_analyst(sao_paulo, username="monica")


def review(form, monitor, paulo, source, data_answer: str):
    call = make_interactions(paulo, source=source, on=DAY)[0]
    started = review_start(reviewer=monitor, interaction_id=call.pk, form=form)
    data, greeting = (rule.key for rule in version_rules(started.version))
    return review_finish(
        started, reviewer=monitor, answers={data: (data_answer, ""), greeting: ("no", "")}
    )


def test_a_repeated_miss_suggests_the_linked_modules(form, monitor, paulo, source, module):
    first = review(form, monitor, paulo, source, "no")
    assert repeated_misses(first) == []  # one miss of two
    second = review(form, monitor, paulo, source, "no")
    (miss,) = repeated_misses(second)  # the greeting has no module: not suggested
    assert (miss.text, miss.misses, miss.window, miss.modules) == (
        "Confirmou os dados",
        2,
        2,
        [module],
    )
    third = review(form, monitor, paulo, source, "yes")
    assert repeated_misses(third) == []  # not missed this time
    fourth = review(form, monitor, paulo, source, "no")
    assert repeated_misses(fourth)[0].misses == 2  # of the latest three: 2nd, 3rd, 4th
    assert not TrainingAssignment.objects.exists()  # suggested only


def test_the_form_can_assign_them_instead(form, monitor, paulo, source, module):
    form.training_auto_assign = True
    form.save()
    review(form, monitor, paulo, source, "no")
    review(form, monitor, paulo, source, "no")
    assignment = TrainingAssignment.objects.get()
    assert (assignment.agent, assignment.module, assignment.assigned_by) == (paulo, module, monitor)
    review(form, monitor, paulo, source, "no")
    assert TrainingAssignment.objects.count() == 1  # open already: kept as it is


def test_the_review_page_suggests_and_the_lead_assigns(
    client, form, monitor, paulo, source, carol, module
):
    review(form, monitor, paulo, source, "no")
    second = review(form, monitor, paulo, source, "no")
    client.force_login(carol)
    html = client.get(reverse("coaching:review", args=[second.pk])).content.decode()
    assert 'data-testid="repeated-miss"' in html
    assert f"{reverse('coaching:training-assign')}?agent={paulo.pk}&amp;module={module.pk}" in html
    client.force_login(monitor)  # an analyst sees the suggestion, but coaches nobody
    html = client.get(reverse("coaching:review", args=[second.pk])).content.decode()
    assert 'data-testid="repeated-miss"' in html and 'data-testid="open-flag"' not in html
    client.force_login(paulo.user)
    assert (
        'data-testid="repeated-miss"'
        not in client.get(reverse("coaching:review", args=[second.pk])).content.decode()
    )


def test_a_lead_opens_a_coaching_flag_from_a_review(client, form, monitor, paulo, source, carol):
    quality = make_standard(name="Qualidade", metric="qa", target=85)
    finished = review(form, monitor, paulo, source, "yes")
    client.force_login(carol)
    page = client.get(reverse("coaching:review", args=[finished.pk])).content.decode()
    assert 'data-testid="open-flag"' in page
    form_page = client.get(reverse("coaching:flag-open"), {"review": finished.pk}).content.decode()
    assert f'<option value="{paulo.pk}" selected>' in form_page
    assert f'<option value="{quality.pk}" selected>' in form_page
    assert "From the QA review of" in form_page and "score 66.67" in form_page


def test_another_teams_lead_gets_no_prefill(client, form, monitor, paulo, source, bob):
    finished = review(form, monitor, paulo, source, "yes")
    client.force_login(bob)
    page = client.get(reverse("coaching:flag-open"), {"review": finished.pk}).content.decode()
    assert "From the QA review of" not in page
