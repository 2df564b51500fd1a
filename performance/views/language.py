"""The language switch: a plain form, so it works without JavaScript and before logging in."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from performance.middleware import remember_language
from performance.services.preferences import user_preference_set_language


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    # Django's view checks the language, sets the cookie (which the login page and a
    # logged-out browser follow) and redirects back to a safe `next`.
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_preference_set_language(user=request.user, language=language)
        remember_language(request, language)
    return response
