"""The training API per role: modules for anyone logged in; an agent reads their own
assignments and records their progress; a lead assigns and reads their agents'; others 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coaching.models import TrainingAssignment
from coaching.services.training import training_assign
from tests.coaching.test_training import fcr, module, right_answers  # noqa: F401
from tests.scenarios import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(module, alice, bob):  # noqa: F811
    [assignment], _ = training_assign(agents=[alice], module=module, assigned_by=bob, due_on=None)
    return assignment


def detail(assignment) -> str:
    return reverse("api-coaching-assignment", args=[assignment.pk])


def test_anonymous_gets_403(client, assigned):
    for url in (
        reverse("api-coaching-modules"),
        reverse("api-coaching-assignments"),
        detail(assigned),
    ):
        assert client.get(url).status_code == 403


def test_modules_list_their_lessons(client, module, alice):  # noqa: F811
    login(client, alice)
    [row] = client.get(reverse("api-coaching-modules")).json()
    assert row["title"] == module.title and [lesson["position"] for lesson in row["lessons"]] == [
        1,
        2,
    ]


def test_assignments_are_scoped_per_role(client, assigned, alice, maria, bob, carol, dave):
    for person, ids in (
        (alice, [assigned.pk]),
        (bob, [assigned.pk]),
        (dave, [assigned.pk]),
        (maria, []),
        (carol, []),
    ):
        login(client, person)
        rows = client.get(reverse("api-coaching-assignments")).json()["results"]
        assert [row["id"] for row in rows] == ids, person
        assert client.get(detail(assigned)).status_code == (200 if ids else 404)
    login(client, alice)
    assert client.get(reverse("api-coaching-assignments"), {"status": "nope"}).status_code == 400


def test_a_lead_assigns_their_agents_only(client, module, alice, paulo, bob):  # noqa: F811
    login(client, bob)
    url = reverse("api-coaching-assignments")
    response = client.post(
        url, {"module": module.pk, "agents": [paulo.pk]}, content_type="application/json"
    )
    assert response.status_code == 400 and "agents" in response.json()
    response = client.post(
        url, {"module": module.pk, "agents": [alice.pk]}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()[0]["agent"] == alice.pk
    login(client, alice)
    assert (
        client.post(
            url, {"module": module.pk, "agents": [alice.pk]}, content_type="application/json"
        ).status_code
        == 404
    )


def test_the_agent_records_progress_and_others_cannot(client, assigned, module, alice, bob):  # noqa: F811
    lesson = module.lessons.first()
    done = reverse("api-coaching-lesson-done", args=[assigned.pk, lesson.pk])
    quiz = reverse("api-coaching-quiz", args=[assigned.pk])
    login(client, bob)
    assert client.post(done).status_code == 404
    assert client.post(quiz, {"answers": {}}, content_type="application/json").status_code == 404
    login(client, alice)
    body = client.post(done).json()
    assert body["lessons_done"] == [lesson.pk] and body["progress"] == 33
    response = client.post(quiz, {"answers": {"x": [1]}}, content_type="application/json")
    assert response.status_code == 400
    answers = {str(key): value for key, value in right_answers(module).items()}
    response = client.post(quiz, {"answers": answers}, content_type="application/json")
    assert response.status_code == 201 and response.json()["passed"]
    assert TrainingAssignment.objects.get().progress == 67
