"""Credit vouchers in the Django admin: looked up by code or customer, with their ledger and change
history; voiding goes through the same service as the API. The ledger itself is read-only."""

from django.contrib import admin

from core.admin_tools import BigTableAdmin, HistoryAdmin, ReadOnlyInline, transition_action
from core.codes import secret_code_formatted
from returns.models import Voucher, VoucherTransaction
from returns.services.vouchers import voucher_void


# Admin actions call services as service(obj, actor=..., reason=...): this adapter names the object.
def void_voucher(voucher, *, actor, reason):
    return voucher_void(actor=actor, voucher=voucher, reason=reason)


class VoucherTransactionInline(ReadOnlyInline):
    model = VoucherTransaction
    fk_name = "voucher"
    fields = readonly_fields = [
        "kind",
        "amount",
        "balance_after",
        "order",
        "reference",
        "reverses",
        "actor",
        "note",
        "created_at",
    ]
    ordering = ["id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("voucher", "order", "actor", "reverses__voucher")


class CodeSearchMixin:
    """A code may be typed as the customer reads it: lower case, without dashes, O for 0."""

    def get_search_results(self, request, queryset, search_term):
        formatted = secret_code_formatted(search_term) if search_term else None
        if formatted:
            return queryset.filter(**{self.code_lookup: formatted}), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Voucher)
class VoucherAdmin(CodeSearchMixin, BigTableAdmin, HistoryAdmin):
    """Vouchers are issued by the API and the returns workflow (the service writes the ledger);
    here they are read and voided."""

    code_lookup = "code"
    list_display = [
        "id",
        "masked_code",
        "customer",
        "status",
        "source",
        "balance",
        "initial_amount",
        "currency",
        "expires_at",
        "created_at",
    ]
    list_filter = ["status", "source", "currency"]
    list_select_related = ["customer"]
    search_fields = ["=code", "=customer__number", "=customer__email"]
    readonly_fields = [f.name for f in Voucher._meta.fields]
    inlines = [VoucherTransactionInline]
    actions = [transition_action(void_voucher, label="Void voucher (what is left is taken off)")]

    @admin.display(description="code")
    def masked_code(self, voucher):
        """The change list shows the last four symbols; the full code is on the voucher's page."""
        return "••••-••••-•" + voucher.code[-4:]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VoucherTransaction)
class VoucherTransactionAdmin(CodeSearchMixin, BigTableAdmin):
    code_lookup = "voucher__code"
    list_display = ["id", "voucher", "kind", "amount", "balance_after", "order", "reference", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["voucher", "order"]
    search_fields = ["=voucher__code", "=order__number", "=reference"]
    readonly_fields = [f.name for f in VoucherTransaction._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
