"""The alteration pages, the store's workroom: the queue of a store, taking a work order on a
customer's purchase, and a work order's page with its history and its steps, each write through
the services and refused (with a message, the API's status, and nothing written) where it should
be; the pickup's code, the customer's secret, never on any page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape
from rest_framework.throttling import SimpleRateThrottle

from core.timezones import zone_or_utc
from core.workflow import transition_history
from installations.choices import AlterationStatus
from installations.models import Alteration, AlterationKind
from installations.services_alterations import (
    alteration_assign,
    alteration_cancel,
    alteration_collect,
    alteration_measure,
    alteration_quality_check,
    alteration_request,
    alteration_start,
    alteration_submit,
)
from orders.choices import PickupStatus
from orders.models import Order, Pickup
from orders.services.pickups import pickups_sweep
from tests.factories import (
    AssociateProfileFactory,
    CategoryFactory,
    CustomerFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
    make_paid_order,
)

pytestmark = pytest.mark.django_db

ELSEWHERE = "Associates take and work alterations of their home location only."
BASE = "/installations/alterations/"


def _take(shop, line=None, assigned=None, actor=None):
    return alteration_request(
        actor=actor or shop["checker"].user,
        order_line=line or shop["line"],
        kind=shop["kind"],
        location=shop["store"],
        specification="Shorten by 4 cm, blind hem",
        assigned_to=assigned,
    )


def _purchase(shop, customer=None):
    """Another pair of trousers bought at the store: a line to take one more work order on."""
    fields = {"customer": customer} if customer else {}
    return make_paid_order(lines=[(shop["line"].product, 1, "79.95")], location=shop["store"], **fields).lines.get()


def _measured(shop, alteration):
    return alteration_measure(actor=shop["tailor"].user, alteration=alteration, measurements={"inside leg": "78 cm"})


def _submitted(shop, alteration):
    tailor = shop["tailor"].user
    alteration = _measured(shop, alteration)
    alteration = alteration_assign(actor=tailor, alteration=alteration, associate=shop["tailor"])
    alteration = alteration_start(actor=tailor, alteration=alteration)
    return alteration_submit(actor=tailor, alteration=alteration)


def _ready(shop, line=None):
    alteration = _submitted(shop, _take(shop, line=line))
    return alteration_quality_check(actor=shop["checker"].user, alteration=alteration, passed=True, note="Even hem")


def _reload(alteration):
    return Alteration.objects.select_related("pickup").get(pk=alteration.pk)


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def _said(response, text: str) -> bool:
    return any(text in message for message in _messages(response))


@pytest.fixture
def tailor_client(client, shop):
    client.force_login(shop["tailor"].user)
    return client


@pytest.fixture
def checker_client(client, shop):
    client.force_login(shop["checker"].user)
    return client


# --- who may -------------------------------------------------------------------------------------

STEPS = {
    "measure": {"measure-name_1": "Inside leg", "measure-value_1": "78 cm"},
    "assign": {},
    "start": {},
    "submit": {},
    "quality-check": {"check-result": "passed"},
    "collect": {"collect-code": "ABCD-EFGH-JKMNP"},
    "renew-pickup": {},
    "cancel": {"cancel-reason": "Changed mind"},
}


def test_signed_out_visitors_are_sent_to_sign_in(client, shop):
    alteration = _take(shop)

    for url in (BASE, f"{BASE}new/", f"{BASE}{alteration.number}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    assert client.post(f"{BASE}{alteration.number}/cancel/", STEPS["cancel"]).status_code == 302
    assert _reload(alteration).status == AlterationStatus.REQUESTED


@pytest.mark.parametrize("who", ["customer", "roleless", "integration"])
def test_customers_users_without_a_role_and_roles_without_the_permission_are_refused(client, shop, who):
    alteration = _take(shop)
    users = {
        "customer": lambda: CustomerFactory(user=UserFactory()).user,
        "roleless": UserFactory,
        "integration": lambda: UserFactory(roles=["integration"]),
    }
    client.force_login(users[who]())
    assignee = {"assign-associate": shop["tailor"].pk}

    for url in (BASE, f"{BASE}new/", f"{BASE}new/?order={shop['line'].order.number}", f"{BASE}{alteration.number}/"):
        assert client.get(url).status_code == 403, url
    taken = client.post(
        f"{BASE}new/",
        {"order": shop["line"].order.number, "offer": f"{shop['line'].pk}:{shop['kind'].pk}", "specification": "Hem"},
    )
    assert taken.status_code == 403
    for step, data in STEPS.items():
        assert client.post(f"{BASE}{alteration.number}/{step}/", data or assignee).status_code == 403, step

    assert Alteration.objects.count() == 1
    alteration = _reload(alteration)
    assert alteration.status == AlterationStatus.REQUESTED and alteration.assigned_to is None
    assert not alteration.measurements


def test_an_associate_of_another_store_reads_the_work_order_but_changes_nothing(client, shop):
    alteration = _take(shop)
    ready = _ready(shop, line=_purchase(shop))
    elsewhere = AssociateProfileFactory(home_location=LocationFactory(name="Utrecht"), user__roles=["associate"])
    client.force_login(elsewhere.user)

    page = client.get(f"{BASE}{alteration.number}/")
    responses = {
        step: client.post(f"{BASE}{(ready if step == 'collect' else alteration).number}/{step}/", data)
        for step, data in {**STEPS, "assign": {"assign-associate": shop["tailor"].pk}}.items()
    }
    responses["collect-right-code"] = client.post(f"{BASE}{ready.number}/collect/", {"collect-code": ready.pickup.code})
    taken = client.post(
        f"{BASE}new/",
        {
            "location": shop["store"].pk,
            "order": _purchase(shop).order.number,
            "offer": f"{shop['line'].pk}:{shop['kind'].pk}",
            "specification": "Hem",
        },
    )

    assert page.status_code == 200 and alteration.number in page.content.decode()
    assert page.context["forms"] is None and "Record measurements" not in page.content.decode()
    for step, response in responses.items():
        assert response.status_code == 403 and ELSEWHERE in _messages(response), step
    assert taken.status_code == 403 and ELSEWHERE in _messages(taken)
    assert Alteration.objects.count() == 2
    assert _reload(alteration).status == AlterationStatus.REQUESTED and not _reload(alteration).measurements
    assert _reload(ready).status == AlterationStatus.READY


def test_a_manager_works_alterations_of_any_store(client, shop, manager):
    alteration = _take(shop)
    client.force_login(manager)

    response = client.post(f"{BASE}{alteration.number}/measure/", STEPS["measure"], follow=True)

    assert _said(response, f"{alteration.number}: 1 measurement(s) recorded.")
    assert _reload(alteration).measurements == {"Inside leg": "78 cm"}


def test_an_unknown_work_order_is_not_found_and_steps_are_posts(tailor_client, shop):
    alteration = _take(shop)

    assert tailor_client.get(f"{BASE}WNOPE/").status_code == 404
    assert tailor_client.post(f"{BASE}WNOPE/start/").status_code == 404
    assert tailor_client.get(f"{BASE}{alteration.number}/cancel/", STEPS["cancel"]).status_code == 405
    assert _reload(alteration).status == AlterationStatus.REQUESTED


def test_steps_need_the_csrf_token(shop):
    from django.test import Client

    alteration = _take(shop)
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop["checker"].user)

    response = client.post(f"{BASE}{alteration.number}/cancel/", STEPS["cancel"])

    assert response.status_code == 403
    assert _reload(alteration).status == AlterationStatus.REQUESTED


# --- the queue -----------------------------------------------------------------------------------


def _due(alteration, days_from_today: int):
    today = timezone.localdate(timezone=zone_or_utc("Europe/Amsterdam"))
    Alteration.objects.filter(pk=alteration.pk).update(due_on=today + timedelta(days=days_from_today))  # test data
    return _reload(alteration)


def test_the_queue_shows_open_work_by_due_date_then_ready_work_with_its_pickup_deadline(checker_client, shop):
    later = _due(_take(shop), 2)
    overdue = _due(_take(shop, line=_purchase(shop), assigned=shop["tailor"]), -1)
    ready = _ready(shop, line=_purchase(shop))
    collected = _ready(shop, line=_purchase(shop))
    alteration_collect(actor=shop["checker"].user, alteration=collected, code=collected.pickup.code)

    response = checker_client.get(BASE)
    page = response.content.decode()

    assert [row.alteration for row in response.context["rows"]] == [overdue, later, ready]
    assert [row.overdue for row in response.context["rows"]] == [True, False, False]
    assert page.count("overdue") == 1 and f'href="{BASE}{overdue.number}/"' in page
    deadline = timezone.localtime(ready.pickup.expires_at, zone_or_utc("Europe/Amsterdam"))
    assert f"{ready.pickup.number} · until {deadline:%a} {deadline.day} {deadline:%b %H:%M}" in page
    assert "Wide-leg trousers" in page and shop["line"].order.number in page
    assert escape(shop["tailor"].user.get_full_name()) in page
    assert collected.number not in page and "renew the pickup" not in page
    assert "Pickup deadlines in Europe/Amsterdam" in page


def test_an_expired_pickup_is_flagged_renew_the_pickup(checker_client, shop):
    ready = _ready(shop)
    pickups_sweep(now=ready.pickup.expires_at + timedelta(minutes=1))

    queue = checker_client.get(BASE).content.decode()
    page = checker_client.get(f"{BASE}{ready.number}/").content.decode()

    assert "Not collected in time: renew the pickup" in queue
    assert "renew the pickup" in page and f"{BASE}{ready.number}/renew-pickup/" in page
    assert f"{BASE}{ready.number}/collect/" not in page


def test_the_queue_filters_by_status_store_and_assignee(client, shop):
    mine = _take(shop, assigned=shop["tailor"])
    theirs = _take(shop, line=_purchase(shop))
    cancelled = _take(shop, line=_purchase(shop))
    alteration_cancel(actor=shop["checker"].user, alteration=cancelled, reason="Fits after all")
    utrecht = LocationFactory(name="Utrecht")
    client.force_login(shop["tailor"].user)

    def listed(**query):
        return [row.alteration for row in client.get(BASE, query).context["rows"]]

    assert set(listed()) == {mine, theirs}
    assert listed(mine=1) == [mine]
    assert listed(status="cancelled") == [cancelled]
    assert set(listed(status="all")) == {mine, theirs, cancelled}
    assert listed(location=utrecht.pk) == []


def test_the_queue_finds_a_work_order_by_its_number_or_its_orders(checker_client, shop):
    first = _take(shop)
    second = _take(shop, line=_purchase(shop))
    alteration_cancel(actor=shop["checker"].user, alteration=second, reason="Fits after all")

    def found(q):
        response = checker_client.get(BASE, {"q": q})
        return [row.alteration for row in response.context["rows"]], response.content.decode()

    assert found(first.number.lower())[0] == [first]
    assert found(shop["line"].order.number)[0] == [first]
    assert found(second.service_order.number)[0] == [second]  # closed ones too
    rows, page = found("WNOPE")
    assert rows == [] and "No work order for WNOPE." in page


def test_bad_queue_input_shows_a_message_and_the_default_queue(checker_client, shop):
    alteration = _take(shop)

    response = checker_client.get(BASE, {"location": "²", "status": "lost"})

    assert response.status_code == 200 and _said(response, "Showing the default queue instead")
    assert [row.alteration for row in response.context["rows"]] == [alteration]


def test_someone_without_a_home_store_is_asked_to_choose_one(client, shop):
    client.force_login(UserFactory(roles=["customer_service"]))

    response = client.get(BASE)

    assert response.status_code == 200 and _said(response, "Choose a store")
    assert client.get(BASE, {"location": shop["store"].pk}).status_code == 200


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def test_the_queue_runs_as_many_queries_for_many_rows_as_for_one(checker_client, shop, django_assert_max_num_queries):
    _take(shop, assigned=shop["tailor"])
    one = _queries(checker_client, BASE)
    for _ in range(2):
        _take(shop, line=_purchase(shop), assigned=shop["tailor"])
        _ready(shop, line=_purchase(shop))
    expired = _ready(shop, line=_purchase(shop))
    pickups_sweep(now=expired.pickup.expires_at + timedelta(minutes=1))

    with django_assert_max_num_queries(one):
        response = checker_client.get(BASE)
    with django_assert_max_num_queries(one):
        searched = checker_client.get(BASE, {"q": shop["line"].order.number, "status": "all"})

    assert len(response.context["rows"]) == 6 and len(searched.context["rows"]) == 1


def test_the_work_order_page_runs_as_many_queries_with_a_long_history(
    checker_client, shop, django_assert_max_num_queries
):
    short = _take(shop, assigned=shop["tailor"])
    _measured(shop, short)
    one = _queries(checker_client, f"{BASE}{short.number}/")
    long = _measured(shop, _take(shop, line=_purchase(shop)))
    for who in ("tailor", "checker", "tailor"):
        if who == "checker":
            shop["checker"].skills.add(shop["sewing"])
        long = alteration_assign(actor=shop["tailor"].user, alteration=long, associate=shop[who])
    for _ in range(3):
        long = _measured(shop, long)

    with django_assert_max_num_queries(one):
        response = checker_client.get(f"{BASE}{long.number}/")

    assert len(response.context["history"]) == 8


# --- taking a work order -------------------------------------------------------------------------


def test_taking_a_work_order_finds_the_order_and_offers_its_alterable_items(checker_client, shop):
    order = shop["line"].order
    other_kind = AlterationKind.objects.create(
        code="taper",
        name="Tapering",
        category=CategoryFactory(slug="menswear", name="Menswear"),
        turnaround_days=5,
        service_product=shop["kind"].service_product,
    )
    AlterationKind.objects.create(
        code="old", name="Patching", turnaround_days=5, service_product=shop["kind"].service_product, is_active=False
    )

    start = checker_client.get(f"{BASE}new/")
    found = checker_client.get(f"{BASE}new/", {"order": order.number.lower()})
    page = found.content.decode()

    assert "Find order" in start.content.decode()
    assert [(offer.line, offer.kind) for offer in found.context["offers"]] == [(shop["line"], shop["kind"])]
    assert found.context["chosen"].kind == shop["kind"]  # the only one: chosen
    assert found.context["tailors"] == [shop["tailor"]]
    assert "Hemming of Wide-leg trousers" in page and "Ready in 3 days" in page and "15.00 EUR" in page
    assert other_kind.name not in page and "Patching" not in page
    assert escape(shop["tailor"].user.get_full_name()) in page


def test_an_order_with_several_items_and_kinds_asks_which(checker_client, shop):
    taking_in = AlterationKind.objects.create(
        code="take-in",
        name="Taking in",
        category=shop["clothes"],
        turnaround_days=5,
        service_product=shop["kind"].service_product,
    )
    sofa = ProductFactory(name="Sofa")  # not alterable
    order = make_paid_order(lines=[(shop["line"].product, 1, "79.95"), (sofa, 1, "300")], location=shop["store"])
    line = order.lines.get(product=shop["line"].product)

    asked = checker_client.get(f"{BASE}new/", {"order": order.number})
    chosen = checker_client.get(f"{BASE}new/", {"order": order.number, "offer": f"{line.pk}:{taking_in.pk}"})
    wrong = checker_client.get(f"{BASE}new/", {"order": order.number, "offer": f"{line.pk}:999999"})

    assert [offer.kind for offer in asked.context["offers"]] == [shop["kind"], taking_in]
    assert "chosen" not in asked.context and "Wide-leg trousers: Taking in" in asked.content.decode()
    assert "Sofa" not in asked.content.decode()
    assert chosen.context["chosen"].kind == taking_in
    assert _said(wrong, "Choose one of the items and alterations listed.")


def _taking(shop, **overrides):
    return {
        "location": shop["store"].pk,
        "order": shop["line"].order.number,
        "offer": f"{shop['line'].pk}:{shop['kind'].pk}",
        "specification": "Shorten by 4 cm",
        "assigned_to": shop["tailor"].pk,
        **overrides,
    }


def test_taking_a_work_order_requests_it_and_shows_its_page(checker_client, shop):
    response = checker_client.post(f"{BASE}new/", _taking(shop), follow=True)

    alteration = Alteration.objects.get()
    assert response.redirect_chain[-1][0] == f"{BASE}{alteration.number}/"
    assert _said(response, f"Hemming of Wide-leg trousers taken: {alteration.number}, ready by")
    assert alteration.specification == "Shorten by 4 cm" and alteration.assigned_to == shop["tailor"]
    assert alteration.requested_by == shop["checker"].user and alteration.location == shop["store"]


@pytest.mark.parametrize(
    ("overrides", "expected", "status"),
    [
        ({"specification": "  "}, "Say what is to be done.", 422),
        ({"offer": ""}, "Choose the item and the alteration.", 422),
        ({"offer": "1:2\n"}, "Item and alteration", 422),
        ({"offer": "1:2"}, "Find the order and choose the item and the alteration again.", 422),
        ({"order": "ONOPE"}, "Find the order and choose the item and the alteration again.", 422),
        ({"order": ""}, "Find the order first.", 422),
        ({"assigned_to": "²"}, "Tailor", 422),
        ({"assigned_to": "checker"}, "Choose one of the tailors listed.", 422),
        ({"location": "999999"}, "Store: Select a valid choice.", 422),
    ],
)
def test_bad_work_order_input_shows_a_message_and_takes_nothing(checker_client, shop, overrides, expected, status):
    if overrides.get("assigned_to") == "checker":
        overrides["assigned_to"] = shop["checker"].pk
    orders = Order.objects.count()

    response = checker_client.post(f"{BASE}new/", _taking(shop, **overrides))

    assert response.status_code == status
    assert _said(response, expected), _messages(response)
    assert not Alteration.objects.exists() and Order.objects.count() == orders


def test_a_refused_request_shows_the_services_message(checker_client, shop):
    _take(shop)  # the one pair bought has its hemming ordered already

    response = checker_client.post(f"{BASE}new/", _taking(shop))

    assert response.status_code == 422
    assert _said(response, "Every unit of this purchase has its hemming ordered already.")
    assert Alteration.objects.count() == 1
    assert response.context["specification"] == "Shorten by 4 cm"  # what was typed, kept


def test_an_unknown_order_is_said_so(checker_client, shop):
    response = checker_client.get(f"{BASE}new/", {"order": "onope"})

    assert _said(response, "No order ONOPE.")


# --- a work order's page and its steps -----------------------------------------------------------


def test_the_work_order_page_shows_the_work_its_money_and_the_steps_its_state_allows(tailor_client, shop):
    alteration = _measured(shop, _take(shop))

    response = tailor_client.get(f"{BASE}{alteration.number}/")
    page = response.content.decode()

    assert "Alteration " + alteration.number in page and "Measured" in page
    assert "Hemming" in page and "Wide-leg trousers" in page and "Shorten by 4 cm, blind hem" in page
    assert "inside leg: 78 cm" in page and alteration.customer.full_name in page
    assert f'href="/orders/{alteration.service_order.number}/"' in page and "15.00 EUR" in page
    assert f'href="/orders/{shop["line"].order.number}/"' in page
    assert set(response.context["forms"]) == {"measure", "assign", "start", "cancel"}
    assert [step.what for step in response.context["history"]] == ["Requested", "Measured"]
    assert 'value="inside leg"' in page and 'value="78 cm"' in page  # measured again from what there is


def test_a_work_order_from_request_to_collection(client, shop):
    tailor, checker = shop["tailor"].user, shop["checker"].user
    alteration = _take(shop)
    url = f"{BASE}{alteration.number}/"
    client.force_login(checker)

    measured = client.post(
        f"{url}measure/",
        {
            "measure-name_1": "Inside leg",
            "measure-value_1": "78 cm",
            "measure-name_3": "Hem width",
            "measure-value_3": "24 cm",
            "measure-name_6": "Waist",
            "measure-value_6": "72 cm",
        },
    )
    assigned = client.post(f"{url}assign/", {"assign-associate": shop["tailor"].pk}, follow=True)
    client.force_login(tailor)
    client.post(f"{url}start/")
    client.post(f"{url}submit/")
    own = client.post(f"{url}quality-check/", {"check-result": "passed"})
    client.force_login(checker)
    failed = client.post(f"{url}quality-check/", {"check-result": "failed", "check-note": "Left leg 3 mm longer"})
    client.force_login(tailor)
    client.post(f"{url}submit/")
    client.force_login(checker)
    passed = client.post(f"{url}quality-check/", {"check-result": "passed", "check-note": "Even"}, follow=True)
    pickup = _reload(alteration).pickup
    collected = client.post(f"{url}collect/", {"collect-code": pickup.code}, follow=True)

    assert measured.status_code == 302 and measured["Location"] == url
    assert _said(assigned, f"{alteration.number} assigned to {shop['tailor'].user.get_full_name()}.")
    assert own.status_code == 422 and _said(own, "Someone else checks your work.")
    assert failed.status_code == 302
    assert _said(passed, "passed the check and is ready for pickup")
    assert pickup.number in passed.content.decode() and pickup.code not in passed.content.decode()
    assert _said(collected, f"{alteration.number} collected by {alteration.customer.full_name}")
    alteration = _reload(alteration)
    assert alteration.status == AlterationStatus.COLLECTED and alteration.pickup.status == PickupStatus.COLLECTED
    assert alteration.measurements == {"Inside leg": "78 cm", "Hem width": "24 cm", "Waist": "72 cm"}
    assert alteration.quality_note == "Even"
    assert [step.what for step in collected.context["history"]] == [
        "Requested",
        "Measured",
        f"Assigned to {shop['tailor'].user.get_full_name()}",
        "Work started",
        "Submitted for the quality check",
        "Quality check failed: Left leg 3 mm longer",
        "Submitted for the quality check",
        "Quality check passed: ready for pickup",
        "Collected",
    ]
    assert collected.context["history"][2].who == checker
    assert collected.context["forms"] == {}


def _state(alteration):
    row = _reload(alteration)
    transitions = transition_history(row).count()
    return row.status, row.measurements, row.assigned_to_id, row.quality_note, row.pickup_id, transitions


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "Give at least one measurement, as name and value."),
        ({"measure-name_1": "Inside leg"}, "Value 1: Give both the name and the value."),
        ({"measure-value_2": "78 cm"}, "Measurement 2: Give both the name and the value."),
        ({"measure-name_1": "x" * 61, "measure-value_1": "1"}, "Measurement 1: Ensure this value has at most 60"),
        (
            {"measure-name_1": "Waist", "measure-value_1": "1", "measure-name_2": "waist", "measure-value_2": "2"},
            "waist is measured twice.",
        ),
    ],
)
def test_bad_measurements_show_a_message_and_record_nothing(tailor_client, shop, data, expected):
    alteration = _take(shop)
    before = _state(alteration)

    response = tailor_client.post(f"{BASE}{alteration.number}/measure/", data)

    assert response.status_code == 422 and _said(response, expected), _messages(response)
    assert _said(response, "Nothing was changed.")
    assert _state(alteration) == before


def test_refused_measurements_are_shown_again_as_typed(tailor_client, shop):
    alteration = _take(shop)

    response = tailor_client.post(
        f"{BASE}{alteration.number}/measure/",
        {"measure-name_1": "Inside leg", "measure-value_1": "78 cm", "measure-name_8": "Waist"},
    )

    form = response.context["forms"]["measure"]
    assert form.rows == 8 and form.errors == {"value_8": ["Give both the name and the value."]}
    page = response.content.decode()
    assert 'value="Inside leg"' in page and 'value="Waist"' in page
    assert not _reload(alteration).measurements


def test_each_steps_bad_input_shows_a_message_and_writes_nothing(client, shop):
    """Input the form refuses (422), a rule the service refuses (422) and a step its state does
    not allow (409): the page again, saying why, and nothing written."""
    requested = _take(shop)
    checking = _submitted(shop, _take(shop, line=_purchase(shop)))
    ready = _ready(shop, line=_purchase(shop))
    started = alteration_start(
        actor=shop["tailor"].user,
        alteration=alteration_assign(
            actor=shop["tailor"].user,
            alteration=_measured(shop, _take(shop, line=_purchase(shop))),
            associate=shop["tailor"],
        ),
    )
    client.force_login(shop["checker"].user)
    cases = [
        (requested, "assign", {"assign-associate": shop["checker"].pk}, 422, "Choose one of the associates listed."),
        (requested, "assign", {"assign-associate": "x"}, 422, "Choose one of the associates listed."),
        (requested, "assign", {}, 422, "Choose who does the work."),
        (requested, "start", {}, 422, "Assign the work to someone before starting it."),
        (requested, "submit", {}, 409, "allowed: cancel, measure"),
        (requested, "cancel", {"cancel-reason": ""}, 422, "Say why the alteration is cancelled."),
        (requested, "cancel", {"cancel-reason": "x" * 301}, 422, "Reason to cancel"),
        (requested, "collect", {"collect-code": "ABCD"}, 409, "A requested alteration is not handed over."),
        (requested, "renew-pickup", {}, 409, "Only an alteration ready for pickup gets a new pickup."),
        (checking, "quality-check", {}, 422, "Say whether the work passed."),
        (checking, "quality-check", {"check-result": "maybe"}, 422, "Say passed or failed."),
        (checking, "quality-check", {"check-result": "failed"}, 422, "Say what is to be put right."),
        (checking, "cancel", {"cancel-reason": "Too late"}, 409, "Cannot cancel"),
        (started, "cancel", {"cancel-reason": "Too late"}, 409, "Cannot cancel"),
        (ready, "collect", {"collect-code": ""}, 422, "Type the code the customer shows."),
        (ready, "collect", {"collect-code": "ABCD-EFGH-JKMNP"}, 422, "That is not this pickup's code."),
        (ready, "renew-pickup", {}, 409, "Its pickup is still open; the customer has the code."),
        (ready, "measure", {"measure-name_1": "Waist", "measure-value_1": "70"}, 409, "Cannot measure"),
    ]

    for alteration, step, data, status, expected in cases:
        before = _state(alteration)
        response = client.post(f"{BASE}{alteration.number}/{step}/", data)
        assert response.status_code == status, (step, data, response.status_code, _messages(response))
        assert _said(response, expected), (step, data, _messages(response))
        assert _state(alteration) == before, (step, data)
        assert ready.pickup.code not in response.content.decode()


def test_a_wrong_code_is_not_put_back_on_the_page(checker_client, shop):
    ready = _ready(shop)

    response = checker_client.post(f"{BASE}{ready.number}/collect/", {"collect-code": "TYPED-BY-HAND"})

    assert response.status_code == 422 and "TYPED-BY-HAND" not in response.content.decode()


def test_handing_over_is_rate_limited_like_the_apis_look_ups(checker_client, shop, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "secret_lookup": "2/min"}
    )
    ready = _ready(shop)
    url = f"{BASE}{ready.number}/collect/"

    statuses = [checker_client.post(url, {"collect-code": code}).status_code for code in ("A", "B", ready.pickup.code)]

    assert statuses == [422, 422, 429]
    assert _reload(ready).status == AlterationStatus.READY  # the right code, too late, did nothing


def test_an_expired_pickup_is_renewed_from_the_page(checker_client, shop):
    ready = _ready(shop)
    first = ready.pickup
    pickups_sweep(now=first.expires_at + timedelta(minutes=1))

    response = checker_client.post(f"{BASE}{ready.number}/renew-pickup/", follow=True)

    renewed = _reload(ready)
    assert renewed.pickup_id != first.pk and renewed.pickup.status == PickupStatus.READY
    assert _said(response, f"{ready.number} has a new pickup, {renewed.pickup.number}")
    page = response.content.decode()
    assert renewed.pickup.code not in page and first.code not in page
    assert "New pickup: a new code and deadline" in page and f"{BASE}{ready.number}/collect/" in page


def test_cancelling_says_why_in_the_history(checker_client, shop):
    alteration = _take(shop)

    response = checker_client.post(
        f"{BASE}{alteration.number}/cancel/", {"cancel-reason": "Fits after all"}, follow=True
    )

    assert _reload(alteration).status == AlterationStatus.CANCELLED
    assert _said(response, f"{alteration.number} cancelled; the customer has been told why.")
    assert "Cancelled: Fits after all" in response.content.decode()
    assert response.context["forms"] == {}


# --- the code stays the customer's, and the calendar links here ----------------------------------


def test_the_pickup_code_is_on_no_page(client, shop):
    ready = _ready(shop)
    client.force_login(shop["tailor"].user)
    code = Pickup.objects.get(pk=ready.pickup_id).code
    zone = zone_or_utc("Europe/Amsterdam")
    Alteration.objects.filter(pk=ready.pk).update(due_on=timezone.localdate(timezone=zone))

    pages = [
        BASE,
        f"{BASE}?q={ready.number}",
        f"{BASE}?status=ready&mine=1",
        f"{BASE}{ready.number}/",
        f"{BASE}new/?order={shop['line'].order.number}",
        f"/installations/calendar/?location={shop['store'].pk}",
        "/installations/today/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert code not in response.content.decode(), url
        assert code.replace("-", "") not in response.content.decode(), url


def test_the_calendar_and_todays_jobs_link_to_the_work_order(tailor_client, shop):
    alteration = _take(shop, assigned=shop["tailor"])
    zone = zone_or_utc("Europe/Amsterdam")
    Alteration.objects.filter(pk=alteration.pk).update(due_on=timezone.localdate(timezone=zone))
    link = f'href="{BASE}{alteration.number}/"'

    assert link in tailor_client.get("/installations/calendar/").content.decode()
    assert link in tailor_client.get("/installations/today/").content.decode()
    assert f'href="{BASE}"' in tailor_client.get("/installations/today/").content.decode()  # the nav link
