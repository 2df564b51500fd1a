from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from rewards.admin.ledger import ReadOnlyAdmin
from rewards.models import Redemption, StoreItem


class StoreItemForm(forms.ModelForm):
    restock = forms.IntegerField(
        required=False,
        min_value=-100_000,
        max_value=100_000,
        label=_("Units to add"),
        help_text=_(
            "Added to the stock as it is when you save (negative to remove): redemptions "
            "move the stock meanwhile, so it is never set from this page's copy."
        ),
    )

    class Meta:
        model = StoreItem
        fields = ["name", "description", "cost", "stock", "active", "teams", "position"]

    def clean_restock(self) -> int | None:
        restock = self.cleaned_data.get("restock")
        instance = self.instance
        if restock and instance.pk:
            if instance.stock is None:
                raise forms.ValidationError(_("The item is unlimited: it has no stock to add to."))
            current = StoreItem.objects.filter(pk=instance.pk).values_list("stock", flat=True)[0]
            if current is not None and current + restock < 0:
                raise forms.ValidationError(
                    _("Only %(stock)s units are left to remove.") % {"stock": current}
                )
        return restock


@admin.register(StoreItem)
class StoreItemAdmin(admin.ModelAdmin):
    form = StoreItemForm
    list_display = ["name", "cost", "stock", "active", "position"]
    list_editable = ["active", "position"]
    list_filter = ["active", "teams"]
    search_fields = ["name", "description"]
    filter_horizontal = ["teams"]

    def get_readonly_fields(self, request: HttpRequest, obj: StoreItem | None = None):
        return ["stock"] if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: StoreItem | None = None):
        fields = ["name", "description", "cost", "stock", "active", "teams", "position"]
        return [*fields, "restock"] if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: StoreItem, form, change: bool) -> None:
        """A change writes the fields it changed and adds the restock to the stock in the
        database; the stock on the page may be stale."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        fields = [name for name in form.changed_data if name not in {"teams", "restock"}]
        if fields:
            obj.save(update_fields=fields)
        if restock := form.cleaned_data.get("restock"):
            StoreItem.objects.filter(pk=obj.pk, stock__gte=-restock).update(
                stock=F("stock") + restock
            )
        obj.refresh_from_db(fields=["stock"])


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    """Decisions are taken on the approvals page (they move points and stock)."""

    list_display = ["created_at", "agent", "item", "cost", "status", "decided_by", "decided_at"]
    list_filter = ["status", "agent__team", "item"]
    search_fields = ["agent__user__username", "agent__user__first_name", "item__name"]
    date_hierarchy = "created_at"
    list_select_related = ["agent__user", "item", "decided_by"]
