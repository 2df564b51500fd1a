from __future__ import annotations

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from performance.access import sources_for_upload, sources_visible_to
from performance.models import FeedBatch, FeedSource


class NativeDateInput(forms.DateInput):
    """The browser's date picker: it reads and writes ISO days (2026-12-09) whatever format
    the active language shows dates in, so a re-shown form keeps its value."""

    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class NativeTimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%H:%M")


class FeedUploadForm(forms.Form):
    source = forms.ModelChoiceField(
        queryset=FeedSource.objects.none(),
        empty_label=_("Choose…"),
        label=_("Source"),
        error_messages={
            "invalid_choice": _(
                "You may not upload to this source: it is inactive, or not open to uploads "
                "from the teams you lead (an admin chooses them per source)."
            )
        },
    )
    format = forms.ChoiceField(
        choices=[("", _("The source's format")), *FeedSource.Format.choices],
        required=False,
        label=_("Format"),
        help_text=_("Leave as is unless this file differs from what the source usually sends."),
    )
    # An empty file is still received and kept: its batch fails with a clear reason.
    file = forms.FileField(allow_empty_file=True, label=_("File"))

    def __init__(self, *args, user: AbstractBaseUser, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources_for_upload(user)


class BatchFilterForm(forms.Form):
    source = forms.ModelChoiceField(
        queryset=FeedSource.objects.none(),
        required=False,
        empty_label=_("All sources"),
        label=_("Source"),
    )
    status = forms.ChoiceField(
        choices=[("", _("Any status")), *FeedBatch.Status.choices],
        required=False,
        label=_("Status"),
    )

    def __init__(self, *args, user: AbstractBaseUser, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources_visible_to(user)

    def filter(self, batches: QuerySet[FeedBatch]) -> QuerySet[FeedBatch]:
        """Narrow a queryset of batches already scoped to the user by the access helpers."""
        if not self.is_valid():
            return batches
        if source := self.cleaned_data["source"]:
            batches = batches.filter(source=source)
        if status := self.cleaned_data["status"]:
            batches = batches.filter(status=status)
        return batches
