"""What the coaching pages share: the leads-only guard and a service's refusal on a form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext

from performance.roles import is_team_lead


def lead_or_404(request: HttpRequest) -> None:
    if not is_team_lead(request.user):
        raise Http404(gettext("Only team leads work the coaching queue."))


def add_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            for message in problems:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)
