"""Training in the admin: courses, sessions with their seats and enrolments, enrolments (cancel
through the service) and the "I need training" queue."""

from django.contrib import admin

from core.admin_tools import BigTableAdmin, HistoryAdmin, ReadOnlyInline, transition_action
from installations.models import (
    Enrolment,
    TrainingCourse,
    TrainingRequest,
    TrainingSession,
)
from installations.selectors_training import session_list
from installations.services_training import training_cancel


def cancel_enrolment(enrolment, *, actor, reason):
    return training_cancel(actor=actor, enrolment=enrolment)


@admin.register(TrainingCourse)
class TrainingCourseAdmin(admin.ModelAdmin):
    """Managers keep the catalogue of courses."""

    list_display = ["name", "code", "product", "category", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["product", "category"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["product", "category"]


class EnrolmentInline(ReadOnlyInline):
    model = Enrolment
    fields = ["customer", "status", "order_line", "created_at", "promoted_at", "cancelled_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "order_line")


@admin.register(TrainingSession)
class TrainingSessionAdmin(admin.ModelAdmin):
    """Managers plan sessions here. Seats and status change only through the services (enrolment,
    cancellation with promotion, attendance), so a saved session keeps its capacity and status:
    no service resizes a session, and a raised capacity here would leave the waiting list unseated.
    Once someone is enrolled, its time and place stay too: they were told them, and no service
    moves a session and tells them yet."""

    list_display = [
        "course",
        "starts_at",
        "place",
        "location",
        "trainer",
        "capacity",
        "seats_taken",
        "waiting",
        "status",
    ]
    list_filter = ["status", "place", "course"]
    list_select_related = ["course", "location", "trainer__user"]
    search_fields = ["course__name", "course__code", "=location__code"]
    autocomplete_fields = ["course", "location", "trainer"]
    date_hierarchy = "starts_at"
    inlines = [EnrolmentInline]

    def get_queryset(self, request):
        return session_list().order_by(*TrainingSession._meta.ordering)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["status"]
        if obj.enrolments.exists():  # people were told when and where: no service moves it yet
            return ["course", "place", "location", "starts_at", "ends_at", "capacity", "status"]
        return ["capacity", "status"]

    @admin.display(description="Seats taken", ordering="seats_taken")
    def seats_taken(self, obj):
        return obj.seats_taken

    @admin.display(description="Waiting", ordering="waiting")
    def waiting(self, obj):
        return obj.waiting


@admin.register(Enrolment)
class EnrolmentAdmin(BigTableAdmin, HistoryAdmin):
    """Read here; made through the API and cancelled with the same service it uses."""

    list_display = ["customer", "session", "status", "created_at", "promoted_at", "cancelled_at"]
    list_filter = ["status"]
    list_select_related = ["customer", "session__course"]
    search_fields = ["=customer__number", "session__course__name"]
    readonly_fields = [field.name for field in Enrolment._meta.fields]
    actions = [transition_action(cancel_enrolment, label="Cancel the selected enrolments (the first in line moves up)")]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TrainingRequest)
class TrainingRequestAdmin(admin.ModelAdmin):
    """The "I need training" queue, read-only: associates follow requests up through the API."""

    list_display = ["created_at", "customer", "product", "order_number", "status", "handled_by", "handled_at"]
    list_filter = ["status"]
    list_select_related = ["customer", "order_line__product", "order_line__order", "handled_by"]
    search_fields = ["=customer__number", "=order_line__order__number"]
    readonly_fields = [field.name for field in TrainingRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Product", ordering="order_line__product__name")
    def product(self, obj):
        return obj.order_line.product

    @admin.display(description="Order", ordering="order_line__order__number")
    def order_number(self, obj):
        return obj.order_line.order.number
