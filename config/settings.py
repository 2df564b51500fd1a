"""Atendo settings, read from the environment with safe defaults.

With DEBUG=true and nothing else, Atendo runs on SQLite with Celery tasks executed eagerly;
without DEBUG it is in production mode and needs at least SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.utils.csp import CSP

from config.env import (
    env_bool,
    env_cache,
    env_database,
    env_int,
    env_list,
    env_mailer,
    env_rate,
    env_secret_key,
    env_str,
    env_time_zone,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# Off unless asked for: a debug 500 page shows the database URL and the whole environment.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret_key("SECRET_KEY", debug=DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS: each is off by default so that plain-HTTP development and tests keep working;
# README "Production" lists the values a deployment sets.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Load balancers probe the health check over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
# How many proxies that append to X-Forwarded-For stand in front of the WSGI server: the
# client address (login and token throttles, logs) is then the one the outermost of them saw
# (config/wsgi.py). 0 trusts no header: a client could forge it to dodge the throttles.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Only behind a proxy that always sets (and never forwards a client's) X-Forwarded-Proto.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Scripts and styles come from this site only; the few inline blocks that third-party
# pages need carry the request's nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "performance",
    "rewards",
    "coaching",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "performance.middleware.ViewerPreferencesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: it turns a refused login (AxesStandaloneBackend) into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "performance.context_processors.navigation",
                "config.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins (pages and admin) lock that username from that address for a while; an admin
# unlocks sooner by deleting the attempts under Axes in the admin.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.views.login_locked_out"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Password reset e-mails: printed to the terminal unless EMAIL_URL names a mail server.
MAILERS = {"default": env_mailer("EMAIL_URL", "console:")}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Atendo <atendo@localhost>")
# Where e-mailed notices link to (they are sent by workers, which know no request's host).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")


# Portuguese (Brazil) first: the language is the user's saved preference, else the browser's
# Accept-Language, else this default (performance.middleware, LocaleMiddleware).
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# Numbers are grouped by explicit filters (metric_format) only: ids in URLs, hx-vals,
# data-* attributes and form values must never read 1.234.
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Without DEBUG, `make collectstatic` writes compressed files with hashed names and
# WhiteNoise serves them; with DEBUG, files are served straight from the app folders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Raw feed files are kept as received (DESIGN invariant 1).
FEED_STORAGE_DIR = Path(env_str("FEED_STORAGE_DIR", str(BASE_DIR / "var" / "feeds")))
FEED_MAX_BYTES = env_int("FEED_MAX_BYTES", 512 * 1024 * 1024, minimum=1)
# Rows applied per transaction: a run that dies keeps every chunk it committed.
FEED_CHUNK_ROWS = env_int("FEED_CHUNK_ROWS", 20_000, minimum=1)
# A run processing a batch renews its lease with every chunk it commits (and every third of
# the lease while it reads without committing); a batch whose lease ran out lost its worker
# and is resumed after its last committed chunk. Far longer than one chunk takes.
FEED_BATCH_LEASE_SECONDS = env_int("FEED_BATCH_LEASE_SECONDS", 120, minimum=3)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# The most days one re-score covers: a standard's save (a rule change, new dates) and one
# `manage.py evaluate` run; longer spans are refused with a message saying how to split them.
# At most the years periods are kept for (periods.EARLIEST_DAY..LATEST_DAY).
STANDARD_RESCORE_MAX_DAYS = env_int("STANDARD_RESCORE_MAX_DAYS", 400, minimum=1, maximum=36_524)
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Eager tasks still pass through a producer: with no broker (or no host) named, kombu
    # falls back to AMQP's defaults and warns "No hostname was supplied" on every task.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A task whose pool process died is acknowledged as failed, not sent straight back: a poison
# message would kill worker after worker. Feed batches do not need the redelivery (their
# lease runs out and the beat resumes them); the other tasks are re-run by their schedules.
CELERY_TASK_REJECT_ON_WORKER_LOST = False
# Redis hands an unacknowledged message (its worker was killed) to another worker after
# this long. It must exceed the longest task, or a running task is delivered a second time;
# a redelivered feed batch is resumed if its lease ran out and otherwise left alone.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "evaluate-recent-periods": {
        "task": "performance.evaluate_recent_periods",
        "schedule": crontab(hour=2, minute=15),
    },
    # Catches subscribers up on evaluation changes the after-commit signal did not deliver
    # (the process died in between) and prunes the old ones every subscriber has applied.
    "deliver-evaluation-changes": {
        "task": "performance.deliver_evaluation_changes",
        "schedule": crontab(minute="*/5"),
    },
    # Resumes feed batches whose run died (lease of FEED_BATCH_LEASE_SECONDS run out).
    # After the night's evaluation (02:15): pays the periods that closed since, which no
    # evaluation change announces, and repairs whatever a lost task left behind.
    "reconcile-points": {
        "task": "rewards.reconcile_all",
        "schedule": crontab(hour=3, minute=30),
    },
    # Challenges become final (and pay their prizes) once their grace period is over.
    "finalize-challenges": {
        "task": "rewards.finalize_challenges",
        "schedule": crontab(minute="*/15"),
    },
    # Also after the night's evaluation: opens and resolves the coaching flags of the
    # periods that closed since (no evaluation change announces a period closing).
    "derive-coaching-flags": {
        "task": "coaching.derive_all",
        "schedule": crontab(hour=3, minute=45),
    },
    # A coaching session's follow-up date tells its coach once (in the agent's zone).
    "notify-coaching-follow-ups": {
        "task": "coaching.notify_follow_ups",
        "schedule": crontab(minute=5),
    },
    # Recurring one-to-ones are booked a few weeks ahead.
    "extend-one-to-one-series": {
        "task": "coaching.extend_series",
        "schedule": crontab(hour=4, minute=15),
    },
    # Training: overdue assignments marked, reminders before and after the due date.
    "training-reminders": {
        "task": "coaching.training_reminders",
        "schedule": crontab(minute=20),
    },
    # Review plans draw the interactions of the period that closed (after its facts landed).
    "sample-review-plans": {
        "task": "coaching.sample_review_plans",
        "schedule": crontab(hour=4, minute=30),
    },
    # Points for completed trainings a lost task did not pay (each paid once).
    "award-trainings": {
        "task": "rewards.award_trainings",
        "schedule": crontab(minute="*/10"),
    },
    "resume-stalled-feed-batches": {
        "task": "performance.resume_stalled_feed_batches",
        "schedule": crontab(minute="*"),
    },
}

# Throttle counts live in the cache: set CACHE_URL to a Redis URL when several processes serve.
CACHES = {"default": env_cache("CACHE_URL")}
# Leaderboards read from Redis sorted sets (rebuilt from the database, the source of truth)
# when this names a Redis (e.g. the cache's); empty: the database serves them.
LEADERBOARD_REDIS_URL = env_str("LEADERBOARD_REDIS_URL", "")
# Wrong feed tokens a client address may send before its token requests get 429 (DRF rate).
FEED_TOKEN_FAILURE_RATE = env_rate("FEED_TOKEN_FAILURE_RATE", "20/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Atendo API",
    "DESCRIPTION": "KPI feeds, scorecards, points and coaching for customer-service teams.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets ship with drf-spectacular-sidecar: the docs page needs no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # One name for a choice set the API uses in several fields.
    "ENUM_NAME_OVERRIDES": {
        "LeaderboardWindowEnum": "rewards.windows.SPAN_CHOICES",
        "FeedBatchStatusEnum": "performance.models.feeds.FeedBatch.Status",
        "RedemptionStatusEnum": "rewards.models.store.Redemption.Status",
        "CoachingFlagStatusEnum": "coaching.models.CoachingFlag.Status",
        "CoachingSessionStatusEnum": "coaching.models.CoachingSession.Status",
        "TrainingAssignmentStatusEnum": "coaching.models.TrainingAssignment.Status",
        "QAReviewStatusEnum": "coaching.models.QAReview.Status",
        "QADisputeStatusEnum": "coaching.models.QADispute.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    # Eager tasks would log every call; workers log failures anyway.
    "loggers": {"celery.app.trace": {"level": "WARNING"}},
}
