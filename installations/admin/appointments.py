"""Appointments in the admin: the service catalogue, people's hours and absences (saved through
their services, warning of the bookings they strand), appointments read and cancelled or
recorded as no-shows through the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils import timezone

from core.admin_tools import BigTableAdmin, HistoryAdmin, transition_action
from core.models import AssociateProfile
from core.timezones import zone_or_utc
from installations.models import (
    Absence,
    Appointment,
    ServiceType,
    WorkingHours,
)
from installations.selectors import appointments_clashing
from installations.services import (
    absence_record,
    appointment_cancel,
    appointment_no_show,
    working_hours_remove,
    working_hours_set,
)


class ReasonActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        max_length=300,
        help_text="Why it is cancelled (the customer is told), or what happened at a no-show (kept on the record).",
    )


def cancel_appointment(appointment, *, actor, reason):
    return appointment_cancel(actor=actor, appointment=appointment, reason=reason)


def no_show_appointment(appointment, *, actor, reason):
    return appointment_no_show(actor=actor, appointment=appointment, note=reason)


CLASHES_LISTED = 20


def _warn_clashing(modeladmin, request, clashing, what: str) -> None:
    """Name the booked appointments a change of someone's time strands (they are not cancelled):
    number, time in the location's zone and customer, for a person to move or hand over."""
    if not clashing:
        return
    rows = []
    for appointment in clashing[:CLASHES_LISTED]:
        zone = zone_or_utc(appointment.location.time_zone)
        starts, ends = (timezone.localtime(at, zone) for at in (appointment.starts_at, appointment.ends_at))
        when = f"{starts:%a %d %b %Y %H:%M}–{ends:%H:%M} ({zone.key})"
        rows.append(f"{appointment.number} {when}, {appointment.customer}")
    more = f"; and {len(clashing) - CLASHES_LISTED} more" if len(clashing) > CLASHES_LISTED else ""
    modeladmin.message_user(
        request,
        f"{len(clashing)} booked appointment{'' if len(clashing) == 1 else 's'} {what}: {'; '.join(rows)}{more}. "
        "Reschedule them or reassign them to a colleague; they were not changed or cancelled.",
        messages.WARNING,
    )


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

    def save_model(self, request, obj, form, change):
        """Through the service; then warn of bookings outside the associate's week as it now
        stands (also the previous associate's, when the span was handed to someone else)."""
        previous = form.initial.get("associate") if change else None
        working_hours_set(
            actor=request.user,
            working_hours=obj,
            associate=obj.associate,
            weekday=obj.weekday,
            starts=obj.starts,
            ends=obj.ends,
        )
        self._warn({obj.associate_id, previous} - {None}, request)

    def delete_model(self, request, obj):
        working_hours_remove(actor=request.user, working_hours=obj)
        self._warn({obj.associate_id}, request)

    def delete_queryset(self, request, queryset):
        affected = set()
        for working_hours in queryset:
            working_hours_remove(actor=request.user, working_hours=working_hours)
            affected.add(working_hours.associate_id)
        self._warn(affected, request)

    def _warn(self, associate_ids, request) -> None:
        for associate in AssociateProfile.objects.filter(pk__in=associate_ids).select_related("home_location", "user"):
            clashing = appointments_clashing(associate, hours=True)
            _warn_clashing(self, request, clashing, f"are outside {associate}'s working hours now")


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ["associate", "starts_at", "ends_at", "reason"]
    list_select_related = ["associate__user"]
    search_fields = ["associate__employee_code", "associate__user__email", "reason"]
    autocomplete_fields = ["associate"]
    date_hierarchy = "starts_at"

    def save_model(self, request, obj, form, change):
        """Through the service; then warn of bookings in the absence (they stay booked)."""
        absence_record(
            actor=request.user,
            absence=obj,
            associate=obj.associate,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
            reason=obj.reason,
        )
        clashing = appointments_clashing(obj.associate, (obj.starts_at, obj.ends_at))
        _warn_clashing(self, request, clashing, f"fall in {obj.associate}'s absence")


@admin.register(Appointment)
class AppointmentAdmin(BigTableAdmin, HistoryAdmin):
    list_display = ["number", "service_type", "customer", "associate", "location", "starts_at", "status"]
    list_filter = ["status", "service_type"]
    list_select_related = ["service_type", "customer", "associate__user", "location"]
    search_fields = ["=number", "=customer__number", "=order_line__order__number"]
    readonly_fields = [field.name for field in Appointment._meta.fields]
    action_form = ReasonActionForm
    actions = [
        transition_action(
            cancel_appointment,
            label="Cancel the selected appointments (give the reason; the customer is told)",
            reason_from_form=True,
        ),
        transition_action(
            no_show_appointment,
            label="Record that the customer was not there (say what happened; the customer is told)",
            reason_from_form=True,
        ),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the customer was told of it: cancel it instead
