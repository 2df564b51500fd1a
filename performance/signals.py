"""Signals performance sends for other apps; it never imports them.

`evaluations_changed` is sent after commit with `evaluation_ids`: the Evaluation rows that an
evaluation run created or changed.
"""

from __future__ import annotations

from django.dispatch import Signal

evaluations_changed = Signal()
