"""A small API over the test Ticket, built like a domain app's: a create, and transitions as
POST actions that go through core.workflow. One action moves money, so it requires a key."""

from django.utils import timezone
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.base import StaffModelViewSet, StrictModelSerializer
from core.errors import Conflict
from core.workflow import transition_apply
from tests.workflowapp.models import Ticket


class TicketSerializer(StrictModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "customer", "status", "resolved_at"]
        read_only_fields = ["id", "status", "resolved_at"]


class TicketViewSet(StaffModelViewSet):
    queryset = Ticket.objects.all()
    serializer_class = TicketSerializer
    idempotency_required = ["refund"]
    action_permissions = {
        "start": "workflowapp.change_ticket",
        "resolve": "workflowapp.change_ticket",
        "refund": "workflowapp.change_ticket",
    }

    def _transition(self, name, **kwargs):
        ticket = transition_apply(self.get_object(), name, actor=self.request.user, **kwargs)
        return Response(TicketSerializer(ticket).data)

    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._transition("start")

    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._transition("resolve", extra_fields=["resolved_at"], at=timezone.now())

    @action(detail=True, methods=["post"])
    def start_then_refuse(self, request, pk=None):
        """Writes (a transition), then fails: the write and the Idempotency-Key must go together."""
        transition_apply(self.get_object(), "start", actor=request.user)
        raise Conflict("Refused after the write.", code="refused_after_write")

    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Stands in for an action that moves money: only its Idempotency-Key rule matters here."""
        return Response(TicketSerializer(self.get_object()).data, status=status.HTTP_200_OK)
