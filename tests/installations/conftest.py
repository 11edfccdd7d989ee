"""What the installations tests book against: a store in Amsterdam, an oven fitting that needs
wiring skills, a fitter who works weekdays 9 to 5 there, and a paid order for a steam oven."""

from datetime import time

import pytest

from core.models import Skill
from installations.models import ServiceType, WorkingHours
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
