"""Installations in the Django admin: managers keep the service catalogue, their people's working
hours and absences; appointments are read here (booked, moved and done through the services) and
may be cancelled with the same service the API uses."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm

from core.admin_tools import BigTableAdmin, HistoryAdmin
from core.errors import DomainError
from installations.models import Absence, Appointment, ServiceType, WorkingHours
from installations.services import appointment_cancel


class ReasonActionForm(ActionForm):
    reason = forms.CharField(required=False, max_length=300, help_text="Why: the customer is told.")


@admin.action(description="Cancel the selected appointments (give the reason; the customer is told)")
def cancel_appointment(modeladmin, request, queryset):
    reason = (request.POST.get("reason") or "").strip()
    done = 0
    for appointment in queryset:
        try:
            appointment_cancel(actor=request.user, appointment=appointment, reason=reason)
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{appointment}: {exc.detail}", messages.WARNING)
    if done:
        modeladmin.message_user(request, f"Cancelled: {done}.", messages.SUCCESS)


@admin.register(ServiceType)
class ServiceTypeAdmin(HistoryAdmin):
    list_display = ["name", "code", "kind", "place", "duration_minutes", "travel_buffer_minutes", "fee", "is_active"]
    list_filter = ["kind", "place", "is_active"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["product", "category"]
    filter_horizontal = ["skills"]
    list_select_related = []


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["associate", "weekday", "starts", "ends"]
    list_filter = ["weekday"]
    list_select_related = ["associate__user"]
    search_fields = ["associate__employee_code", "associate__user__email"]
    autocomplete_fields = ["associate"]


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ["associate", "starts_at", "ends_at", "reason"]
    list_select_related = ["associate__user"]
    search_fields = ["associate__employee_code", "associate__user__email", "reason"]
    autocomplete_fields = ["associate"]
    date_hierarchy = "starts_at"


@admin.register(Appointment)
class AppointmentAdmin(BigTableAdmin, HistoryAdmin):
    list_display = ["number", "service_type", "customer", "associate", "location", "starts_at", "status"]
    list_filter = ["status", "service_type"]
    list_select_related = ["service_type", "customer", "associate__user", "location"]
    search_fields = ["=number", "=customer__number", "=order_line__order__number"]
    readonly_fields = [field.name for field in Appointment._meta.fields]
    action_form = ReasonActionForm
    actions = [cancel_appointment]

    def has_add_permission(self, request):
        return False
