from django.contrib import admin

from orders.models import Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    autocomplete_fields = ["product"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "channel", "location", "total", "currency", "placed_at"]
    list_filter = ["channel", "location"]
    list_select_related = ["customer", "location"]
    search_fields = ["=number", "=customer__number", "=customer__email"]
    autocomplete_fields = ["customer", "location", "associate"]
    date_hierarchy = "placed_at"
    show_full_result_count = False
    inlines = [OrderLineInline]
