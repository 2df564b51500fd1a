"""Pages composed from every app's contributions (config.composition)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from config.composition import composition


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    panels = [
        {"name": panel.name, "template": panel.template, "context": panel.context(request)}
        for panel in composition.home_panels_for(request.user)
    ]
    return render(request, "home.html", {"panels": panels})
