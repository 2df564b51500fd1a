"""Flags in admin: an admin reads them with their evidence and filters; nobody edits them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coaching.models import CoachingFlag
from coaching.services.flags import FlagScope, flags_derive
from tests.coaching.helpers import weeks
from tests.factories import make_standard
from tests.scenarios import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag(alice):
    fcr = make_standard(name="FCR", metric="fcr", period="week", target=85)
    weeks(alice, fcr, "M M")
    flags_derive(scope=FlagScope())
    return CoachingFlag.objects.get()


def test_an_admin_lists_filters_and_reads_a_flag(client, dave, flag):
    login(client, dave)
    listing = client.get(reverse("admin:coaching_coachingflag_changelist"), {"status": "open"})
    assert listing.status_code == 200 and "FCR" in listing.content.decode()
    page = client.get(reverse("admin:coaching_coachingflag_change", args=[flag.pk]))
    assert page.status_code == 200 and "period start" in page.content.decode().lower()


def test_nobody_adds_edits_or_deletes_flags_in_admin(client, dave, flag):
    login(client, dave)
    assert client.get(reverse("admin:coaching_coachingflag_add")).status_code == 403
    client.post(reverse("admin:coaching_coachingflag_delete", args=[flag.pk]), {"post": "yes"})
    assert CoachingFlag.objects.filter(pk=flag.pk).exists()


def test_leads_and_agents_have_no_admin(client, bob, alice, flag):
    for person in (bob, alice):
        login(client, person)
        response = client.get(reverse("admin:coaching_coachingflag_changelist"))
        assert response.status_code == 302
