"""Alterations in the Django admin: managers keep the kinds on offer (turnaround, fee, skills);
work orders are read here (their steps go through the services, from the pages and the API) and
may be cancelled before the work starts with the service the API uses."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.admin_tools import BigTableAdmin, HistoryAdmin, transition_action
from installations.admin.appointments import ReasonActionForm
from installations.models import Alteration, AlterationKind
from installations.services_alterations import alteration_cancel


class AlterationKindForm(forms.ModelForm):
    class Meta:
        model = AlterationKind
        fields = [
            "code",
            "name",
            "product",
            "category",
            "skills",
            "turnaround_days",
            "fee",
            "currency",
            "service_product",
            "is_active",
        ]

    def clean(self):
        data = super().clean()
        product = data.get("service_product")
        if product is not None and (product.stocked or product.returnable):
            raise ValidationError(
                {"service_product": "The fee is sold as a product that is neither stocked nor returnable."}
            )
        if data.get("product") and data.get("category"):
            raise ValidationError("For one product or for a whole category, not both.")
        return data


@admin.register(AlterationKind)
class AlterationKindAdmin(HistoryAdmin):
    form = AlterationKindForm
    list_display = ["name", "code", "turnaround_days", "fee", "currency", "service_product", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["service_product"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["product", "category", "service_product"]
    filter_horizontal = ["skills"]


def cancel_alteration(alteration, *, actor, reason):
    return alteration_cancel(actor=actor, alteration=alteration, reason=reason)


@admin.register(Alteration)
class AlterationAdmin(BigTableAdmin, HistoryAdmin):
    list_display = ["number", "kind", "customer", "location", "assigned_to", "due_on", "status", "fee"]
    list_filter = ["status", "kind", "location"]
    list_select_related = ["kind", "customer", "location", "assigned_to__user"]
    search_fields = ["=number", "=customer__number", "=order_line__order__number", "=service_order__number"]
    readonly_fields = [field.name for field in Alteration._meta.fields]
    date_hierarchy = "due_on"
    action_form = ReasonActionForm
    actions = [
        transition_action(
            cancel_alteration,
            label="Cancel the selected alterations (before the work starts; give the reason)",
            reason_from_form=True,
        )
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # its fee order and pickup would be left behind: cancel it instead
