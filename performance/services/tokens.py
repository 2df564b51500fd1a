"""Feed source API tokens: shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from performance.models import FeedSource

TOKEN_PREFIX = "atd_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_source_rotate_token(*, source: FeedSource) -> str:
    """Give the source a new token (the old one stops working) and return it once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    source.token_hash = _hash(token)
    source.token_hint = token[: len(TOKEN_PREFIX) + 4]
    source.token_rotated_at = timezone.now()
    source.save(update_fields=["token_hash", "token_hint", "token_rotated_at"])
    return token


def feed_source_for_token(token: str, *, include_inactive: bool = False) -> FeedSource | None:
    """The active source a token belongs to (or an inactive one, when asked), or None."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    sources = FeedSource.objects.filter(token_hash=_hash(token))
    if not include_inactive:
        sources = sources.filter(active=True)
    source = sources.first()
    if source is None or not secrets.compare_digest(source.token_hash, _hash(token)):
        return None
    return source
