from django.contrib import admin

from core.admin_tools import transition_action
from tests.workflowapp.models import Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "status"]
    actions = [transition_action("start"), transition_action("cancel")]
