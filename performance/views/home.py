"""The home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from performance.access import (
    home_overview_for,
)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "performance/home.html", {"overview": home_overview_for(request.user)})
