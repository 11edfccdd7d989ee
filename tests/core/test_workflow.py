"""The shared workflow mechanism (core/workflow.py), through a test model built like a domain one."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.errors import TransitionNotAllowed
from core.models import StateTransition
from core.workflow import allowed_transitions, transition_apply, transition_history
from tests.factories import CustomerFactory, UserFactory
from tests.workflowapp.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    return Ticket.objects.create(customer=CustomerFactory())


@pytest.fixture
def clerk():
    user = UserFactory(roles=["associate"])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="workflowapp"))
    return user


def test_allowed_transition_changes_state_and_records_who_when_why(ticket, clerk):
    updated = transition_apply(ticket, "start", actor=clerk, reason="technician on site")

    assert updated.status == Ticket.Status.IN_PROGRESS
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.IN_PROGRESS
    (row,) = transition_history(ticket)
    assert (row.from_state, row.to_state, row.transition) == ("open", "in_progress", "start")
    assert row.actor == clerk
    assert row.reason == "technician on site"


def test_transition_saves_the_fields_the_method_sets(ticket, clerk):
    transition_apply(ticket, "start", actor=clerk)
    at = timezone.now()
    transition_apply(ticket, "resolve", actor=clerk, extra_fields=["resolved_at"], at=at)

    assert Ticket.objects.get(pk=ticket.pk).resolved_at == at


def test_illegal_transition_is_refused_naming_the_allowed_ones(ticket, clerk):
    with pytest.raises(TransitionNotAllowed) as refused:
        transition_apply(ticket, "resolve", actor=clerk, at=timezone.now())

    assert refused.value.status == 409
    assert refused.value.extra["allowed"] == ["cancel", "start"]
    assert "allowed: cancel, start" in refused.value.detail
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN
    assert not StateTransition.objects.exists()


def test_transition_checks_the_state_in_the_database_not_the_callers_copy(ticket, clerk):
    stale_copy = Ticket.objects.get(pk=ticket.pk)
    transition_apply(ticket, "cancel", actor=clerk)

    with pytest.raises(TransitionNotAllowed):
        transition_apply(stale_copy, "start", actor=clerk)
    assert StateTransition.objects.count() == 1


def test_transition_with_a_permission_refuses_an_actor_without_it(ticket):
    with pytest.raises(PermissionDenied):
        transition_apply(ticket, "cancel", actor=UserFactory(roles=["associate"]))
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.OPEN


def test_allowed_transitions_follow_the_state(ticket, clerk):
    assert allowed_transitions(ticket) == ["cancel", "start"]
    ticket = transition_apply(ticket, "start", actor=clerk)
    assert allowed_transitions(ticket) == ["cancel", "resolve"]


def test_the_state_cannot_be_assigned_directly(ticket):
    with pytest.raises(AttributeError):
        ticket.status = Ticket.Status.RESOLVED


def test_api_answers_an_illegal_transition_with_409_problem_listing_allowed(ticket, clerk):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(clerk)
    response = client.post(f"/api/test/tickets/{ticket.pk}/resolve/")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "transition_not_allowed"
    assert body["allowed"] == ["cancel", "start"]
    assert body["state"] == "open"


def test_admin_action_applies_the_transition_and_reports_refusals(client, clerk):
    admin = UserFactory(roles=["admin"], is_staff=True, is_superuser=True)
    open_ticket = Ticket.objects.create(customer=CustomerFactory())
    done_ticket = Ticket.objects.create(customer=CustomerFactory())
    transition_apply(done_ticket, "cancel", actor=clerk)
    client.force_login(admin)

    response = client.post(
        "/admin/workflowapp/ticket/",
        {"action": "ticket_start", "_selected_action": [open_ticket.pk, done_ticket.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert Ticket.objects.get(pk=open_ticket.pk).status == Ticket.Status.IN_PROGRESS
    assert Ticket.objects.get(pk=done_ticket.pk).status == Ticket.Status.CANCELLED
    messages = [str(m) for m in response.context["messages"]]
    assert any("Start: 1 done" in m for m in messages)
    assert any("allowed: none" in m for m in messages)
    assert transition_history(open_ticket).get().actor == admin


def test_admin_transition_action_is_hidden_from_users_without_change_permission(client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    Ticket.objects.create(customer=CustomerFactory())
    client.force_login(viewer)

    response = client.get("/admin/workflowapp/ticket/")

    assert response.status_code == 200
    assert b"ticket_start" not in response.content
