"""The notification outbox: written in the caller's transaction, sent after commit, never twice,
never without consent, kept through provider and broker failures."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from core.models import Notification, Touchpoint
from core.notifications.rendering import CHANNEL_PARTS
from core.services.notifications import notification_send, notifications_sweep, notify
from tests.celery_helpers import celery_broker
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

EVENT = "contact_details_changed"


class FailingBackend:
    def send(self, notification):
        raise ConnectionError("SMS provider unreachable")


def _notify(customer, key="k", **kwargs):
    return notify(customer=customer, event=EVENT, dedupe_key=key, context={"changed": ["phone"]}, **kwargs)


def test_rows_are_written_in_the_callers_transaction_and_vanish_with_its_rollback():
    customer = CustomerFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        _notify(customer)
        assert Notification.objects.count() == 1
        raise RuntimeError("the business write failed")
    assert Notification.objects.count() == 0


def test_sent_only_after_commit_then_recorded_on_the_timeline(django_capture_on_commit_callbacks):
    customer = CustomerFactory(consent_email=True)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (row,) = _notify(customer)
    assert Notification.objects.get(pk=row.pk).status == "queued"
    assert mail.outbox == []

    for callback in callbacks:
        callback()
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 1 and row.sent_at
    assert mail.outbox[0].to == [customer.email]
    assert mail.outbox[0].subject == "Your contact details were changed"
    touchpoint = Touchpoint.objects.get(kind="notification")
    assert (touchpoint.customer, touchpoint.channel, touchpoint.subject_id) == (customer, "email", row.pk)


def test_the_same_dedupe_key_is_queued_once(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = _notify(customer, key="same")
        second = _notify(customer, key="same")
    assert len(first) == 1 and second == []
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_no_consent_is_suppressed_with_the_reason_and_not_sent(django_capture_on_commit_callbacks):
    customer = CustomerFactory(consent_email=False, consent_sms=False)
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = _notify(customer, channels=["sms"])
    row.refresh_from_db()
    assert row.status == "suppressed"
    assert row.last_error == "no consent for sms"
    assert mail.outbox == []


def test_missing_address_is_suppressed():
    customer = CustomerFactory(consent_push=True, user=None)
    (row,) = _notify(customer, channels=["push"])
    assert (row.status, row.last_error) == ("suppressed", "no push address")


def test_each_channel_says_the_same_thing_from_one_template_folder():
    customer = CustomerFactory(consent_email=True, consent_sms=True)
    rows = _notify(customer, channels=["email", "sms"])
    assert {r.channel for r in rows} == {"email", "sms"}
    assert all("phone" in r.body and customer.number in r.body for r in rows)
    folder = Path(settings.BASE_DIR, "templates", "notifications", EVENT)
    assert {p.name for p in folder.iterdir()} == {"subject.txt", *CHANNEL_PARTS.values()}


def test_provider_failure_keeps_the_row_queued_with_the_error_then_fails_after_max_attempts(settings):
    settings.NOTIFICATION_SMS_BACKEND = "tests.core.test_notifications.FailingBackend"
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    customer = CustomerFactory(consent_sms=True)
    (row,) = _notify(customer, channels=["sms"])

    notification_send(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error == "ConnectionError: SMS provider unreachable"

    notification_send(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2)


def test_sending_twice_sends_once():
    customer = CustomerFactory()
    (row,) = _notify(customer)
    notification_send(notification_id=row.pk)
    assert notification_send(notification_id=row.pk) is None
    assert len(mail.outbox) == 1


def test_broker_outage_delays_but_loses_nothing(settings, django_capture_on_commit_callbacks):
    """With the broker unreachable the row stays queued; the sweep sends it once it is back."""
    customer = CustomerFactory()
    with celery_broker("redis://127.0.0.1:1/0"), django_capture_on_commit_callbacks(execute=True):  # nothing on :1
        (row,) = _notify(customer)
    row.refresh_from_db()
    assert row.status == "queued" and mail.outbox == []

    settings.NOTIFICATION_SWEEP_AFTER = timedelta(minutes=2)
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert notifications_sweep() == 1
    row.refresh_from_db()
    assert row.status == "sent"
    assert len(mail.outbox) == 1


def test_sweep_leaves_fresh_rows_to_their_own_task(settings):
    settings.NOTIFICATION_SWEEP_AFTER = timedelta(minutes=2)
    _notify(CustomerFactory())
    assert notifications_sweep() == 0


def test_sweep_backs_off_instead_of_enqueueing_the_same_rows_every_run(settings):
    settings.NOTIFICATION_SWEEP_AFTER = timedelta(minutes=2)
    customer = CustomerFactory()
    with celery_broker("redis://127.0.0.1:1/0"):  # workers and broker down: nothing gets sent
        (row,) = _notify(customer)
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert notifications_sweep() == 1
        assert notifications_sweep() == 0  # not again a minute later
    row.refresh_from_db()
    assert row.status == "queued"
    assert row.next_attempt_at >= timezone.now() + timedelta(minutes=3)


def test_a_failed_attempt_waits_longer_each_time(settings):
    settings.NOTIFICATION_SMS_BACKEND = "tests.core.test_notifications.FailingBackend"
    settings.NOTIFICATION_SWEEP_AFTER = timedelta(minutes=1)
    (row,) = _notify(CustomerFactory(consent_sms=True), channels=["sms"])
    waits = []
    for _ in range(3):
        before = timezone.now()
        notification_send(notification_id=row.pk)
        row.refresh_from_db()
        waits.append(row.next_attempt_at - before)
    assert waits[0] < waits[1] < waits[2]


def test_staff_see_messages_with_secrets_masked_and_the_customer_sees_them_whole(
    manager_client, customer, customer_app_client
):
    row = notify(
        customer=customer,
        event=EVENT,
        dedupe_key="secret",
        context={"changed": ["SECRET-CODE-42"]},
        secrets=["SECRET-CODE-42"],
        order_number="R2345ABCD",
    )[0]
    assert "SECRET-CODE-42" in row.body

    staff = manager_client.get(f"/api/v1/notifications/{row.pk}/").json()
    assert "SECRET-CODE-42" not in staff["body"] and "••••••" in staff["body"]
    assert staff["order_number"] == "R2345ABCD"
    mine = customer_app_client.get(f"/api/v1/me/notifications/{row.pk}/").json()
    assert "SECRET-CODE-42" in mine["body"]


def test_the_order_number_defaults_to_the_order_in_the_context():
    class Order:
        number = "R9999XXXX"

    row = notify(customer=CustomerFactory(), event=EVENT, dedupe_key="o", context={"changed": [], "order": Order()})[0]
    assert row.order_number == "R9999XXXX"
