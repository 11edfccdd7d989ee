"""Admin building blocks shared by every app: workflow transitions as admin actions, and a
paginator that does not count big tables."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property
from simple_history.admin import SimpleHistoryAdmin

from core.errors import DomainError


def transition_action(service, *, label: str, permission: str = "change", reason_from_form: bool = False):
    """An admin action that calls a workflow service (e.g. `return_approve`) for each selected
    object, as `service(obj, actor=..., reason=...)`, so the admin writes the same history,
    touchpoints and notifications as the API; refusals are reported per object. With
    `reason_from_form`, the reason is what the user typed in the action form's `reason` field
    (the model admin's `action_form`), and the service decides whether it may be blank."""

    def run(modeladmin, request, queryset):
        reason = (request.POST.get("reason") or "").strip() if reason_from_form else "admin action"
        done = 0
        for obj in queryset:
            try:
                service(obj, actor=request.user, reason=reason)
                done += 1
            except (DomainError, PermissionDenied) as exc:
                modeladmin.message_user(request, f"{obj}: {exc}", messages.WARNING)
        if done:
            modeladmin.message_user(request, f"{label}: {done} done.", messages.SUCCESS)

    run.__name__ = service.__name__
    return admin.action(description=label, permissions=[permission])(run)


class HistoryAdmin(SimpleHistoryAdmin):
    """Change history to read, never to revert: restoring an old version would write the row
    behind the services' back (a resolved return made inspected again, a spent voucher's balance
    back), so the history pages answer POST with 403. SIMPLE_HISTORY_REVERT_DISABLED hides the
    button; this closes the view itself."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("History is read-only; changes go through the services.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyInline(admin.TabularInline):
    """Rows a service wrote (lines, ledger entries): shown with their parent, never edited there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, an unfiltered change list of a big table shows the planner's row estimate
    instead of running COUNT(*) over millions of rows; filtered lists count exactly."""

    @cached_property
    def count(self):
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.object_list.model._meta.db_table],
                )
                estimate = cursor.fetchone()[0]
            if estimate and estimate > 10_000:
                return estimate
        return super().count


class BigTableAdmin(admin.ModelAdmin):
    """For append-only tables with millions of rows."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
