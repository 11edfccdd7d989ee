"""Stock moves by conditional UPDATE: never below zero, never below what is reserved, even when
two associates take the last units at the same moment."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from core.errors import RuleViolation
from core.models import Inventory
from core.services.inventory import inventory_adjust
from tests.factories import InventoryFactory

pytestmark = pytest.mark.django_db


def test_adjust_adds_and_removes_stock(manager):
    row = InventoryFactory(on_hand=5)
    assert inventory_adjust(inventory=row, actor=manager, on_hand_delta=3).on_hand == 8
    assert inventory_adjust(inventory=row, actor=manager, on_hand_delta=-8).on_hand == 0


def test_stock_never_goes_below_zero(manager):
    row = InventoryFactory(on_hand=2)
    with pytest.raises(RuleViolation, match="2 on hand"):
        inventory_adjust(inventory=row, actor=manager, on_hand_delta=-3)
    assert Inventory.objects.get(pk=row.pk).on_hand == 2


def test_reserved_units_cannot_be_removed_or_over_reserved(manager):
    row = InventoryFactory(on_hand=5, reserved=4)
    with pytest.raises(RuleViolation):
        inventory_adjust(inventory=row, actor=manager, on_hand_delta=-2)
    with pytest.raises(RuleViolation):
        inventory_adjust(inventory=row, actor=manager, reserved_delta=2)
    assert inventory_adjust(inventory=row, actor=manager, reserved_delta=1).available == 0


def test_the_system_adjusts_stock_anywhere_where_an_associate_is_refused(associate):
    """actor=None is work no person started (a sweep releasing a no-show's reservation): the home
    location rule has nobody to apply to; the quantity rules still hold."""
    row = InventoryFactory(on_hand=5, reserved=2)  # not the associate's home location
    with pytest.raises(PermissionDenied):
        inventory_adjust(inventory=row, actor=associate, reserved_delta=-2)
    assert inventory_adjust(inventory=row, actor=None, reserved_delta=-2).reserved == 0
    with pytest.raises(RuleViolation):
        inventory_adjust(inventory=row, actor=None, reserved_delta=-1)
    with pytest.raises(TypeError):  # the actor is always said, so "the system" is never an accident
        inventory_adjust(inventory=row, on_hand_delta=1)
    assert Inventory.objects.get(pk=row.pk).on_hand == 5


def test_adjust_endpoint_answers_with_the_new_figures(manager_client):
    row = InventoryFactory(on_hand=5)
    response = manager_client.post(f"/api/v1/inventory/{row.pk}/adjust/", {"on_hand_delta": -2, "reserved_delta": 1})
    assert response.status_code == 200
    assert (response.json()["on_hand"], response.json()["available"]) == (3, 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_removals_never_take_more_than_is_on_hand(manager):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL; SQLite serialises every write")
    row = InventoryFactory(on_hand=5)
    barrier = threading.Barrier(10)
    outcomes = []

    def take_one():
        barrier.wait()
        try:
            inventory_adjust(inventory=row, actor=manager, on_hand_delta=-1)
            outcomes.append("ok")
        except RuleViolation:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=take_one) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes.count("ok") == 5
    assert outcomes.count("refused") == 5
    assert Inventory.objects.get(pk=row.pk).on_hand == 0
