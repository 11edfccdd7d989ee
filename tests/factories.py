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
