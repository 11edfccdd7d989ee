from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from core.admin_tools import BigTableAdmin, HistoryAdmin
from core.choices import Role
from core.models import (
    AssociateProfile,
    Category,
    Customer,
    CustomerAddress,
    CustomerExternalId,
    IdempotencyKey,
    Inventory,
    Location,
    Notification,
    Product,
    Skill,
    StateTransition,
    Touchpoint,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "groups"]
    search_fields = ["email", "username", "first_name", "last_name"]
    ordering = ["email"]
    show_full_result_count = False


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "city", "open_24h", "time_zone", "is_active"]
    list_filter = ["kind", "open_24h", "is_active", "country"]
    search_fields = ["code", "name", "city", "postcode"]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(AssociateProfile)
class AssociateProfileAdmin(HistoryAdmin):
    list_display = ["employee_code", "user", "home_location", "approval_limit", "approval_currency"]
    list_filter = ["home_location", "skills"]
    list_select_related = ["user", "home_location"]
    search_fields = ["employee_code", "user__email", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user", "home_location"]
    filter_horizontal = ["skills"]

    def get_readonly_fields(self, request, obj=None):
        """Approval limits cap what people may approve: only administrators set them, and nobody
        sets their own."""
        may_set_limits = request.user.has_role(Role.ADMIN) and (obj is None or obj.user_id != request.user.pk)
        return [] if may_set_limits else ["approval_limit", "approval_currency"]


class CustomerAddressInline(admin.TabularInline):
    model = CustomerAddress
    extra = 0


class CustomerExternalIdInline(admin.TabularInline):
    model = CustomerExternalId
    extra = 0


@admin.register(Customer)
class CustomerAdmin(HistoryAdmin):
    list_display = ["number", "given_name", "family_name", "email", "phone", "preferred_channel", "created_at"]
    list_filter = ["preferred_channel", "consent_email", "consent_sms", "consent_push", "language"]
    search_fields = ["=number", "=email", "=phone", "family_name"]
    autocomplete_fields = ["user"]
    readonly_fields = ["number", "created_at", "updated_at"]
    inlines = [CustomerAddressInline, CustomerExternalIdInline]
    show_full_result_count = False
    date_hierarchy = "created_at"


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]
    search_fields = ["slug", "name"]


@admin.register(Product)
class ProductAdmin(HistoryAdmin):
    list_display = ["sku", "name", "category", "price", "currency", "returnable", "installable", "alterable"]
    list_filter = [
        "category",
        "returnable",
        "installable",
        "trainable",
        "alterable",
        "recyclable",
        "stocked",
        "is_active",
    ]
    list_select_related = ["category"]
    search_fields = ["=sku", "name"]
    autocomplete_fields = ["category"]


@admin.register(Inventory)
class InventoryAdmin(admin.ModelAdmin):
    """Quantities are read-only here: they change only through inventory_adjust (API), whose
    conditional UPDATE cannot overwrite a concurrent movement as a form save would."""

    list_display = ["product", "location", "on_hand", "reserved", "updated_at"]
    readonly_fields = ["on_hand", "reserved", "updated_at"]
    list_filter = ["location"]
    list_select_related = ["product", "location"]
    search_fields = ["=product__sku", "product__name", "=location__code"]
    autocomplete_fields = ["product", "location"]
    show_full_result_count = False


@admin.register(Touchpoint)
class TouchpointAdmin(BigTableAdmin):
    list_display = ["occurred_at", "customer", "kind", "channel", "summary", "location"]
    list_filter = ["kind", "channel"]
    list_select_related = ["customer", "location"]
    search_fields = ["=customer__number", "=order_number"]
    autocomplete_fields = ["customer", "associate", "location", "product"]
    date_hierarchy = "occurred_at"


@admin.register(Notification)
class NotificationAdmin(BigTableAdmin):
    list_display = ["created_at", "customer", "event", "channel", "status", "attempts", "sent_at"]
    list_filter = ["status", "channel", "event"]
    list_select_related = ["customer"]
    search_fields = ["=customer__number", "=dedupe_key", "=order_number"]
    # The outbox is a record of what was sent: read-only, with secrets (pickup codes, voucher
    # codes) masked, since only the customer may read them.
    fields = [
        "customer",
        "event",
        "channel",
        "recipient",
        "order_number",
        "masked_subject",
        "masked_body",
        "status",
        "dedupe_key",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="subject")
    def masked_subject(self, obj):
        return obj.masked(obj.subject)

    @admin.display(description="body")
    def masked_body(self, obj):
        return obj.masked(obj.body)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(BigTableAdmin):
    list_display = ["created_at", "user", "key", "method", "path", "response_status"]
    list_select_related = ["user"]
    search_fields = ["=key"]
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(StateTransition)
class StateTransitionAdmin(BigTableAdmin):
    list_display = ["at", "subject_type", "subject_id", "transition", "from_state", "to_state", "actor"]
    list_filter = ["subject_type", "transition"]
    list_select_related = ["subject_type", "actor"]
    search_fields = ["=subject_id"]
    readonly_fields = [f.name for f in StateTransition._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
