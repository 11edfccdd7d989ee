"""Idempotency-Key on POST: replay, conflict, in-flight, required, and purge."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from core.api.idempotency import _try_lock
from core.models import Customer, IdempotencyKey
from core.services.idempotency import idempotency_keys_purge

pytestmark = pytest.mark.django_db

NEW_CUSTOMER = {"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"}


def test_same_key_and_body_replays_the_first_response_without_a_second_write(agent_client):
    first = agent_client.post("/api/v1/customers/", NEW_CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = agent_client.post("/api/v1/customers/", NEW_CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert Customer.objects.count() == 1


def test_same_key_with_another_body_is_422_and_writes_nothing(agent_client):
    agent_client.post("/api/v1/customers/", NEW_CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = {**NEW_CUSTOMER, "email": "other@example.com"}

    response = agent_client.post("/api/v1/customers/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Customer.objects.count() == 1


def test_keys_are_per_caller(agent_client, associate_client):
    agent_client.post("/api/v1/customers/", NEW_CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    other = {**NEW_CUSTOMER, "email": "b@example.com"}

    response = associate_client.post("/api/v1/customers/", other, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert response.status_code == 201
    assert Customer.objects.count() == 2


def test_a_failed_request_is_not_remembered_so_it_can_be_retried(agent_client):
    bad = agent_client.post("/api/v1/customers/", {"given_name": "X"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.filter(key="k-3").exists()

    good = agent_client.post("/api/v1/customers/", NEW_CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert good.status_code == 201


def test_key_is_claimed_in_the_writes_transaction(manager):
    """A request that wrote and then failed leaves neither the write nor the key behind."""
    from django.contrib.auth.models import Permission

    from tests.workflowapp.models import Ticket

    manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="workflowapp"))
    ticket = Ticket.objects.create(customer=Customer.objects.create(given_name="A", family_name="B"))
    client = APIClient()
    client.force_authenticate(manager)

    response = client.post(f"/api/test/tickets/{ticket.pk}/start_then_refuse/", HTTP_IDEMPOTENCY_KEY="k-5")

    assert response.status_code == 409
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
    assert not IdempotencyKey.objects.filter(key="k-5").exists()


def test_money_moving_post_without_a_key_is_400(manager):
    from django.contrib.auth.models import Permission

    from tests.workflowapp.models import Ticket

    manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="workflowapp"))
    ticket = Ticket.objects.create(customer=Customer.objects.create(given_name="A", family_name="B"))
    client = APIClient()
    client.force_authenticate(manager)

    missing = client.post(f"/api/test/tickets/{ticket.pk}/refund/")
    with_key = client.post(f"/api/test/tickets/{ticket.pk}/refund/", HTTP_IDEMPOTENCY_KEY="refund-1")

    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_required"
    assert with_key.status_code == 200


def test_overlong_key_is_refused(agent_client):
    response = agent_client.post("/api/v1/customers/", NEW_CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 422
    assert Customer.objects.count() == 0


def test_purge_forgets_keys_older_than_the_ttl_and_keeps_the_rest(agent, settings):
    settings.IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
    common = {"user": agent, "method": "POST", "path": "/x/", "request_hash": "h", "response_status": 201}
    old = IdempotencyKey.objects.create(key="old", created_at=timezone.now() - timedelta(hours=25), **common)
    fresh = IdempotencyKey.objects.create(key="fresh", created_at=timezone.now() - timedelta(hours=23), **common)

    assert idempotency_keys_purge() == 1
    assert not IdempotencyKey.objects.filter(pk=old.pk).exists()
    assert IdempotencyKey.objects.filter(pk=fresh.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_same_key_while_the_first_request_is_in_flight_is_409(agent):
    if connection.vendor != "postgresql":
        pytest.skip("in-flight detection uses a PostgreSQL advisory lock; SQLite serialises the requests instead")
    holding, release = threading.Event(), threading.Event()

    def first_request_in_flight():
        with transaction.atomic():
            assert _try_lock(agent.pk, "busy-key")
            holding.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=first_request_in_flight)
    thread.start()
    try:
        assert holding.wait(10)
        client = APIClient()
        client.force_authenticate(agent)
        response = client.post("/api/v1/customers/", NEW_CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="busy-key")
    finally:
        release.set()
        thread.join()

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_flight"
    assert Customer.objects.count() == 0
