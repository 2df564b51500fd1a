"""Notices to people: something happened that concerns them (a badge earned, a redemption
decided, a session scheduled). Written once per key, in the recipient's language; any app
may send them (rewards and coaching do), through performance.services.notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    # What it is about, once per person: "badge:3:2026-11-01", "redemption:12:approved".
    key = models.CharField(max_length=200, verbose_name=_("key"))
    kind = models.CharField(max_length=40, verbose_name=_("kind"))
    message = models.CharField(max_length=500, verbose_name=_("message"))
    url = models.CharField(max_length=300, blank=True, verbose_name=_("link"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))
    emailed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("e-mailed at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_user_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"
