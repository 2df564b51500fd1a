"""Quality monitoring pages: for now the QA form preview admins open from the admin."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from coaching import selectors
from coaching.models import QAForm
from performance.roles import is_admin


@login_required
@require_GET
def qa_form_preview(request: HttpRequest, form_id: int) -> HttpResponse:
    """For admins writing a QA form: its sections and items as analysts will score them."""
    if not is_admin(request.user):
        raise Http404(gettext("Only admins preview QA forms."))
    form = QAForm.objects.select_related("channel").filter(pk=form_id).first()
    if form is None:
        raise Http404(gettext("No such QA form"))
    structure = selectors.form_structure(form)
    return render(
        request,
        "coaching/qa_form_preview.html",
        {
            "form": form,
            "structure": structure,
            "points": selectors.form_points(structure),
            "versions": form.versions.count(),
        },
    )
