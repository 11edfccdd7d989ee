"""The demo data set: believable, complete for every role, and safe to load again."""

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db.models import Count, Sum
from django.urls import reverse

from core.api.serializers import PHONE_RE, OpeningHoursField
from core.choices import LocationKind, Role, TouchpointKind
from core.models import (
    AssociateProfile,
    Category,
    Customer,
    CustomerAddress,
    CustomerExternalId,
    Inventory,
    Location,
    Product,
    Skill,
    Touchpoint,
    User,
)
from installations.models import Alteration, Appointment, Enrolment, TrainingRequest
from orders import demo_fulfilment
from orders.models import Charge, Delivery, DeliveryException, Order, OrderLine, Pickup, Shipment
from orders.services.charges import ledger_from_rows, units_value
from orders.services.orders import derived_status
from returns.choices import ReturnStatus
from returns.models import InspectedItem, ReturnLine, ReturnRequest, Voucher, VoucherTransaction

pytestmark = pytest.mark.django_db

SEEDED_MODELS = [
    Location,
    Skill,
    Category,
    Product,
    Inventory,
    User,
    AssociateProfile,
    EmailAddress,
    Customer,
    CustomerAddress,
    CustomerExternalId,
    Order,
    OrderLine,
    Touchpoint,
]
DEMO_LOGINS = {
    Role.ASSOCIATE: "associate@demo.aftercare.test",
    Role.CUSTOMER_SERVICE: "agent@demo.aftercare.test",
    Role.MANAGER: "manager@demo.aftercare.test",
    Role.ADMIN: "admin@demo.aftercare.test",
}
DEMO_CUSTOMER = "customer@demo.aftercare.test"
PASSWORD = "aftercare-demo"


def seed(customers: int) -> str:
    out = StringIO()
    call_command("seed_demo", customers=customers, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in SEEDED_MODELS}


def generated_customers():
    """Customers created from --customers (the app's demo customer is extra)."""
    return Customer.objects.filter(external_ids__source="demo").exclude(external_ids__external_id="app-customer")


def test_running_twice_creates_no_duplicates():
    seed(8)
    first = row_counts()

    output = seed(8)

    assert row_counts() == first
    assert "nothing (already seeded)" in output


def test_customers_flag_scales_and_a_larger_rerun_adds_only_the_missing_customers():
    seed(5)
    assert generated_customers().count() == 5
    first_five = set(generated_customers().values_list("pk", flat=True))
    orders_of_first_five = Order.objects.filter(customer__in=first_five).count()
    touchpoints_of_first_five = Touchpoint.objects.filter(customer__in=first_five).count()

    seed(12)

    assert generated_customers().count() == 12
    assert sorted(int(v) for v in generated_customers().values_list("external_ids__external_id", flat=True)) == list(
        range(1, 13)
    )
    assert Order.objects.filter(customer__in=first_five).count() == orders_of_first_five
    assert Touchpoint.objects.filter(customer__in=first_five).count() == touchpoints_of_first_five
    assert not Customer.objects.annotate(n=Count("orders")).filter(n=0).exists()


def test_every_role_has_a_demo_login_with_an_associate_profile_and_a_verified_email():
    output = seed(3)

    for role, email in DEMO_LOGINS.items():
        user = User.objects.get(email=email)
        assert user.has_role(role), role
        assert user.check_password(PASSWORD)
        assert AssociateProfile.objects.filter(user=user).exists()
        assert EmailAddress.objects.filter(user=user, email=email, verified=True, primary=True).exists()
        assert email in output
    admin = User.objects.get(email=DEMO_LOGINS[Role.ADMIN])
    assert admin.is_superuser and admin.is_staff
    assert User.objects.get(email=DEMO_LOGINS[Role.MANAGER]).is_staff
    assert not User.objects.get(email=DEMO_LOGINS[Role.ASSOCIATE]).is_staff
    assert PASSWORD in output and "http://127.0.0.1:8000/" in output


def test_demo_customer_login_has_a_linked_customer_with_a_rich_timeline():
    seed(3)

    user = User.objects.get(email=DEMO_CUSTOMER)
    assert user.check_password(PASSWORD)
    assert EmailAddress.objects.filter(user=user, verified=True, primary=True).exists()
    assert not user.is_staff and not user.groups.exists()
    customer = Customer.objects.get(user=user)
    kinds = set(customer.touchpoints.values_list("kind", flat=True))
    assert {
        TouchpointKind.PURCHASE,
        TouchpointKind.DELIVERY,
        TouchpointKind.COMPLAINT,
        TouchpointKind.CREDIT_VOUCHER,
        TouchpointKind.INSTALLATION,
        TouchpointKind.RETURN,
    } <= kinds
    assert customer.touchpoints.filter(summary__icontains="one piece short").exists()
    # the scripted purchases (three, and the dishwasher the installations step sells), besides the
    # alteration's service order
    assert customer.orders.filter(lines__product__stocked=True).distinct().count() == 4
    assert customer.addresses.filter(is_default=True).count() == 1


def test_the_same_demo_number_is_the_same_person_on_a_fresh_database():
    seed(6)
    before = dict(CustomerExternalId.objects.values_list("external_id", "customer__email"))
    children_first = (
        *(Alteration, TrainingRequest, Enrolment, Appointment),
        *(VoucherTransaction, Voucher, InspectedItem, ReturnLine, ReturnRequest),
        *(Charge, DeliveryException, Delivery, Pickup, Shipment, Order, Customer),
    )
    for model in children_first:
        model.objects.all().delete()

    seed(6)

    assert dict(CustomerExternalId.objects.values_list("external_id", "customer__email")) == before


