"""The orders admin: actions go through the services; secrets stay hidden."""

from decimal import Decimal

import pytest

from orders.choices import ChargeStatus
from orders.services.orders import order_lines_cancel
from orders.services.pickups import pickup_ready
from tests.factories import CarrierFactory, InventoryFactory, LocationFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_site_client(client, manager):
    client.force_login(manager)
    return client


def test_a_manager_settles_a_refund_with_the_admin_action(admin_site_client, manager):
    order = make_order(lines=[(ProductFactory(), 2, "10.00")], payments=[{"kind": "capture", "amount": Decimal("20")}])
    order_lines_cancel(actor=manager, order=order, lines=[(order.lines.get(), 1)], reason="broken")
    refund = order.charges.get(kind="refund")

    response = admin_site_client.post(
        "/admin/orders/charge/", {"action": "settle", "_selected_action": [refund.pk]}, follow=True
    )
    assert response.status_code == 200
    refund.refresh_from_db()
    assert refund.status == ChargeStatus.SETTLED


def test_the_pickup_code_and_the_carrier_secret_never_show(admin_site_client):
    store = LocationFactory(kind="store")
    product = ProductFactory()
    InventoryFactory(product=product, location=store, on_hand=5)
    order = make_order(lines=[(product, 1, "15.00")], fulfilment="pickup")
    pickup = pickup_ready(actor=None, order=order, location=store)
    page = admin_site_client.get(f"/admin/orders/pickup/{pickup.pk}/change/").content.decode()
    assert pickup.number in page and pickup.code not in page

    carrier = CarrierFactory()
    page = admin_site_client.get(f"/admin/orders/carrier/{carrier.pk}/change/").content.decode()
    assert carrier.name in page and carrier.webhook_secret not in page
