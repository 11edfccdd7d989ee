"""The outbox with a real Celery worker on a real broker (Redis or RabbitMQ).

Runs when CELERY_BROKER_URL is set and the database is PostgreSQL (the worker thread needs to
see committed rows through its own connection). .ci/run sets both and REQUIRE_CELERY_WORKER=1,
which turns a skip into a failure.
"""

import os
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from core.models import Notification
from core.services.notifications import notify
from core.tasks import notifications_sweep
from tests.celery_helpers import celery_broker
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BROKER = os.environ.get("CELERY_BROKER_URL", "")


@pytest.fixture
def worker():
    reason = ""
    if not BROKER:
        reason = "CELERY_BROKER_URL is not set"
    elif connection.vendor != "postgresql":
        reason = "the worker thread needs PostgreSQL to see committed rows"
    if reason:
        if os.environ.get("REQUIRE_CELERY_WORKER") == "1":
            pytest.fail(f"REQUIRE_CELERY_WORKER=1 but {reason}")
        pytest.skip(reason)
    with celery_broker(BROKER) as app:
        app.control.purge()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield app


def _wait_for(predicate, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_worker_sends_a_notification_after_the_writer_commits(worker):
    customer = CustomerFactory(consent_email=True)
    with transaction.atomic():
        (row,) = notify(
            customer=customer, event="contact_details_changed", dedupe_key="w-1", context={"changed": ["email"]}
        )

    assert _wait_for(lambda: Notification.objects.get(pk=row.pk).status == "sent")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer.email]


def test_worker_runs_the_periodic_sweep(worker):
    customer = CustomerFactory(consent_email=True)
    row = Notification.objects.create(
        customer=customer,
        event="contact_details_changed",
        channel="email",
        recipient=customer.email,
        subject="s",
        body="b",
        dedupe_key="w-2:email",
        created_at=timezone.now() - timedelta(hours=1),
        next_attempt_at=timezone.now() - timedelta(minutes=1),
    )

    notifications_sweep.delay()

    assert _wait_for(lambda: Notification.objects.get(pk=row.pk).status == "sent")
