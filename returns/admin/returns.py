"""Returns in the Django admin: the approval queue managers work (approve or reject with a reason,
the customer's return history beside each request), and the policy and its rules, which are data."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.utils.html import format_html, format_html_join

from core.admin_tools import BigTableAdmin, HistoryAdmin, ReadOnlyInline
from core.errors import DomainError
from returns.choices import ReturnStatus
from returns.models import InspectedItem, ReturnLine, ReturnPolicy, ReturnRequest, ReturnRule
from returns.services import policy
from returns.services.returns import return_approve, return_reject

HISTORY_SHOWN = 10


class ReasonActionForm(ActionForm):
    reason = forms.CharField(required=False, max_length=500, help_text="Why: required to reject; the customer is told.")


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = ["order_line", "quantity", "reason", "reason_detail", "value", "quantity_received", "exchange_product"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line__product", "exchange_product")


class AwaitingApprovalFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("awaiting", "Awaiting approval")]

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(status=ReturnStatus.REQUESTED)
        return queryset


def _decide(modeladmin, request, queryset, decide, label):
    reason = (request.POST.get("reason") or "").strip()
    done = 0
    for obj in queryset:
        try:
            decide(obj, request.user, reason)
            done += 1
        except (DomainError, PermissionDenied) as exc:
            modeladmin.message_user(request, f"{obj}: {exc}", messages.WARNING)
    if done:
        modeladmin.message_user(request, f"{label}: {done} done.", messages.SUCCESS)


@admin.action(description="Approve the selected returns", permissions=["approve"])
def approve(modeladmin, request, queryset):
    _decide(
        modeladmin,
        request,
        queryset,
        lambda obj, actor, reason: return_approve(actor=actor, return_request=obj, reason=reason),
        "Approved",
    )


@admin.action(description="Reject the selected returns (give the reason)", permissions=["approve"])
def reject(modeladmin, request, queryset):
    _decide(
        modeladmin,
        request,
        queryset,
        lambda obj, actor, reason: return_reject(actor=actor, return_request=obj, reason=reason),
        "Rejected",
    )


@admin.register(ReturnRequest)
class ReturnRequestAdmin(BigTableAdmin, HistoryAdmin):
    """Requests are made by the app, associates and agents; here they are decided and read."""

    list_display = ["number", "customer", "order", "value", "currency", "flags", "status", "resolution", "created_at"]
    list_filter = [AwaitingApprovalFilter, "status", "resolution", "method"]
    list_select_related = ["customer", "order"]
    search_fields = ["=number", "=order__number", "=customer__number", "=customer__email"]
    action_form = ReasonActionForm
    actions = [approve, reject]
    inlines = [ReturnLineInline]
    readonly_fields = [
        "number",
        "order",
        "customer",
        "customer_history",
        "channel",
        "status",
        "method",
        "drop_off_location",
        "resolution",
        "value",
        "currency",
        "flags",
        "requested_by",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_reason",
        "received_location",
        "received_by",
        "received_at",
        "inspected_at",
        "resolved_by",
        "resolved_at",
        "refunded_amount",
        "exchange_order",
    ]
    fields = readonly_fields

    def get_ordering(self, request):
        """The approval queue is worked oldest first; everything else reads newest first."""
        if request.GET.get(AwaitingApprovalFilter.parameter_name) == "awaiting":
            return ["created_at", "id"]
        return super().get_ordering(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_approve_permission(self, request):
        return request.user.has_perm("returns.approve_returnrequest")

    @admin.display(description="Customer's returns")
    def customer_history(self, obj):
        """What a manager weighs before deciding: the return rate and the latest requests."""
        found = policy.policy_for(obj.currency)
        rate = ""
        if found is not None:
            percent, received = policy.return_rate(obj.customer, found)
            rate = f"Return rate {percent}% of {received} units received in {found.return_rate_window_days} days. "
        earlier = (
            ReturnRequest.objects.filter(customer_id=obj.customer_id)
            .exclude(pk=obj.pk)
            .order_by("-created_at")[:HISTORY_SHOWN]
        )
        counts = ReturnRequest.objects.filter(customer_id=obj.customer_id).aggregate(
            total=Count("id"), rejected=Count("id", filter=Q(status=ReturnStatus.REJECTED))
        )
        rows = format_html_join(
            "",
            "<li>{} · {} · {} {} · {}</li>",
            ((r.number, r.created_at.date(), r.value, r.currency, r.get_status_display()) for r in earlier),
        )
        return format_html(
            "{}{} requests, {} rejected.<ul>{}</ul>", rate, counts["total"], counts["rejected"], rows or "none before"
        )


@admin.register(InspectedItem)
class InspectedItemAdmin(BigTableAdmin):
    list_display = ["return_line", "quantity", "grade", "disposition", "recovered_value", "location", "inspected_at"]
    list_filter = ["disposition", "grade"]
    list_select_related = ["return_line", "location"]
    search_fields = ["=return_line__return_request__number"]
    readonly_fields = [f.name for f in InspectedItem._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(HistoryAdmin):
    list_display = [
        "currency",
        "auto_approve_limit",
        "return_rate_threshold",
        "return_rate_min_units",
        "store_credit_bonus_percent",
        "voucher_valid_days",
    ]


@admin.register(ReturnRule)
class ReturnRuleAdmin(HistoryAdmin):
    list_display = ["__str__", "product", "category", "window_days", "final_sale"]
    list_filter = ["final_sale"]
    list_select_related = ["product", "category"]
    autocomplete_fields = ["product", "category"]
    search_fields = ["=product__sku", "product__name", "category__name"]
