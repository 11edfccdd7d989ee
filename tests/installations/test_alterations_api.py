"""The alterations API as the associates' handhelds and the customer's app call it: who may do
what, the steps end to end, bad input, another customer's work orders, and query counts."""

import uuid

import pytest

from core.models import Notification
from installations.choices import AlterationStatus
from installations.models import Alteration
from installations.services_alterations import alteration_request
from orders.models import Order
from tests.factories import CustomerFactory, UserFactory, make_paid_order
from tests.matrix import assert_allowed_or_refused

URL = "/api/v1/alterations/"


def _post(client, url, body=None, key=None):
    return client.post(url, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def _body(shop, **overrides):
    return {
        "order_line": shop["line"].pk,
        "kind": shop["kind"].pk,
        "location": shop["store"].pk,
        "specification": "Shorten by 4 cm",
        **overrides,
    }


def _taken(shop, **fields):
    return alteration_request(
        actor=shop["checker"].user,
        order_line=fields.pop("order_line", shop["line"]),
        kind=shop["kind"],
        location=shop["store"],
        specification="Shorten by 4 cm",
        **fields,
    )


def _at_store(user, shop):
    """Make a role fixture's associate work at the alteration shop."""
    if hasattr(user, "associate"):
        user.associate.home_location = shop["store"]
        user.associate.save()


@pytest.fixture
def tailor_client(shop):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(shop["tailor"].user)
    return client


@pytest.fixture
def checker_client(shop):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(shop["checker"].user)
    return client


# --- who may --------------------------------------------------------------------------------


ROLES = ["anon", "roleless", "customer", "integration", "associate", "agent", "manager", "admin"]
STAFF = {"associate", "agent", "manager", "admin"}


@pytest.mark.parametrize("role", ROLES)
def test_taking_a_work_order_is_for_staff(role, clients, shop, associate, agent, manager, admin_user):
    for user in (associate, agent):
        _at_store(user, shop)

    def state():
        return Alteration.objects.count(), Order.objects.count()

    before = state()
    response = _post(clients[role], URL, _body(shop))

    assert_allowed_or_refused(response, name="create", role=role, allowed=STAFF, before=before, after=state)


@pytest.mark.parametrize("role", ROLES)
def test_steps_are_for_staff(role, clients, shop, associate, agent):
    for user in (associate, agent):
        _at_store(user, shop)
    alteration = _taken(shop)

    def state():
        row = Alteration.objects.get(pk=alteration.pk)
        return row.status, row.measurements

    before = state()
    response = _post(clients[role], f"{URL}{alteration.pk}/measure/", {"measurements": {"waist": "72 cm"}})

    assert_allowed_or_refused(response, name="measure", role=role, allowed=STAFF, before=before, after=state)


def test_an_associate_of_another_store_is_refused_and_nothing_changes(associate_client, shop):
    alteration = _taken(shop)

    created = _post(associate_client, URL, _body(shop))
    stepped = _post(associate_client, f"{URL}{alteration.pk}/cancel/", {"reason": "no"})

    assert created.status_code == 403 and stepped.status_code == 403
    assert Alteration.objects.get().status == AlterationStatus.REQUESTED


def test_reading_is_for_staff_and_lists_are_soonest_due_first(clients, shop):
    later = _taken(shop)
    second = make_paid_order(lines=[(shop["line"].product, 1, "79.95")]).lines.get()
    shop["kind"].turnaround_days = 1
    shop["kind"].save()
    sooner = _taken(shop, order_line=second)

    assert clients["customer"].get(URL).status_code == 403
    assert clients["anon"].get(URL).status_code == 401
    response = clients["agent"].get(URL)

    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == [sooner.number, later.number]
    row = response.json()["results"][0]
    assert row["fee"] == "15.00" and row["fee_order_number"] == sooner.service_order.number
    assert set(row["allowed_transitions"]) == {"measure", "cancel"}


# --- the whole way, as a handheld -------------------------------------------------------------


def test_from_request_to_collection_through_the_api(tailor_client, checker_client, shop, customer_app_client):
    created = _post(checker_client, URL, _body(shop))
    assert created.status_code == 201, created.content
    url = f"{URL}{created.json()['id']}/"
    assert created["Location"].endswith(url)

    steps = [
        (tailor_client, "measure/", {"measurements": {"inside leg": "78 cm", "waist": 72}}),
        (tailor_client, "assign/", {"associate": shop["tailor"].pk}),
        (tailor_client, "start/", {}),
        (tailor_client, "submit/", {}),
        (checker_client, "quality-check/", {"passed": False, "note": "Uneven hem"}),
        (tailor_client, "submit/", {}),
        (checker_client, "quality-check/", {"passed": True}),
    ]
    for client, step, body in steps:
        response = _post(client, url + step, body)
        assert response.status_code == 200, (step, response.content)

    ready = response.json()
    assert ready["status"] == "ready" and ready["pickup"]["status"] == "ready"
    assert "code" not in ready["pickup"]  # the code is the customer's alone
    alteration = Alteration.objects.get()
    wrong = _post(checker_client, url + "collect/", {"code": "NOT-THE-CODE"})
    assert wrong.status_code == 422
    done = _post(checker_client, url + "collect/", {"code": alteration.pickup.code})
    assert done.status_code == 200 and done.json()["status"] == "collected"
    assert done.json()["measurements"] == {"inside leg": "78 cm", "waist": "72"}


def test_the_customer_follows_their_own_and_no_one_elses(shop, customer_app_client, customer):
    mine = make_paid_order(lines=[(shop["line"].product, 1, "79.95")], customer=customer).lines.get()
    own = _taken(shop, order_line=mine)
    other = _taken(shop)

    listed = customer_app_client.get("/api/v1/me/alterations/")
    assert [row["number"] for row in listed.json()["results"]] == [own.number]
    assert "customer" not in listed.json()["results"][0] and "assigned_to" not in listed.json()["results"][0]
    assert customer_app_client.get(f"/api/v1/me/alterations/{own.pk}/").status_code == 200
    assert customer_app_client.get(f"/api/v1/me/alterations/{other.pk}/").status_code == 404


def test_the_catalogue_lists_active_kinds(clients, shop):
    response = clients["associate"].get("/api/v1/alteration-kinds/")

    assert response.status_code == 200
    assert [(row["code"], row["turnaround_days"], row["fee"], row["skills"]) for row in response.json()["results"]] == [
        ("hem", 3, "15.00", ["sewing"])
    ]
    assert clients["customer"].get("/api/v1/alteration-kinds/").status_code == 403


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"order_line": "x"}, "order_line"),
        ({"order_line": 2**63}, "order_line"),
        ({"order_line": 999999}, "order_line"),
        ({"kind": 999999}, "kind"),
        ({"location": -1}, "location"),
        ({"specification": ""}, "specification"),
        ({"specification": "x" * 5001}, "specification"),
        ({"assigned_to": "me"}, "assigned_to"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(checker_client, shop, overrides, field):
    response = _post(checker_client, URL, _body(shop, **overrides))

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in {error["field"] for error in response.json()["errors"]}
    assert not Alteration.objects.exists()


@pytest.mark.parametrize(
    "step, body, status",
    [
        ("measure/", {"measurements": {}}, 400),
        ("measure/", {"measurements": "tall"}, 400),
        ("measure/", {"measurements": {"waist": "x" * 61}}, 400),
        ("measure/", {"measurements": {str(n): "1" for n in range(41)}}, 400),
        ("assign/", {"associate": 2**64}, 400),
        ("quality-check/", {"passed": "maybe"}, 400),
        ("collect/", {"code": "\x00"}, 400),
        ("cancel/", {}, 400),
        ("start/", {"now": True}, 400),
        ("submit/", {}, 409),
    ],
)
def test_bad_step_input_is_refused_and_changes_nothing(checker_client, shop, step, body, status):
    alteration = _taken(shop)

    response = _post(checker_client, f"{URL}{alteration.pk}/{step}", body)

    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    row = Alteration.objects.get()
    assert (row.status, row.measurements, row.assigned_to_id) == (AlterationStatus.REQUESTED, {}, None)


def test_a_rule_refusal_is_a_422_naming_it(checker_client, shop):
    shop["line"].product.alterable = False
    shop["line"].product.save()

    response = _post(checker_client, URL, _body(shop))

    assert response.status_code == 422 and response.json()["code"] == "kind_not_for_product"


def test_a_repeated_request_with_its_key_is_answered_once(checker_client, shop):
    key = str(uuid.uuid4())

    first = _post(checker_client, URL, _body(shop), key=key)
    again = _post(checker_client, URL, _body(shop), key=key)

    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert Alteration.objects.count() == 1
    assert Notification.objects.filter(event="alteration_requested").count() == 1


# --- query counts -----------------------------------------------------------------------------


def _many(shop, count):
    customer = CustomerFactory()
    for _ in range(count):
        line = make_paid_order(lines=[(shop["line"].product, 1, "79.95")], customer=customer).lines.get()
        alteration = _taken(shop, order_line=line, assigned_to=shop["tailor"])
    return customer, alteration


def test_lists_run_the_same_queries_for_one_or_many(shop, checker_client):
    customer, _ = _many(shop, 1)
    user = UserFactory()
    customer.user = user
    customer.save()
    from rest_framework.test import APIClient

    app = APIClient()
    app.force_authenticate(user)

    def counts():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        result = []
        for client, url in ((checker_client, URL), (app, "/api/v1/me/alterations/")):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            result.append(len(queries))
        return result

    counts()  # the callers' permissions are cached from here on
    one = counts()
    for _ in range(5):
        line = make_paid_order(lines=[(shop["line"].product, 1, "79.95")], customer=customer).lines.get()
        _taken(shop, order_line=line, assigned_to=shop["tailor"])
    assert counts() == one
