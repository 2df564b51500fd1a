"""Pages composed from every app's contributions (config.composition), and the health check."""

from __future__ import annotations

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
