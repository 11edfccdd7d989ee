"""The notification outbox: write in the caller's transaction, send after commit, sweep leftovers.

`notify()` never sends anything itself. It writes one Notification row per channel (suppressed,
with the reason, where the customer gave no consent or has no address), and schedules the send
task for after the commit. If the broker is down the rows stay queued and `notifications_sweep`
sends them later: a broker outage delays messages but loses none. The unique dedupe key makes
a second `notify()` for the same event and object a no-op, so the customer is never told twice.
"""

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.choices import Channel, ContactChannel, NotificationStatus, TouchpointKind
from core.models import Customer, Notification
from core.notifications.backends import backend_for
from core.notifications.rendering import render_message
from core.services.timeline import touchpoint_record

logger = logging.getLogger("aftercare.notifications")

DEDUPE_KEY_MAX = Notification._meta.get_field("dedupe_key").max_length
TIMELINE_CHANNEL = {
    ContactChannel.EMAIL: Channel.EMAIL,
    ContactChannel.SMS: Channel.SMS,
    ContactChannel.PUSH: Channel.APP,
}


def _recipient(customer: Customer, channel: str) -> str:
    if channel == ContactChannel.EMAIL:
        return customer.email
    if channel == ContactChannel.SMS:
        return customer.phone
    return f"user:{customer.user_id}" if customer.user_id else ""


def _channel_key(dedupe_key: str, channel: str) -> str:
    key = f"{dedupe_key}:{channel}"
    if len(key) > DEDUPE_KEY_MAX:  # hash rather than cut, or the channel suffix would be lost
        key = f"sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def notify(
    *,
    customer: Customer,
    event: str,
    dedupe_key: str,
    context: dict | None = None,
    channels=None,
    to: dict[str, str] | None = None,
    order_number: str = "",
    secrets=(),
) -> list[Notification]:
    """Queue `event` for `customer` on `channels` (default: the preferred channel).

    `dedupe_key` names the occasion (e.g. "delivery-reminder:D-123"); the same key on the same
    channel is queued once, ever. `to` overrides the address per channel (e.g. warn the previous
    e-mail address of a change). `order_number` files the message under an order (the order
    detail lists them); it defaults to the number of `context["order"]` when there is one.
    `secrets` are codes in the message (pickup codes, voucher codes) that staff views mask.
    Returns the rows written by this call.
    """
    channels = list(channels or [customer.preferred_channel])
    context = {"customer": customer, **(context or {})}
    order_number = order_number or getattr(context.get("order"), "number", "")
    written = []
    for channel in channels:
        recipient = (to or {}).get(channel) or _recipient(customer, channel)
        status, reason = NotificationStatus.QUEUED, ""
        if not customer.consents_to(channel):
            status, reason = NotificationStatus.SUPPRESSED, f"no consent for {channel}"
        elif not recipient:
            status, reason = NotificationStatus.SUPPRESSED, f"no {channel} address"
        subject, body = render_message(event, channel, context)
        try:
            with transaction.atomic():
                row = Notification.objects.create(
                    customer=customer,
                    event=event,
                    channel=channel,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    status=status,
                    last_error=reason,
                    dedupe_key=_channel_key(dedupe_key, channel),
                    order_number=order_number,
                    secrets=list(secrets),
                    next_attempt_at=timezone.now() + settings.NOTIFICATION_SWEEP_AFTER,
                )
        except IntegrityError:
            logger.info("notification %s on %s already queued; not sent twice", dedupe_key, channel)
            continue
        written.append(row)
        if status == NotificationStatus.QUEUED:
            transaction.on_commit(lambda pk=row.pk: enqueue_send(pk))
    return written


def enqueue_send(notification_id: int) -> None:
    """Hand the row to Celery; if the broker cannot take it, the sweep will."""
    from core.tasks import notification_send_task

    try:
        notification_send_task.delay(notification_id)
    except Exception:  # broker down or misconfigured: the row stays queued for the sweep
        logger.warning("could not enqueue notification %s; left for the sweep", notification_id, exc_info=True)


def notification_send(*, notification_id: int) -> Notification | None:
    """Send one queued notification; safe to run twice (the row is locked and re-checked)."""
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update(of=("self",))  # not the customer row: sending is slow
            .select_related("customer")
            .filter(pk=notification_id, status=NotificationStatus.QUEUED)
            .first()
        )
        if row is None:
            return None
        if not row.customer.consents_to(row.channel):  # withdrawn since the row was queued
            row.status, row.last_error = NotificationStatus.SUPPRESSED, f"consent for {row.channel} withdrawn"
            row.save(update_fields=["status", "last_error"])
            return row
        row.attempts += 1
        try:
            backend_for(row.channel).send(row)
        except Exception as exc:  # any provider failure is recorded and retried, never raised
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                row.status = NotificationStatus.FAILED
            row.next_attempt_at = timezone.now() + retry_delay(row.attempts)
            row.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            logger.warning("notification %s attempt %s failed: %s", row.pk, row.attempts, row.last_error)
            return row
        row.status = NotificationStatus.SENT
        row.sent_at = timezone.now()
        row.last_error = ""
        row.save(update_fields=["attempts", "last_error", "status", "sent_at"])
        touchpoint_record(
            customer=row.customer,
            kind=TouchpointKind.NOTIFICATION,
            channel=TIMELINE_CHANNEL[row.channel],
            summary=row.subject or row.body,
            subject=row,
        )
        return row


def retry_delay(attempts: int):
    """How long the sweep leaves a row alone after `attempts`: doubling from
    NOTIFICATION_SWEEP_AFTER, at most an hour, so an outage does not pile up tasks."""
    return min(settings.NOTIFICATION_SWEEP_AFTER * 2 ** max(attempts, 0), timedelta(hours=1))


def notifications_sweep(*, limit: int = 500) -> int:
    """Re-enqueue queued rows whose next attempt is due, pushing that moment back first (so a
    sweep during a worker outage does not enqueue the same rows every minute). Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=NotificationStatus.QUEUED, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .only("pk", "attempts")[:limit]
        )
        for row in due:
            row.next_attempt_at = now + retry_delay(row.attempts + 1)
        Notification.objects.bulk_update(due, ["next_attempt_at"])
    for row in due:
        enqueue_send(row.pk)
    return len(due)
