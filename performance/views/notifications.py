"""A person's notices: the list (opening it marks them read), the unread count the header
loads after the page (so pages cost no query for it), and the e-mail opt-in."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from performance.models import Notification, UserPreference
from performance.services.notifications import (
    notifications_mark_read,
    user_preference_set_email_notifications,
)
from performance.views.common import htmx_swap

NOTICES_PER_PAGE = 30


class EmailNoticesForm(forms.Form):
    email_notifications = forms.BooleanField(required=False, label=_("Also e-mail me each notice"))


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    notices = Notification.objects.filter(user=request.user)
    page = Paginator(notices, NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    unread = {notice.pk for notice in page.object_list if notice.read_at is None}
    notifications_mark_read(user=request.user)
    wants_email = UserPreference.objects.filter(
        user=request.user, email_notifications=True
    ).exists()
    context = {
        "page": page,
        "unread": unread,
        "form": EmailNoticesForm(initial={"email_notifications": wants_email}),
        "has_email": bool(request.user.email),
    }
    swap = htmx_swap(request) and request.htmx.target == "notices"
    template = "notifications.html#notices" if swap else "notifications.html"
    return render(request, template, context)


@login_required
@require_GET
def notification_count(request: HttpRequest) -> HttpResponse:
    count = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
    return render(request, "_notification_count.html", {"count": count})


@login_required
@require_POST
def notification_settings(request: HttpRequest) -> HttpResponse:
    form = EmailNoticesForm(request.POST)
    form.is_valid()  # a checkbox: any input is a valid yes or no
    enabled = form.cleaned_data.get("email_notifications", False)
    user_preference_set_email_notifications(user=request.user, enabled=enabled)
    messages.success(
        request,
        gettext("Notices will also reach you by e-mail.")
        if enabled
        else gettext("Notices stay here, with no e-mail."),
    )
    return redirect("notifications")
