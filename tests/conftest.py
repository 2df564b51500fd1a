"""Shared fixtures: the personas of every access test and a feed storage per test.

alice is an agent of team Lisbon, bob her team lead, carol leads team Sao Paulo (another
team) where paulo is an agent, dave is an admin; anonymous is logged out. Log a client in
as any of them with tests.scenarios.login; larger worlds are built there too.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.cache import cache

from config.celery import app as celery_app
from performance.models import FeedSource
from tests.factories import FeedSourceFactory, TeamFactory, make_admin, make_lead
from tests.scenarios import agent_in


@pytest.fixture(autouse=True, scope="session")
def ledger_flushable():
    """Transactional tests end with `flush`, which on SQLite empties tables with DELETE: the
    ledger's delete trigger lets it through only inside ledger_wipe_allowed()."""
    from django.core.management.commands import flush

    from rewards.db import ledger_wipe_allowed

    handle = flush.Command.handle

    def handle_wiping_ledger(self, *args, **options):
        with ledger_wipe_allowed():
            return handle(self, *args, **options)

    flush.Command.handle = handle_wiping_ledger
    yield
    flush.Command.handle = handle


@pytest.fixture(autouse=True)
def celery_eager():
    """Tasks run inline unless a test drives the real worker (tests/test_celery_worker.py)."""
    celery_app.conf.task_always_eager = True
    yield


@pytest.fixture(autouse=True)
def english_by_default(settings):
    """The site speaks pt-BR by default; tests read English unless they ask for Portuguese
    (an Accept-Language header or a saved preference, as in tests/i18n/)."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Throttle counts (wrong feed tokens) live in the cache: no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def feed_storage(settings, tmp_path):
    settings.FEED_STORAGE_DIR = tmp_path / "feeds"
    return settings.FEED_STORAGE_DIR


@pytest.fixture
def reference_rows(transactional_db) -> None:
    """Put back the groups and channels a data migration creates, for tests on a
    transactional database (flushed after every such test)."""
    migration = importlib.import_module("performance.migrations.0002_roles_and_channels")
    migration.create_groups_and_channels(apps, None)
    analysts = importlib.import_module("performance.migrations.0018_team_quality_analysts")
    analysts.create_quality_analyst_group(apps, None)


@pytest.fixture
def lisbon(db):
    return TeamFactory(name="Lisbon", time_zone="Europe/Lisbon")


@pytest.fixture
def sao_paulo(db):
    return TeamFactory(name="Sao Paulo", time_zone="America/Sao_Paulo")


@pytest.fixture
def source(db) -> FeedSource:
    return FeedSourceFactory(name="Helpdesk", slug="helpdesk", time_zone="UTC")


@pytest.fixture
def alice(lisbon, source):
    return agent_in(lisbon, "alice", source=source, external_id="A1")


@pytest.fixture
def maria(lisbon):
    """alice's teammate, unknown to any feed source."""
    return agent_in(lisbon, "maria")


@pytest.fixture
def paulo(sao_paulo, source):
    return agent_in(sao_paulo, "paulo", source=source, external_id="P1")


@pytest.fixture
def bob(lisbon):
    return make_lead(lisbon, username="bob")


@pytest.fixture
def carol(sao_paulo):
    return make_lead(sao_paulo, username="carol")


@pytest.fixture
def dave(db):
    return make_admin(username="dave")
