from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from config.composition import composition


def navigation(request: HttpRequest) -> dict[str, list[dict[str, object]]]:
    """The main navigation's links for this user, the current page's marked."""
    if not request.user.is_authenticated:
        return {"nav_entries": []}
    entries = composition.navigation_for(request.user)
    match = getattr(request, "resolver_match", None)
    shown = match.view_name if match else None
    current = next((e for e in reversed(entries) if shown in e.current_on), None)
    return {
        "nav_entries": [
            {"label": e.label, "url": reverse(e.url_name), "current": e is current} for e in entries
        ]
    }
