"""factory_boy factories for every model the tests build."""

from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from core.choices import Channel, LocationKind, TouchpointKind
from core.models import (
    AssociateProfile,
    Category,
    Customer,
    CustomerAddress,
    Inventory,
    Location,
    Product,
    Touchpoint,
    User,
)
from orders.models import Carrier


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))
        if create:
            self.save()


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"L{n:03d}")
    name = factory.Sequence(lambda n: f"Store {n}")
    kind = LocationKind.STORE
    address_line1 = "1 Main Street"
    city = "Amsterdam"
    postcode = "1011AA"
    country = "NL"
    latitude = Decimal("52.370216")
    longitude = Decimal("4.895168")
    time_zone = "Europe/Amsterdam"


class AssociateProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssociateProfile

    user = factory.SubFactory(UserFactory)
    employee_code = factory.Sequence(lambda n: f"E{n:05d}")
    home_location = factory.SubFactory(LocationFactory)
    approval_limit = Decimal("100.00")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+3161{n:07d}")
    time_zone = "Europe/Amsterdam"
    consent_email = True


class CustomerAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAddress

    customer = factory.SubFactory(CustomerFactory)
    line1 = "2 Canal Street"
    city = "Amsterdam"
    postcode = "1012AB"
    country = "NL"
    is_default = True


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    slug = "furniture"
    name = "Furniture"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("199.00")


class InventoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Inventory

    product = factory.SubFactory(ProductFactory)
    location = factory.SubFactory(LocationFactory)
    on_hand = 10
    reserved = 0


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    customer = factory.SubFactory(CustomerFactory)
    kind = TouchpointKind.PURCHASE
    channel = Channel.STORE
    summary = factory.Sequence(lambda n: f"Event {n}")


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"carrier{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    webhook_secret = factory.Sequence(lambda n: f"whsec-test-{n:04d}-0123456789abcdef")


def make_order(*, customer=None, lines=None, payments=(), actor=None, **fields):
    """An order as the services write it (ledger and purchase touchpoint included).
    `lines`: (product, quantity, unit_price) tuples or line dicts; default one sofa of 300.00."""
    from orders.services.orders import order_create

    rows = []
    for line in lines or [(ProductFactory(), 1, Decimal("300.00"))]:
        if isinstance(line, dict):
            rows.append(line)
        else:
            product, quantity, unit_price = line
            rows.append({"product": product, "quantity": quantity, "unit_price": Decimal(unit_price)})
    fields.setdefault("channel", Channel.WEB)
    return order_create(actor=actor, customer=customer or CustomerFactory(), lines=rows, payments=payments, **fields)


def make_pickup(*, location=None, customer=None, lines=None, stock=10, actor=None, payments=(), **order_fields):
    """A pickup order whose goods wait at `location`, made ready through `pickup_ready` (which
    reserves them): each product gets `stock` units on hand there unless it has a stock row already.
    `lines`, `payments`: as make_order. Returns the pickup."""
    from orders.choices import FulfilmentMethod
    from orders.services.pickups import pickup_ready

    location = location or LocationFactory()
    order = make_order(
        customer=customer, lines=lines, payments=payments, fulfilment=FulfilmentMethod.PICKUP, **order_fields
    )
    for line in order.lines.all():
        Inventory.objects.get_or_create(product=line.product, location=location, defaults={"on_hand": stock})
    return pickup_ready(actor=actor, order=order, location=location)


def make_shipment(*, order=None, carrier=None, lines=None, tracking_number=None, actor=None, **fields):
    """A shipment as shipment_create writes it (capture, touchpoint and message included).
    `lines`: (order line, quantity) pairs; default every unit of `order` (default make_order())."""
    from orders.services.shipments import shipment_create

    order = order or make_order()
    if lines is None:
        lines = [(line, line.active_quantity - line.quantity_shipped) for line in order.lines.all()]
    return shipment_create(
        actor=actor,
        order=order,
        carrier=carrier or CarrierFactory(),
        tracking_number=tracking_number or f"TRK{next(_tracking_numbers):09d}",
        lines=lines,
        **fields,
    )


_tracking_numbers = iter(range(1, 10**9))


def make_voucher(*, customer=None, amount="50.00", currency="EUR", source="goodwill", actor=None, **fields):
    """A credit voucher issued through voucher_issue (ledger, touchpoint and message included),
    by the system unless `actor` is given."""
    from returns.services.vouchers import voucher_issue

    return voucher_issue(
        actor=actor,
        customer=customer or CustomerFactory(),
        amount=Decimal(amount),
        currency=currency,
        source=source,
        **fields,
    )


def make_delivery(*, order=None, actor=None, window_start=None, hours=2, address=None, **fields):
    """A home delivery booked through delivery_schedule: by default every unit of `order` (default
    make_order()), three days ahead, a two-hour window, at the customer's default address (one is
    made when they have none)."""
    from datetime import timedelta

    from django.utils import timezone

    from orders.services.deliveries import delivery_schedule

    order = order or make_order()
    if address is None:
        address = order.customer.addresses.first() or CustomerAddressFactory(customer=order.customer)
    start = window_start or (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    return delivery_schedule(
        actor=actor,
        order=order,
        window_start=start,
        window_end=start + timedelta(hours=hours),
        address=address,
        **fields,
    )


def make_paid_order(*, lines=None, **fields):
    """An order taken home at the till and paid there in full: every unit delivered with the sale,
    so it can be returned at once. `lines`: (product, quantity, unit_price) tuples, default one
    sofa of 300.00."""
    lines = lines or [(ProductFactory(), 1, "300.00")]
    total = sum((Decimal(price) * quantity for _, quantity, price in lines), Decimal("0"))
    fields.setdefault("channel", Channel.STORE)
    return make_order(
        lines=lines,
        payments=[{"kind": "capture", "amount": total, "reference": "till-1"}],
        fulfilment="carry_out",
        **fields,
    )


def make_return(*, order=None, actor=None, lines=None, method="store_drop_off", drop_off_location=None, **fields):
    """A return request through return_request_create: by default every unit of `order` (default a
    paid carry-out order) for a changed mind, dropped off at a store."""
    from returns.services.returns import return_request_create

    order = order or make_paid_order()
    if lines is None:
        lines = [
            {"order_line": line, "quantity": line.quantity, "reason": "changed_mind"} for line in order.lines.all()
        ]
    if method == "store_drop_off" and drop_off_location is None:
        drop_off_location = LocationFactory()
    fields.setdefault("channel", Channel.APP)
    return return_request_create(
        actor=actor, order=order, lines=lines, method=method, drop_off_location=drop_off_location, **fields
    )
