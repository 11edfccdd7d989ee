"""Reads for training: the associates' queue of "I need training" requests."""

from installations.choices import TrainingRequestStatus
from installations.models import TrainingRequest


def training_request_queue():
    """Open requests, oldest first, with what a queue row shows (along training_request_queue)."""
    return (
        TrainingRequest.objects.filter(status=TrainingRequestStatus.OPEN)
        .select_related("customer", "order_line__product", "order_line__order")
        .order_by("created_at", "id")
    )
