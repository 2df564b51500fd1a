"""The settings of the test suite: the production defaults (DEBUG off) with a signing key
of its own, and static files read from the app folders, as no collectstatic runs first."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "tests-only-signing-key-" + "t" * 40)

from config.settings import *  # noqa: F403
from config.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves the app folders' files on each request, as in development.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The test client logs in without a request, which django-axes refuses; tests/test_production.py
# turns it on to test the throttling.
AXES_ENABLED = False
