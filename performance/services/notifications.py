"""Notices: one per person and key, written in the recipient's language (their saved one,
else the site's), e-mailed after commit to those who opted in. Any app sends them here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from performance.models import Notification, UserPreference
from performance.tasks import send_notification_emails as send_notification_emails_task


@dataclass(frozen=True)
class Notice:
    user_id: int
    key: str
    kind: str
    # Called with the recipient's language active, so the notice speaks it.
    message: Callable[[], str]
    url: str = ""


def _languages(user_ids: set[int]) -> dict[int, tuple[str, bool]]:
    """user id -> (language to write in, wants e-mail)."""
    found = {
        user_id: (language or settings.LANGUAGE_CODE, email)
        for user_id, language, email in UserPreference.objects.filter(
            user_id__in=user_ids
        ).values_list("user_id", "language", "email_notifications")
    }
    return {user_id: found.get(user_id, (settings.LANGUAGE_CODE, False)) for user_id in user_ids}


def user_languages(user_ids: set[int]) -> dict[int, str]:
    """user id -> the language to write to them in (their saved one, else the site's)."""
    return {user_id: language for user_id, (language, _email) in _languages(user_ids).items()}


def notices_send(notices: Sequence[Notice]) -> int:
    """Write the notices not sent before (per user and key); returns how many are new."""
    if not notices:
        return 0
    unique = {(notice.user_id, notice.key): notice for notice in notices}
    seen = Q()
    for user_id, key in unique:
        seen |= Q(user_id=user_id, key=key)
    already = set(Notification.objects.filter(seen).values_list("user_id", "key"))
    new = [notice for pair, notice in unique.items() if pair not in already]
    if not new:
        return 0
    languages = _languages({notice.user_id for notice in new})
    rows = []
    for notice in new:
        language, _email = languages[notice.user_id]
        with translation.override(language):
            message = str(notice.message())[:500]
        rows.append(
            Notification(
                user_id=notice.user_id,
                key=notice.key,
                kind=notice.kind,
                message=message,
                url=notice.url,
            )
        )
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        emailed = [notice for notice in new if languages[notice.user_id][1]]
        if emailed:
            send_notification_emails_task.delay_on_commit(
                [(notice.user_id, notice.key) for notice in emailed]
            )
    return len(new)


def notification_emails_send(*, pairs: Sequence[tuple[int, str]]) -> int:
    """E-mail each notice once (compare-and-swap on emailed_at); returns how many went."""
    sent = 0
    for user_id, key in pairs:
        notification = (
            Notification.objects.select_related("user").filter(user_id=user_id, key=key).first()
        )
        if notification is None or not notification.user.email:
            continue
        claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            continue
        language, _wants = _languages({user_id})[user_id]
        with translation.override(language):
            link = f"{settings.SITE_URL}{notification.url}" if notification.url else ""
            body = "\n\n".join(
                part
                for part in (
                    notification.message,
                    link,
                    _("You get these e-mails because you asked for them on your notices page.")
                    + f" {settings.SITE_URL}{reverse('notifications')}",
                )
                if part
            )
            send_mail(
                subject=_("Atendo: %(message)s") % {"message": notification.message[:120]},
                message=body,
                from_email=None,
                recipient_list=[notification.user.email],
            )
        sent += 1
    return sent


def notifications_mark_read(*, user: AbstractBaseUser) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def user_preference_set_email_notifications(*, user: AbstractBaseUser, enabled: bool) -> None:
    UserPreference.objects.update_or_create(
        user=user,
        defaults={"email_notifications": enabled},
        create_defaults={"email_notifications": enabled, "language": ""},
    )
