"""The admin "re-process" action goes through the same service as the batch page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from performance.models import FeedBatch
from tests.factories import FeedBatchFactory

pytestmark = pytest.mark.django_db


def reprocess(client, *batches: FeedBatch):
    return client.post(
        reverse("admin:performance_feedbatch_changelist"),
        {"action": "reprocess", "_selected_action": [batch.id for batch in batches]},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_running_batch_is_refused_with_a_message(
    client, dave, source, django_capture_on_commit_callbacks
):
    running = FeedBatchFactory(source=source, status=FeedBatch.Status.PROCESSING, finished_at=None)
    client.force_login(dave)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = reprocess(client, running)

    assert callbacks == []
    assert messages_of(response) == [
        f"Not queued, being processed now (re-process once finished): batch {running.id}."
    ]
    running.refresh_from_db()
    assert (running.status, running.runs) == (FeedBatch.Status.PROCESSING, 1)


def test_each_selected_batch_is_reported(client, dave, source, django_capture_on_commit_callbacks):
    done = FeedBatchFactory(source=source)
    waiting = FeedBatchFactory(source=source, status=FeedBatch.Status.RECEIVED, started_at=None)
    refused = FeedBatchFactory(
        source=source, status=FeedBatch.Status.FAILED, started_at=None, error="the file is empty"
    )
    client.force_login(dave)

    with django_capture_on_commit_callbacks() as callbacks:
        response = reprocess(client, done, waiting, refused)

    assert [callback.func.__self__.name for callback in callbacks] == [
        "performance.process_feed_batch"
    ]
    assert callbacks[0].args == (done.id,)
    assert messages_of(response) == [
        f"Queued to be processed again (facts converge to the file's values): batch {done.id}.",
        f"Not queued, already waiting to be processed: batch {waiting.id}.",
        f"Not queued, the file was refused on receipt (nothing to apply): batch {refused.id}.",
    ]
    done.refresh_from_db()
    assert done.status == FeedBatch.Status.RECEIVED
