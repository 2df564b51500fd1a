"""Raw feed files hold agents' data: only the service's own user may read them."""

from __future__ import annotations

import os
import stat

import pytest

from performance.services.ingest import batch_file_path, storage_root
from tests.performance.helpers import ingest_text

pytestmark = pytest.mark.django_db

FILE = "external_id,agent,channel,started_at,handle_seconds\nm1,A1,phone,2026-01-05T10:00:00Z,30\n"


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def permissive_umask():
    previous = os.umask(0o000)
    yield
    os.umask(previous)


def test_stored_files_and_their_folders_are_private_whatever_the_umask(
    source, alice, tmp_path, permissive_umask
):
    batch = ingest_text(source, FILE, tmp_path)

    stored = batch_file_path(batch)
    assert mode_of(stored) == 0o600
    folder = stored.parent
    while folder != storage_root().parent:
        assert mode_of(folder) == 0o700, folder
        folder = folder.parent


def test_existing_open_folders_are_tightened(source, alice, tmp_path, permissive_umask):
    root = storage_root()
    (root / source.slug).mkdir(parents=True, mode=0o777)
    os.chmod(root, 0o755)
    os.chmod(root / source.slug, 0o777)

    ingest_text(source, FILE, tmp_path)

    assert mode_of(root) == 0o700
    assert mode_of(root / source.slug) == 0o700
