"""Stock movements. Quantities change only by conditional UPDATE, never read-modify-write."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.choices import Role
from core.errors import RuleViolation
from core.models import Inventory


def inventory_adjust(*, inventory: Inventory, actor, on_hand_delta: int = 0, reserved_delta: int = 0) -> Inventory:
    """Add (or remove) stock; refuses to take on-hand below zero or below what is reserved.
    Associates adjust stock at their home location only; managers and admins anywhere.

    `actor=None` is the system itself: a stock move no person makes by hand, such as the sweep
    releasing what a no-show's pickup held, or a cancelled pickup's reservation going back (the
    pickup's service has checked who may cancel it). It skips the location rule, never the
    quantity rules; a person's own adjustment always passes the person."""
    if actor is not None:
        check_home_location(actor, inventory.location_id, "Associates adjust stock at their home location only.")
    with transaction.atomic():
        updated = (
            Inventory.objects.filter(
                pk=inventory.pk,
                on_hand__gte=-on_hand_delta,
                reserved__gte=-reserved_delta,
            )
            .filter(
                # after the change, reserved must not exceed on hand
                on_hand__gte=F("reserved") + reserved_delta - on_hand_delta
            )
            .update(
                on_hand=F("on_hand") + on_hand_delta,
                reserved=F("reserved") + reserved_delta,
                updated_at=timezone.now(),
            )
        )
        if not updated:
            current = Inventory.objects.get(pk=inventory.pk)
            raise RuleViolation(
                f"Not enough stock: {current.on_hand} on hand, {current.reserved} reserved.",
                code="insufficient_stock",
                on_hand=current.on_hand,
                reserved=current.reserved,
            )
        return Inventory.objects.select_related("product", "location").get(pk=inventory.pk)


def check_home_location(actor, location_id: int, message: str) -> None:
    """Store work happens where the associate works: anyone below manager acts at their home
    location only (PermissionDenied with `message` elsewhere); managers and admins anywhere."""
    if actor.has_role(Role.MANAGER, Role.ADMIN):
        return
    profile = getattr(actor, "associate", None)
    if profile is None or profile.home_location_id != location_id:
        raise PermissionDenied(message)
