"""Coaching admin: flags and sessions are read-only history here (derived by the rule, run
by leads on the coaching pages); admins author training modules and QA forms."""

from coaching.admin import flags, quality, sessions, training  # noqa: F401
