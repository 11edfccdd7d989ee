"""Writing the customer timeline."""

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from core.models import Touchpoint


def touchpoint_record(
    *,
    customer,
    kind: str,
    channel: str,
    summary: str,
    associate=None,
    location=None,
    product=None,
    order_number: str = "",
    subject=None,
    occurred_at=None,
) -> Touchpoint:
    """Write one timeline row for a customer-facing event, in the caller's transaction."""
    return Touchpoint.objects.create(
        customer=customer,
        kind=kind,
        channel=channel,
        summary=summary[:300],
        associate=associate,
        location=location,
        product=product,
        order_number=order_number,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=subject.pk if subject is not None else None,
        occurred_at=occurred_at or timezone.now(),
    )
