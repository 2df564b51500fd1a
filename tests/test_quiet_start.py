"""A fresh checkout's first steps (migrate, seed the demo) print nothing misleading."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_seeding_without_a_broker_prints_no_hostname_warning(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "FEED_STORAGE_DIR": str(tmp_path / "feeds"),
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    migrated = manage("migrate", "--no-input", "-v0")
    seeded = manage("seed_demo", "--days", "1", "--agents", "3")

    assert migrated.returncode == 0, migrated.stderr
    assert seeded.returncode == 0, seeded.stderr
    output = seeded.stdout + seeded.stderr
    assert "Demo ready" in output
    assert "No hostname was supplied" not in output
    assert "127.0.0.1:8000" not in output  # seed_demo does not know where Atendo is served
