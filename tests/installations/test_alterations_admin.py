"""Alterations in the admin: kinds kept by managers (the fee sold as a product not stocked), work
orders read and cancelled through the service, change lists at a fixed number of queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from installations.choices import AlterationStatus
from installations.models import Alteration, AlterationKind
from installations.services_alterations import alteration_request
from tests.factories import ProductFactory, make_paid_order

pytestmark = pytest.mark.django_db

LIST = "/admin/installations/alteration/"


def _take(shop, line=None):
    return alteration_request(
        actor=shop["checker"].user,
        order_line=line or shop["line"],
        kind=shop["kind"],
        location=shop["store"],
        specification="Take in the waist by 2 cm",
    )


def test_a_manager_cancels_a_work_order_from_the_admin_with_a_reason(client, admin_user, shop):
    alteration = _take(shop)
    client.force_login(admin_user)
    action = {"action": "cancel_alteration", "_selected_action": [alteration.pk]}

    page = client.get(f"{LIST}{alteration.pk}/change/")
    client.post(LIST, action)
    assert Alteration.objects.get().status == AlterationStatus.REQUESTED  # a reason is needed
    client.post(LIST, {**action, "reason": "Customer found a tailor nearer home"})

    assert page.status_code == 200 and alteration.number in page.content.decode()
    assert Alteration.objects.get().status == AlterationStatus.CANCELLED
    assert alteration.service_order.lines.get().quantity_cancelled == 1


def test_the_work_order_list_runs_the_same_queries_for_one_or_many(client, admin_user, shop):
    client.force_login(admin_user)
    _take(shop)
    client.get(LIST)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    one = count()
    for _ in range(4):
        _take(shop, make_paid_order(lines=[(shop["line"].product, 1, "79.95")]).lines.get())
    assert count() == one


def test_a_kind_sells_its_fee_as_a_product_that_is_not_stocked(client, admin_user, shop):
    client.force_login(admin_user)
    shelf_item = ProductFactory(sku="REAL-GOODS")
    service = ProductFactory(sku="SVC-TAKE-IN", stocked=False, returnable=False)
    form = {
        "code": "take-in",
        "name": "Taking in",
        "turnaround_days": 5,
        "fee": "25.00",
        "currency": "EUR",
        "is_active": "on",
        "skills": [shop["sewing"].pk],
    }

    refused = client.post("/admin/installations/alterationkind/add/", {**form, "service_product": shelf_item.pk})
    assert refused.status_code == 200 and not AlterationKind.objects.filter(code="take-in").exists()
    taken = client.post("/admin/installations/alterationkind/add/", {**form, "service_product": service.pk})

    assert taken.status_code == 302, taken.content.decode()[:2000]
    kind = AlterationKind.objects.get(code="take-in")
    assert (kind.fee, kind.service_product) == (Decimal("25.00"), service)
    assert list(kind.skills.all()) == [shop["sewing"]]
