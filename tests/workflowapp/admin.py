from django.contrib import admin

from core.admin_tools import transition_action
from tests.workflowapp.models import Ticket
from tests.workflowapp.services import ticket_cancel, ticket_start


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "status"]
    list_select_related = ["customer"]
    actions = [transition_action(ticket_start, label="Start"), transition_action(ticket_cancel, label="Cancel")]