def test_order_totals_equal_the_sum_of_their_lines():
    seed(15)

    orders = Order.objects.prefetch_related("lines")
    assert orders.exists()
    for order in orders:
        assert order.lines.exists()
        assert order.total == sum(line.amount for line in order.lines.all()), order.number


def test_every_demo_order_has_a_ledger_that_reconciles_and_a_status_its_lines_explain():
    seed(40)

    returned = dict(
        ReturnRequest.objects.filter(status=ReturnStatus.RESOLVED)
        .values("order")
        .annotate(value=Sum("refunded_amount"))
        .values_list("order", "value")
    )
    orders = Order.objects.prefetch_related("lines", "charges")
    for order in orders:
        ledger = ledger_from_rows(list(order.charges.all()))
        cancelled = sum(units_value(line, line.quantity_cancelled, order.currency) for line in order.lines.all())
        assert ledger.past + ledger.pending == order.total - cancelled - returned.get(order.pk, 0), order.number
        assert ledger.hold >= 0
        assert order.status == derived_status(list(order.lines.all())), order.number
    assert Pickup.objects.exists() and Shipment.objects.filter(events__isnull=False).exists()


def test_demo_delivery_exceptions_name_their_order_lines_as_recorded_ones_do(client, monkeypatch):
    monkeypatch.setattr(demo_fulfilment, "SHORT_DELIVERY_SHARE", 1.0)  # every recent delivery short
    seed(40)

    exceptions = list(DeliveryException.objects.prefetch_related("order__lines"))
    assert exceptions
    for exception in exceptions:  # as delivery_record writes them: the remedies read the lines from here
        lines = {line.pk for line in exception.order.lines.all()}
        assert exception.details and all(item["order_line"] in lines for item in exception.details)
    client.force_login(User.objects.get(email=DEMO_LOGINS[Role.MANAGER]))
    assert client.get("/api/v1/delivery-exceptions/").status_code == 200


def test_every_order_has_one_purchase_touchpoint_linked_to_it():
    seed(10)

    # (a cancellation is told as a purchase touchpoint of its order too: an alteration called off)
    purchases = Touchpoint.objects.filter(kind=TouchpointKind.PURCHASE).exclude(summary__startswith="Cancelled ")
    assert purchases.count() == Order.objects.count()
    numbers = dict(Order.objects.values_list("number", "pk"))
    for number, subject_id in purchases.values_list("order_number", "subject_id"):
        assert numbers[number] == subject_id


def test_some_lockers_are_open_around_the_clock_and_all_hours_are_valid():
    seed(0)

    lockers = Location.objects.filter(kind=LocationKind.LOCKER)
    assert lockers.filter(open_24h=True).exists()
    assert lockers.filter(open_24h=False).exists()
    assert {kind for kind, _ in LocationKind.choices} <= set(Location.objects.values_list("kind", flat=True))
    assert set(Location.objects.values_list("time_zone", flat=True)) == {"Europe/Amsterdam", "Europe/Brussels"}
    for location in Location.objects.all():
        assert OpeningHoursField().to_internal_value(location.opening_hours), location.code


def test_catalogue_has_services_final_sale_items_and_stock():
    seed(0)

    products = Product.objects.all()
    assert products.filter(installable=True, category__slug="sofas").exists()
    assert products.filter(installable=True, trainable=True).exists()
    assert products.filter(alterable=True).exists()
    assert products.filter(returnable=False).exists()
    assert products.filter(recyclable=True).exists()
    assert not products.filter(returnable=False, resale_value__gt=0).exists()
    stocked = Location.objects.filter(kind__in=[LocationKind.STORE, LocationKind.WAREHOUSE])
    assert Inventory.objects.count() == products.filter(stocked=True).count() * stocked.count()
    assert not Inventory.objects.filter(product__stocked=False).exists()  # services sold (alteration fees)
    assert Inventory.objects.aggregate(total=Sum("on_hand"))["total"] > 0


def test_customers_have_one_default_address_an_e164_phone_and_varied_preferences():
    seed(20)

    customers = generated_customers()
    for customer in customers.prefetch_related("addresses"):
        assert sum(a.is_default for a in customer.addresses.all()) == 1
        assert not customer.phone or PHONE_RE.match(customer.phone)
    assert customers.values("preferred_channel").distinct().count() > 1
    assert customers.values("time_zone").distinct().count() == 2
    assert Touchpoint.objects.filter(customer__in=customers).values("kind").distinct().count() >= 4


@pytest.mark.parametrize("email", [*DEMO_LOGINS.values(), DEMO_CUSTOMER])
def test_demo_logins_sign_in_through_allauth_with_their_email(client, email):
    seed(0)

    response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})

    assert response.status_code == 302, response.content[:500]
    assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)


def test_apps_add_their_demo_stories_in_installed_apps_order():
    from django.conf import settings

    from core.demo.registry import customer_story_steps

    modules = [step.__module__.split(".")[0] for step in customer_story_steps()]
    assert "orders" in modules
    app_order = [app.split(".")[0] for app in settings.INSTALLED_APPS]
    assert modules == sorted(modules, key=app_order.index)
