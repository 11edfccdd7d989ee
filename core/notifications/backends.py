"""Delivery backends for the channels Django's e-mail framework does not cover.

A backend takes a Notification and either returns (sent) or raises (the outbox keeps the error and
tries again). Configure with NOTIFICATION_SMS_BACKEND / NOTIFICATION_PUSH_BACKEND (dotted paths).
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

logger = logging.getLogger("aftercare.notifications")


class Backend:
    def send(self, notification) -> None:
        raise NotImplementedError


class LogBackend(Backend):
    """Writes the message to the log: the default until an SMS or push provider is configured."""

    def send(self, notification) -> None:
        logger.info(
            "%s to %s [%s]: %s", notification.channel, notification.recipient, notification.event, notification.body
        )


class EmailBackend(Backend):
    """E-mail through Django's configured e-mail backend (EMAIL_URL)."""

    def send(self, notification) -> None:
        EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.recipient],
        ).send(fail_silently=False)


def backend_for(channel: str) -> Backend:
    if channel == "email":
        return EmailBackend()
    path = settings.NOTIFICATION_SMS_BACKEND if channel == "sms" else settings.NOTIFICATION_PUSH_BACKEND
    return import_string(path)()
