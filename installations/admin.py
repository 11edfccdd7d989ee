"""Installations in the Django admin: managers keep the service catalogue, their people's working
hours and absences; appointments are read here (booked, moved and done through the services) and
may be cancelled with the same service the API uses."""

from django.contrib import admin

from core.admin_tools import BigTableAdmin, HistoryAdmin, transition_action
from installations.models import Absence, Appointment, ServiceType, WorkingHours
from installations.services import appointment_cancel


def cancel_appointment(appointment, *, actor, reason):
    return appointment_cancel(actor=actor, appointment=appointment, reason=reason)


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
    actions = [transition_action(cancel_appointment, label="Cancel (the customer is told)")]

    def has_add_permission(self, request):
        return False
