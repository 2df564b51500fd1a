"""Pages composed from every app's contributions (config.composition), and the health check."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.composition import composition
from config.health import UNREACHABLE, health_checks


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    panels = [
        {"name": panel.name, "template": panel.template, "context": panel.context(request)}
        for panel in composition.home_panels_for(request.user)
    ]
    return render(request, "home.html", {"panels": panels})


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers: no login, 200 when the database and the broker answer, else 503."""
    checks = health_checks()
    return JsonResponse(checks, status=503 if UNREACHABLE in checks.values() else 200)


def login_locked_out(request: HttpRequest, credentials: dict[str, Any] | None) -> HttpResponse:
    """django-axes' answer to a login after too many failures (AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
