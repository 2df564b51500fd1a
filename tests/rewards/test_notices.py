"""What rewards tells people: a badge earned (recently), a level reached, a redemption
awaiting its lead, approved or rejected; each once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from performance.models import Notification
from rewards.models import Badge, Level
from rewards.services.reconcile import reconcile
from rewards.services.store import redemption_approve, redemption_reject, redemption_request
from tests.factories import make_standard
from tests.rewards.helpers import award, judge, store_item

pytestmark = pytest.mark.django_db


def messages_of(user) -> list[str]:
    return list(
        Notification.objects.filter(user=user).order_by("id").values_list("message", flat=True)
    )


def test_a_badge_earned_lately_is_news_and_an_old_one_is_not(alice):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    Badge.objects.create(
        name="Star", criterion="exceeded", standard=csat, threshold=1, repeat="week", points=5
    )
    today = timezone.localdate()
    last_week = today - timedelta(days=today.weekday() + 7)
    judge(alice, csat, last_week, "exceeded")
    judge(alice, csat, last_week - timedelta(days=70), "exceeded")
    reconcile()
    (message,) = messages_of(alice.user)
    assert message.startswith("You earned the badge Star: CSAT exceeded in 1 period")
    reconcile()
    assert len(messages_of(alice.user)) == 1


def test_reaching_a_level_is_told_once(alice, bob):
    Level.objects.create(name="Bronze", threshold=100)
    Level.objects.create(name="Prata", threshold=300)
    award(alice, 90)
    assert messages_of(alice.user) == []
    award(alice, 20)
    award(alice, -50)
    award(alice, 60)
    assert messages_of(alice.user) == ["You reached the level Bronze."]
    award(alice, 400)
    assert messages_of(alice.user) == [
        "You reached the level Bronze.",
        "You reached the level Prata.",
    ]


def test_a_redemption_is_told_to_the_teams_leads_then_its_decision_to_the_agent(alice, bob, carol):
    award(alice, 100)
    item = store_item(name="Mug", cost=30)
    first = redemption_request(
        agent=alice, item_id=item.pk, requested_by=alice.user, idempotency_key="a"
    ).redemption
    second = redemption_request(
        agent=alice, item_id=item.pk, requested_by=alice.user, idempotency_key="b"
    ).redemption
    assert messages_of(bob) == [f"{alice.display_name} redeemed Mug: it awaits your approval."] * 2
    assert messages_of(carol) == []
    redemption_approve(redemption=first, decided_by=bob)
    redemption_reject(redemption=second, decided_by=bob, reason="One a month")
    assert messages_of(alice.user) == [
        "Your redemption of Mug was approved.",
        "Your redemption of Mug was rejected: One a month",
    ]
