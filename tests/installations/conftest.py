"""What the installations tests book against: a store in Amsterdam, an oven fitting that needs
wiring skills, a fitter who works weekdays 9 to 5 there, and a paid order for a steam oven; and
for alterations, a store with a tailor, a colleague and trousers bought there."""

from datetime import time
from decimal import Decimal

import pytest

from core.models import Skill
from installations.models import AlterationKind, ServiceType, WorkingHours
from tests.factories import (
    AssociateProfileFactory,
    CategoryFactory,
    CustomerAddressFactory,
    LocationFactory,
    ProductFactory,
    make_paid_order,
)


@pytest.fixture
def setup(db):
    store = LocationFactory(time_zone="Europe/Amsterdam")
    wiring = Skill.objects.create(code="wiring", name="Electrical wiring")
    appliances = CategoryFactory(slug="appliances", name="Appliances")
    service = ServiceType.objects.create(
        code="oven",
        name="Oven installation",
        kind="installation",
        category=appliances,
        duration_minutes=90,
        travel_buffer_minutes=30,
    )
    service.skills.add(wiring)
    fitter = AssociateProfileFactory(home_location=store, user__roles=["associate"])
    fitter.skills.add(wiring)
    for weekday in range(5):
        WorkingHours.objects.create(associate=fitter, weekday=weekday, starts=time(9), ends=time(17))
    oven = ProductFactory(category=appliances, name="Steam oven")
    order = make_paid_order(lines=[(oven, 4, "899.00")])  # four ovens: up to four fittings
    address = CustomerAddressFactory(customer=order.customer)
    return {
        "store": store,
        "service": service,
        "fitter": fitter,
        "line": order.lines.get(),
        "address": address,
        "oven": oven,
    }


FEE = Decimal("15.00")


@pytest.fixture
def shop(db):
    """A store with a tailor (sewing) and a colleague who checks work; trousers bought there."""
    store = LocationFactory(time_zone="Europe/Amsterdam")
    sewing = Skill.objects.create(code="sewing", name="Sewing")
    clothes = CategoryFactory(slug="womenswear", name="Womenswear")
    service = ProductFactory(
        sku="SVC-HEM", name="Hemming service", price=FEE, stocked=False, returnable=False, category=clothes
    )
    kind = AlterationKind.objects.create(
        code="hem", name="Hemming", category=clothes, turnaround_days=3, fee=FEE, service_product=service
    )
    kind.skills.add(sewing)
    tailor = AssociateProfileFactory(home_location=store, user__roles=["associate"])
    tailor.skills.add(sewing)
    checker = AssociateProfileFactory(home_location=store, user__roles=["associate"])
    trousers = ProductFactory(category=clothes, name="Wide-leg trousers", alterable=True, price=Decimal("79.95"))
    order = make_paid_order(lines=[(trousers, 1, "79.95")], location=store)
    return {
        "store": store,
        "kind": kind,
        "tailor": tailor,
        "checker": checker,
        "line": order.lines.get(),
        "sewing": sewing,
        "clothes": clothes,
    }
