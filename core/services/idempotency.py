"""Housekeeping for remembered Idempotency-Keys (the claim itself is in core/api/idempotency.py)."""

from django.conf import settings
from django.utils import timezone

from core.models import IdempotencyKey


def idempotency_keys_purge() -> int:
    """Forget keys older than IDEMPOTENCY_KEY_TTL (24 h by default). Returns how many."""
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
