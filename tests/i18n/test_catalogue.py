"""The pt-BR catalogue is complete: makemessages over a copy of the source leaves no msgid
empty or fuzzy, so a new untranslated string anywhere fails the suite."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

SOURCES = ["performance", "config", "templates", "rewards", "coaching", "locale"]
CATALOGUE = Path("locale/pt_BR/LC_MESSAGES/django.po")
ENTRY = re.compile(
    r'^(?:msgctxt\s+"((?:[^"\\]|\\.)*)"\n)?msgid\s+((?:"(?:[^"\\]|\\.)*"\n?)+)', re.M
)


def _msgids(po_text: str) -> list[str]:
    found = []
    for match in ENTRY.finditer(po_text):
        msgid = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(2)))
        if msgid:
            found.append(f"{match.group(1)} | {msgid}" if match.group(1) else msgid)
    return found


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    if not (shutil.which("xgettext") and shutil.which("msgattrib")):
        pytest.skip(
            "GNU gettext (xgettext, msgmerge, msgattrib) is missing: apt-get install gettext"
        )
    tree = tmp_path_factory.mktemp("source")
    base = Path(settings.BASE_DIR)
    for name in SOURCES:
        if (base / name).exists():
            shutil.copytree(base / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(base / "manage.py", tree / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "pt_BR", "--no-obsolete"],
        cwd=tree,
        check=True,
        capture_output=True,
    )
    return tree / CATALOGUE


def _attrib(catalogue: Path, option: str) -> list[str]:
    result = subprocess.run(
        ["msgattrib", option, "--no-obsolete", str(catalogue)],
        check=True,
        capture_output=True,
        text=True,
    )
    return _msgids(result.stdout)


def test_no_string_is_left_untranslated(extracted):
    untranslated = _attrib(extracted, "--untranslated")
    assert not untranslated, "untranslated in pt_BR (run `make messages`, then translate):\n" + (
        "\n".join(untranslated)
    )


def test_no_translation_is_fuzzy(extracted):
    fuzzy = _attrib(extracted, "--only-fuzzy")
    assert not fuzzy, "fuzzy in pt_BR (check the translation, drop the fuzzy flag):\n" + (
        "\n".join(fuzzy)
    )


def test_the_compiled_catalogue_is_committed_beside_the_source():
    base = Path(settings.BASE_DIR) / CATALOGUE
    compiled = base.with_suffix(".mo")
    assert compiled.exists(), "run `make messages` and commit django.mo"
    assert compiled.stat().st_size > 10_000
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(compiled)], cwd=settings.BASE_DIR, check=False
    )
    assert ignored.returncode != 0, "django.mo must not be ignored by git"


def test_the_compiled_catalogue_matches_its_source(tmp_path):
    """A .po edited without `make messages` would ship stale translations."""
    if not shutil.which("msgfmt"):
        pytest.skip("GNU gettext (msgfmt) is missing: apt-get install gettext")
    source = Path(settings.BASE_DIR) / CATALOGUE
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(source)], check=True)

    def catalog(path: Path) -> dict:
        with path.open("rb") as compiled:
            return gettext.GNUTranslations(compiled)._catalog

    assert catalog(source.with_suffix(".mo")) == catalog(fresh), "run `make messages`"
