"""Service standards, their versions and evaluations in Django admin, with the rule preview.

Standards are saved through `standard_save` only, so every rule edit becomes a version;
evaluations and versions are read-only (the engine writes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from performance.admin.base import ReadOnlyAdmin
from performance.metrics import Direction
from performance.models import (
    MEANING_FIELDS,
    RULE_FIELD_NAMES,
    STANDARD_FIELDS,
    Channel,
    Evaluation,
    ServiceStandard,
    StandardVersion,
)
from performance.services.evaluation.preview import (
    DEFAULT_PREVIEW_PERIODS,
    MAX_PREVIEW_PERIODS,
    OutcomeCounts,
    PreviewRow,
    preview_rule,
)
from performance.services.standards import (
    standard_end,
    standard_end_validate,
    standard_save,
    standard_validate,
)
from performance.templatetags.metric_format import channel_label, format_points

ALL_CHANNELS_LABEL = _("All channels")
# The rule fields shown apart, under "Coaching", in the standard's form.
COACHING_FIELDS = ("coaching_missed", "coaching_window", "coaching_resolve_after")
PREVIEW_TEMPLATE = "admin/performance/servicestandard/_rule_preview.html"


def _channel_choices() -> list[tuple[str, str]]:
    return [(code, channel_label(code)) for code in Channel.objects.values_list("code", flat=True)]


def _gate_label(standard: ServiceStandard) -> str:
    return f"{standard.name} ({standard.get_metric_display()}, {standard.period})"


def _ends_before(original: ServiceStandard, first_day_of_clone) -> bool:
    """Whether ending `original` the day before its clone starts would shorten it."""
    last_day = first_day_of_clone - timedelta(days=1)
    return original.active_until is None or original.active_until > last_day


class ServiceStandardAdminForm(forms.ModelForm):
    effective_from = forms.DateField(
        label=_("Rule changes take effect from"),
        initial=timezone.localdate,
        widget=AdminDateWidget,
        help_text=_(
            "Periods starting on or after this day are judged by the edited rule; "
            "earlier periods keep the version they were evaluated with."
        ),
    )
    # Adding a clone of a standard (the "Clone as a new standard" button).
    clone_of = forms.ModelChoiceField(
        queryset=ServiceStandard.objects.all(), required=False, widget=forms.HiddenInput
    )
    end_original = forms.BooleanField(
        required=False,
        initial=True,
        label=_("End the original standard"),
        help_text=_(
            "The original's last day becomes the day before this one starts, so the two never "
            "judge the same period."
        ),
    )

    # Set on a form built for the rule preview: it judges the draft, saves nothing.
    for_preview = False

    class Meta:
        model = ServiceStandard
        fields = STANDARD_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "channel" in self.fields:
            self.fields["channel"] = forms.ChoiceField(
                choices=[("", ALL_CHANNELS_LABEL), *_channel_choices()],
                required=False,
                label=_("channel"),
                help_text=_("Only this channel's interactions count."),
            )
        if "quality_gate" in self.fields:
            self.fields["quality_gate"].label_from_instance = _gate_label
        if self.instance.pk is None:
            # The first version takes effect from `active_from`.
            self.fields.pop("effective_from", None)
        else:
            self.fields.pop("clone_of", None)
            self.fields.pop("end_original", None)

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors or self.for_preview:
            return
        teams = self.cleaned_data.get("teams")
        try:
            standard_validate(
                standard=self.instance,
                team_ids=None if teams is None else [team.pk for team in teams],
                effective_from=self.cleaned_data.get("effective_from"),
            )
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                self.add_error(name if name in self.fields else None, problems)
        original = self.cleaned_data.get("clone_of")
        if (
            original is not None
            and self.cleaned_data.get("end_original")
            and _ends_before(original, self.instance.active_from)
        ):
            try:
                standard_end_validate(
                    standard_id=original.pk,
                    last_day=self.instance.active_from - timedelta(days=1),
                )
            except ValidationError as error:
                self.add_error(
                    "end_original",
                    gettext("“%(name)s” cannot end the day before this one starts: %(why)s")
                    % {"name": original.name, "why": " ".join(error.messages)},
                )


class PreviewOptionsForm(forms.Form):
    preview_periods = forms.IntegerField(
        label=_("Periods"), min_value=1, max_value=MAX_PREVIEW_PERIODS, required=False
    )


class ChannelListFilter(admin.SimpleListFilter):
    title = _("channel")
    parameter_name = "channel"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [(self.ALL, ALL_CHANNELS_LABEL), *_channel_choices()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(channel="" if value == self.ALL else value)


# --- the preview as a table ----------------------------------------------------------------

PREVIEW_COLUMNS = [
    ("agents", _("Agents")),
    ("exceeded", _("Exceeded")),
    ("met", _("Met")),
    ("missed", _("Missed")),
    ("insufficient_data", _("Insufficient data")),
    ("gate_not_met", _("Met, gate not met")),
    ("points", _("Points")),
]


@dataclass(frozen=True)
class PreviewLine:
    label: str
    key: str
    cells: list[tuple[str, int, int | None]]  # column key, draft count, current-rule count


@dataclass(frozen=True)
class PreviewTable:
    rule: str
    scope: str
    compared_version: int | None
    columns: list[tuple[str, str]]
    lines: list[PreviewLine]
    total: PreviewLine


def _preview_line(
    label: str, key: str, draft: OutcomeCounts, saved: OutcomeCounts | None, columns: list
) -> PreviewLine:
    return PreviewLine(
        label=label,
        key=key,
        cells=[
            (name, getattr(draft, name), getattr(saved, name) if saved is not None else None)
            for name, _label in columns
        ],
    )


def _rule_summary(draft: ServiceStandard) -> str:
    metric = draft.metric_definition
    sign = "≥" if metric.direction is Direction.HIGHER else "≤"
    unit = f" {metric.unit}" if metric.unit else ""
    text = f"{metric.label} {sign} {draft.target:g}{unit}"
    if draft.stretch_target is not None:
        text += gettext(", exceeded %(bound)s") % {
            "bound": f"{sign} {draft.stretch_target:g}{unit}"
        }
    if metric.needs_threshold:
        text += gettext(" within %(seconds)s s") % {"seconds": draft.threshold_seconds}
    text += gettext("; at least %(minimum)s %(sample)s") % {
        "minimum": draft.min_sample,
        "sample": metric.sample_label,
    }
    text += gettext("; %(met)s / %(exceeded)s points") % {
        "met": draft.points_met,
        "exceeded": draft.points_exceeded,
    }
    if draft.points_missed_penalty:
        text += gettext("; %(penalty)s when missed") % {
            "penalty": format_points(-draft.points_missed_penalty)
        }
    if draft.quality_gate is not None:
        text += gettext("; gated on %(gate)s") % {"gate": draft.quality_gate.name}
    return text


def preview_table(
    draft: ServiceStandard, teams: list, rows: list[PreviewRow], compared_version: int | None
) -> PreviewTable:
    gated = draft.quality_gate_id is not None or any(
        row.saved is not None and row.saved.gate_not_met for row in rows
    )
    columns = [c for c in PREVIEW_COLUMNS if gated or c[0] != "gate_not_met"]
    compared = compared_version if any(row.saved is not None for row in rows) else None
    lines = [
        _preview_line(row.period.label, row.period.key, row.draft, row.saved, columns)
        for row in reversed(rows)
    ]
    draft_total = sum((row.draft for row in rows), OutcomeCounts())
    saved_total = sum((row.saved for row in rows), OutcomeCounts()) if compared else None
    channel = draft.channel or str(ALL_CHANNELS_LABEL).lower()
    team_names = ", ".join(team.name for team in teams) or gettext("every team")
    return PreviewTable(
        rule=_rule_summary(draft),
        scope=f"{channel}; {team_names}",
        compared_version=compared,
        columns=columns,
        lines=lines,
        total=_preview_line(
            ngettext("All %(count)s period", "All %(count)s periods", len(rows))
            % {"count": len(rows)},
            "total",
            draft_total,
            saved_total,
            columns,
        ),
    )


def _form_errors(*forms_with_errors: forms.Form) -> list[tuple[str, str]]:
    errors = []
    for form in forms_with_errors:
        for name, messages_ in form.errors.items():
            field = form.fields.get(name)
            label = str(field.label or name.replace("_", " ").capitalize()) if field else ""
            errors.append((label, " ".join(messages_)))
    return errors


# --- admins --------------------------------------------------------------------------------


@admin.register(ServiceStandard)
class ServiceStandardAdmin(admin.ModelAdmin):
    form = ServiceStandardAdminForm
    change_form_template = "admin/performance/servicestandard/change_form.html"
    list_display = [
        "name",
        "metric_label",
        "channel_label",
        "period_label",
        "target",
        "stretch_target",
        "min_sample",
        "points",
        "quality_gate",
        "version",
        "active_dates",
    ]
    list_filter = ["metric", "period", ChannelListFilter]
    list_select_related = ["quality_gate"]
    search_fields = ["name"]
    filter_horizontal = ["teams"]
    save_on_top = True  # so Enter in a field saves instead of pressing "Preview this rule"

    # A different metric, period or channel is a different standard, not a new version:
    # fixed once the standard has evaluations (clone it instead).
    IMMUTABLE = ["metric", "period", "channel", "teams"]
    actions = ["clone_selected"]

    @staticmethod
    def _evaluated(obj: ServiceStandard | None) -> bool:
        return obj is not None and Evaluation.objects.filter(standard_id=obj.pk).exists()

    def _cloned_from(self, request: HttpRequest) -> ServiceStandard | None:
        """The standard the add page clones (?clone=<id>, or the posted clone_of)."""
        key = request.POST.get("clone_of") or request.GET.get("clone")
        if not key or not str(key).isdigit():
            return None
        return ServiceStandard.objects.filter(pk=int(key)).first()

    def get_fieldsets(self, request: HttpRequest, obj: ServiceStandard | None = None) -> list:
        rule = [name for name in RULE_FIELD_NAMES if name not in COACHING_FIELDS]
        what = ["name", "metric", "channel", "period", "teams"]
        description = None
        if obj is not None:
            rule = ["current_version", *rule, "effective_from"]
            if self._evaluated(obj):
                what[2] = "channel_label"
                description = gettext(
                    "Metric, channel, period and teams are fixed once the standard has "
                    "evaluations: to measure something else, clone it as a new standard."
                )
        fieldsets = [
            (None, {"fields": what, "description": description}),
            (_("Rule"), {"fields": rule}),
            (
                _("Coaching"),
                {"fields": [COACHING_FIELDS]},
            ),
            (_("Active dates"), {"fields": [("active_from", "active_until")]}),
        ]
        if obj is None and (original := self._cloned_from(request)) is not None:
            fieldsets.append(
                (
                    gettext("Clone of “%(name)s”") % {"name": original.name},
                    {"fields": ["clone_of", "end_original"]},
                )
            )
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: ServiceStandard | None = None):
        if obj is None:
            return []
        if self._evaluated(obj):
            return [*self.IMMUTABLE, "channel_label", "current_version"]
        return ["current_version"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        original = self._cloned_from(request)
        if original is None:
            return {
                "active_from": timezone.localdate(),
                **super().get_changeform_initial_data(request),
            }
        return {
            "name": gettext("%(name)s (copy)") % {"name": original.name},
            "active_from": timezone.localdate(),
            **{name: getattr(original, name) for name in MEANING_FIELDS if name != "teams"},
            "teams": list(original.teams.values_list("pk", flat=True)),
            **{name: getattr(original, name) for name in RULE_FIELD_NAMES},
            "quality_gate": original.quality_gate_id,
            "clone_of": original.pk,
            "end_original": True,
        }

    @admin.action(description=_("Clone as a new standard"))
    def clone_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Select exactly one standard to clone."), messages.WARNING
            )
            return None
        return HttpResponseRedirect(self.clone_url(queryset.get()))

    def clone_url(self, standard: ServiceStandard) -> str:
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}"
        return f"{reverse(f'{name}_add')}?clone={standard.pk}"

    def save_model(
        self, request: HttpRequest, obj: ServiceStandard, form: forms.ModelForm, change: bool
    ) -> None:
        before = obj.version
        version = standard_save(
            standard=obj,
            changed_by=request.user,
            effective_from=form.cleaned_data.get("effective_from"),
        )
        if change and version.number != before:
            note = gettext(
                "Rule changed: version %(version)s judges periods starting on or after "
                "%(since)s; earlier evaluations keep version %(before)s."
            ) % {
                "version": version.number,
                "since": date_format(version.effective_from, "DATE_FORMAT"),
                "before": before,
            }
            if version.effective_from < timezone.localdate():
                note += " " + gettext("Periods from then to yesterday are being re-scored.")
            self.message_user(request, note, messages.INFO)
        original = form.cleaned_data.get("clone_of")
        if (
            not change
            and original is not None
            and form.cleaned_data.get("end_original")
            and _ends_before(original, obj.active_from)
        ):
            last_day = obj.active_from - timedelta(days=1)
            standard_end(standard=original, last_day=last_day, changed_by=request.user)
            self.message_user(
                request,
                gettext("“%(name)s” now ends on %(day)s.")
                % {"name": original.name, "day": date_format(last_day, "DATE_FORMAT")},
                messages.INFO,
            )

    # --- list columns ----------------------------------------------------------------------

    @admin.display(description=_("metric"), ordering="metric")
    def metric_label(self, standard: ServiceStandard) -> str:
        return standard.get_metric_display()

    @admin.display(description=_("channel"), ordering="channel")
    def channel_label(self, standard: ServiceStandard) -> str:
        return channel_label(standard.channel) if standard.channel else ALL_CHANNELS_LABEL

    @admin.display(description=_("period"), ordering="period")
    def period_label(self, standard: ServiceStandard) -> str:
        return standard.get_period_display()

    @admin.display(description=_("current version"))
    def current_version(self, standard: ServiceStandard) -> str:
        return f"v{standard.version}"

    @admin.display(description=_("points (met / exceeded; missed)"))
    def points(self, standard: ServiceStandard) -> str:
        text = f"{standard.points_met} / {standard.points_exceeded}"
        if standard.points_missed_penalty:
            text += f"; {format_points(-standard.points_missed_penalty)}"
        return text

    @admin.display(description=_("active"), ordering="active_from")
    def active_dates(self, standard: ServiceStandard) -> str:
        if standard.active_until:
            return gettext("%(first)s to %(last)s") % {
                "first": date_format(standard.active_from, "SHORT_DATE_FORMAT"),
                "last": date_format(standard.active_until, "SHORT_DATE_FORMAT"),
            }
        return gettext("from %(first)s") % {
            "first": date_format(standard.active_from, "SHORT_DATE_FORMAT")
        }

    # --- the rule preview ------------------------------------------------------------------

    def get_urls(self) -> list:
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        preview = self.admin_site.admin_view(self.rule_preview_view)
        return [
            path("preview/", preview, name=f"{name}_preview_add"),
            path("<path:object_id>/preview/", preview, name=f"{name}_preview"),
            *super().get_urls(),
        ]

    def _form_url(self, obj: ServiceStandard | None) -> str:
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}"
        if obj is None:
            return reverse(f"{name}_add")
        return reverse(f"{name}_change", args=[obj.pk])

    def _preview_url(self, obj: ServiceStandard | None) -> str:
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}"
        if obj is None:
            return reverse(f"{name}_preview_add")
        return reverse(f"{name}_preview", args=[obj.pk])

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict,
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: ServiceStandard | None = None,
    ) -> HttpResponse:
        saved = obj if obj is not None and obj.pk else None
        context.setdefault("preview_periods", DEFAULT_PREVIEW_PERIODS)
        context["preview_url"] = self._preview_url(saved)
        context["max_preview_periods"] = MAX_PREVIEW_PERIODS
        if saved is not None:
            context["clone_url"] = self.clone_url(saved)
            context["versions"] = saved.versions.select_related("quality_gate", "created_by")
            context["evaluations_url"] = (
                reverse("admin:performance_evaluation_changelist")
                + f"?standard__id__exact={saved.pk}"
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def rule_preview_view(self, request: HttpRequest, object_id: str | None = None) -> HttpResponse:
        """POSTed from the add or change form: judges the form's unsaved rule. Answers htmx
        with the result block, a plain POST with the whole form page around it."""
        original = None
        if object_id is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
        else:
            original = self.get_object(request, unquote(object_id))
            if original is None:
                raise Http404(gettext("No such standard"))
            if not self.has_change_permission(request, original):
                raise PermissionDenied
        if request.method != "POST":
            return HttpResponseRedirect(self._form_url(original))

        fieldsets = self.get_fieldsets(request, original)
        form_class = self.get_form(
            request, original, change=original is not None, fields=flatten_fieldsets(fieldsets)
        )
        # Binding fills this copy with the form's values: it is the draft, never saved.
        draft = self.get_object(request, unquote(object_id)) if original is not None else None
        form = form_class(request.POST, request.FILES, instance=draft)
        form.for_preview = True
        options = PreviewOptionsForm(request.POST)
        context: dict = {"preview_periods": request.POST.get("preview_periods", "")}
        if form.is_valid() and options.is_valid():
            periods = options.cleaned_data["preview_periods"] or DEFAULT_PREVIEW_PERIODS
            teams = list(form.cleaned_data.get("teams", []))
            rows = preview_rule(
                draft=form.instance,
                team_ids=[team.pk for team in teams],
                periods=periods,
                until=timezone.localdate(),
            )
            context["preview_periods"] = periods
            context["rule_preview"] = preview_table(
                form.instance, teams, rows, original.version if original else None
            )
        else:
            context["preview_errors"] = _form_errors(form, options)

        if request.htmx:
            return TemplateResponse(request, PREVIEW_TEMPLATE, context)
        return self._form_page(request, original, form, fieldsets, context)

    def _form_page(
        self,
        request: HttpRequest,
        original: ServiceStandard | None,
        form: forms.ModelForm,
        fieldsets: list,
        extra: dict,
    ) -> HttpResponse:
        """The add or change page around a bound form, as the admin renders it after a
        failed save, so a preview without JavaScript keeps every value typed."""
        add = original is None
        admin_form = helpers.AdminForm(
            form,
            fieldsets,
            self.get_prepopulated_fields(request, original),
            self.get_readonly_fields(request, original),
            model_admin=self,
        )
        context = {
            **self.admin_site.each_context(request),
            "title": (gettext("Add %s") if add else gettext("Change %s")) % self.opts.verbose_name,
            "subtitle": str(original) if original else None,
            "adminform": admin_form,
            "object_id": original.pk if original else None,
            "original": original,
            "is_popup": IS_POPUP_VAR in request.POST,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            **extra,
        }
        return self.render_change_form(
            request,
            context,
            add=add,
            change=not add,
            form_url=self._form_url(original),
            obj=original,
        )


@admin.register(StandardVersion)
class StandardVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "standard",
        "number",
        "effective_from",
        *RULE_FIELD_NAMES,
        "created_by",
        "created_at",
    ]
    list_filter = ["standard"]
    list_select_related = ["standard", "quality_gate", "created_by"]


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = [
        "agent",
        "standard",
        "version_number",
        "period_start",
        "period_end",
        "value_rounded",
        "sample_size",
        "outcome",
        "points",
        "gate_passed",
        "computed_at",
    ]
    list_filter = [
        "agent__team",
        "standard",
        "outcome",
        ("period_start", admin.DateFieldListFilter),
    ]
    list_select_related = ["agent__user", "standard", "version"]
    search_fields = ["agent__user__username", "agent__user__first_name", "agent__user__last_name"]
    show_full_result_count = False
    ordering = ["-period_start", "-id"]

    @admin.display(description=_("version"), ordering="version__number")
    def version_number(self, evaluation: Evaluation) -> str:
        return f"v{evaluation.version.number}"

    @admin.display(description=_("value"), ordering="value")
    def value_rounded(self, evaluation: Evaluation) -> str | None:
        return None if evaluation.value is None else number_format(evaluation.value, 2)
