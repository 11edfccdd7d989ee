"""Training in the admin: courses, sessions with their seats and enrolments, enrolments (cancel
through the service) and the "I need training" queue."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from core.admin_tools import BigTableAdmin, HistoryAdmin, ReadOnlyInline, transition_action
from core.errors import DomainError
from installations.admin.appointments import ReasonActionForm
from installations.models import (
    Enrolment,
    TrainingCourse,
    TrainingRequest,
    TrainingSession,
)
from installations.selectors_training import session_list
from installations.services_training import (
    SESSION_CHANGEABLE,
    training_cancel,
    training_session_cancel,
    training_session_change,
    training_session_change_check,
    training_session_plan_check,
)


def cancel_enrolment(enrolment, *, actor, reason):
    return training_cancel(actor=actor, enrolment=enrolment)


def cancel_session(session, *, actor, reason):
    return training_session_cancel(actor=actor, session=session, reason=reason)


class TrainingSessionForm(forms.ModelForm):
    """A saved session changes through `training_session_change`: its rules are checked here, so a
    refusal is shown on the field; the reason goes to everyone told of a new time or place."""

    change_reason = forms.CharField(
        required=False,
        max_length=200,
        label="Reason for the change",
        help_text="Told to everyone enrolled or waiting when the time or place changes.",
    )

    class Meta:
        model = TrainingSession
        fields = ["course", "place", "location", "trainer", "starts_at", "ends_at", "capacity"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            for name in SESSION_CHANGEABLE:  # what changed is judged against the page as it was shown,
                if name in self.fields:  # so a save does not undo a move someone else made meanwhile
                    self.fields[name].show_hidden_initial = True

    def session_changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in SESSION_CHANGEABLE if name in self.changed_data}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            if self.instance.pk is None:
                training_session_plan_check(
                    starts_at=data["starts_at"], ends_at=data["ends_at"], trainer=data.get("trainer")
                )
            else:
                training_session_change_check(TrainingSession.objects.get(pk=self.instance.pk), self.session_changes())
        except DomainError as exc:
            field = exc.extra.get("field")
            self.add_error(field if field in self.fields else None, exc.detail)
        return data


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
    """Managers plan sessions here. Once saved, a session changes through the services: a new time
    or place is told to everyone enrolled or waiting, more seats seat the waiting list, fewer than
    are taken are refused, and "Cancel the selected sessions" calls one off and tells them why.
    Its course stays once someone is enrolled (they signed up for it); its status is the services'."""

    form = TrainingSessionForm
    action_form = ReasonActionForm
    actions = [
        transition_action(
            cancel_session,
            label="Cancel the selected sessions (everyone enrolled or waiting is told the reason)",
            reason_from_form=True,
        )
    ]
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

    def get_fields(self, request, obj=None):
        fields = ["course", "place", "location", "trainer", "starts_at", "ends_at", "capacity", "status"]
        return [*fields, "change_reason"] if obj is not None else fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["status"]
        if obj.enrolments.exists():  # they signed up for this course
            return ["course", "status"]
        return ["status"]

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        try:
            training_session_change(
                actor=request.user,
                session=obj,
                changes=form.session_changes(),
                reason=form.cleaned_data.get("change_reason", ""),
            )
        except DomainError as exc:  # changed by someone else since the form was checked
            request.training_session_not_saved = True
            self.message_user(request, f"Not saved: {exc.detail}", messages.ERROR)

    def log_change(self, request, obj, message):
        if not getattr(request, "training_session_not_saved", False):
            super().log_change(request, obj, message)

    def response_change(self, request, obj):
        if getattr(request, "training_session_not_saved", False):  # back to the session as it now stands
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

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
