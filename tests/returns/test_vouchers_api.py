"""The vouchers API: staff `vouchers` (list, detail with the ledger, issue, redeem, void, reverse,
transactions, look-up by code) and the customer's `me/vouchers`. Who may call what, the code
(owner and staff, masked in the outbox for staff), Idempotency-Key on what moves money, bad input,
filters and query counts."""

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from core.models import Notification, StateTransition, Touchpoint
from orders.choices import ChargeKind
from orders.models import Charge
from returns.choices import VoucherStatus
from returns.models import Voucher, VoucherTransaction
from returns.services.vouchers import voucher_redeem
from tests.factories import CustomerFactory, ProductFactory, make_order, make_voucher
from tests.matrix import assert_allowed_or_refused

pytestmark = pytest.mark.django_db

ROLES = ["anon", "roleless", "customer", "integration", "associate", "agent", "manager", "admin"]
STAFF = {"associate", "agent", "manager", "admin"}
MANAGERS = {"manager", "admin"}
D = Decimal


def _post(client, url, data=None, key=None, **extra):
    return client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid4()), **extra)


def _reload(voucher):
    return Voucher.objects.get(pk=voucher.pk)


@pytest.fixture
def objects(customer):
    voucher = make_voucher(customer=customer, amount="80.00")
    spent = voucher_redeem(actor=None, voucher=voucher, amount=D("10"))
    return {"voucher": voucher, "spent": spent, "customer": customer}


CASES = [
    ("list", "get", lambda o: "/api/v1/vouchers/", None, STAFF),
    ("detail", "get", lambda o: f"/api/v1/vouchers/{o['voucher'].pk}/", None, STAFF),
    ("transactions", "get", lambda o: f"/api/v1/vouchers/{o['voucher'].pk}/transactions/", None, STAFF),
    (
        "issue",
        "post",
        lambda o: "/api/v1/vouchers/",
        lambda o: {"customer": o["customer"].pk, "amount": "20.00", "currency": "EUR", "source": "goodwill"},
        STAFF,
    ),
    ("redeem", "post", lambda o: f"/api/v1/vouchers/{o['voucher'].pk}/redeem/", lambda o: {"amount": "5"}, STAFF),
    ("void", "post", lambda o: f"/api/v1/vouchers/{o['voucher'].pk}/void/", lambda o: {"reason": "Fraud"}, MANAGERS),
    (
        "reverse",
        "post",
        lambda o: f"/api/v1/vouchers/{o['voucher'].pk}/reverse/",
        lambda o: {"transaction": o["spent"].pk, "reason": "Till error"},
        MANAGERS,
    ),
    ("lookup", "post", lambda o: "/api/v1/vouchers/lookup/", lambda o: {"code": o["voucher"].code}, STAFF),
    ("my vouchers", "get", lambda o: "/api/v1/me/vouchers/", None, {"customer"}),
    ("my voucher", "get", lambda o: f"/api/v1/me/vouchers/{o['voucher'].pk}/", None, {"customer"}),
]


def _everything():
    """Every row a denied request could have touched."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Voucher, VoucherTransaction, Charge, StateTransition, Notification, Touchpoint)
    ]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_authorisation_matrix(case, role, clients, objects):
    name, method, url, payload, allowed = case
    before = _everything()

    if method == "post":
        response = _post(clients[role], url(objects), payload(objects))
    else:
        response = clients[role].get(url(objects))

    assert_allowed_or_refused(response, name=name, role=role, allowed=allowed, before=before, after=_everything)


# --- the code: its owner's and staff's; masked in the outbox for staff --------------------------


def test_staff_see_the_code_but_the_outbox_masks_it_for_them(manager_client, customer):
    voucher = make_voucher(customer=customer)

    detail = manager_client.get(f"/api/v1/vouchers/{voucher.pk}/").json()
    listed = manager_client.get("/api/v1/vouchers/").json()["results"]
    outbox = manager_client.get("/api/v1/notifications/", {"customer": customer.pk})

    assert detail["code"] == voucher.code
    assert listed[0]["code"] == "••••-••••-•" + voucher.code[-4:]  # lists never carry a whole code
    assert outbox.status_code == 200, outbox.content
    assert outbox.json()["results"], "the issue message is in the outbox"
    assert voucher.code not in outbox.content.decode()
    assert voucher.code in Notification.objects.get(event="voucher_issued").body  # the customer gets it


def test_my_vouchers_show_the_code_and_ledger_to_their_owner_only(customer_app_client, customer):
    mine = make_voucher(customer=customer, amount="30.00")
    voucher_redeem(actor=None, voucher=mine, amount=D("12.50"))
    theirs = make_voucher(customer=CustomerFactory())

    listed = customer_app_client.get("/api/v1/me/vouchers/")
    detail = customer_app_client.get(f"/api/v1/me/vouchers/{mine.pk}/").json()
    other = customer_app_client.get(f"/api/v1/me/vouchers/{theirs.pk}/")

    assert [row["id"] for row in listed.json()["results"]] == [mine.pk]
    assert (detail["code"], detail["balance"], detail["status"]) == (mine.code, "17.50", "active")
    assert [(row["kind"], row["amount"], row["balance_after"]) for row in detail["transactions"]] == [
        ("issue", "30.00", "30.00"),
        ("redeem", "-12.50", "17.50"),
    ]
    assert other.status_code == 404 and other["Content-Type"] == "application/problem+json"
    assert theirs.code not in listed.content.decode() + other.content.decode()


# --- issue ------------------------------------------------------------------------------------


def test_issue_creates_the_voucher_and_says_where_it_is(associate_client, associate, customer):
    order = make_order(customer=customer)
    payload = {
        "customer": customer.pk,
        "amount": "25.00",
        "currency": "EUR",
        "source": "goodwill",
        "order": order.pk,
        "note": "Sofa arrived late",
    }

    response = _post(associate_client, "/api/v1/vouchers/", payload)

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/vouchers/{body['id']}/"
    assert (body["balance"], body["status"], body["source"], body["order_number"]) == (
        "25.00",
        "active",
        "goodwill",
        order.number,
    )
    assert body["issued_by"]["id"] == associate.pk
    assert [(row["kind"], row["amount"]) for row in body["transactions"]] == [("issue", "25.00")]


def test_an_associate_above_their_limit_gets_a_422_and_a_manager_may(associate_client, manager, customer):
    manager.associate.approval_limit = D("500.00")
    manager.associate.save(update_fields=["approval_limit"])
    payload = {"customer": customer.pk, "amount": "150.00", "currency": "EUR", "source": "referral"}

    refused = _post(associate_client, "/api/v1/vouchers/", payload)

    assert refused.status_code == 422
    assert refused.json()["code"] == "above_approval_limit" and "ask a manager" in refused.json()["detail"]
    assert not Voucher.objects.exists()
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(manager)
    assert _post(client, "/api/v1/vouchers/", payload).status_code == 201


def test_staff_cannot_issue_store_credit_for_a_return_by_hand(manager_client, customer):
    payload = {"customer": customer.pk, "amount": "10.00", "currency": "EUR", "source": "return"}
    response = _post(manager_client, "/api/v1/vouchers/", payload)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "source"


# --- redeem -----------------------------------------------------------------------------------


def test_redeem_part_then_the_rest_exhausts_it(associate_client):
    voucher = make_voucher(amount="40.00")
    url = f"/api/v1/vouchers/{voucher.pk}/redeem/"

    part = _post(associate_client, url, {"amount": "15.00", "reference": "till-7"})
    rest = _post(associate_client, url, {"amount": "25.00"})

    assert part.status_code == 200, part.content
    assert (part.json()["balance"], part.json()["status"]) == ("25.00", "active")
    assert part.json()["transactions"][-1]["reference"] == "till-7"
    assert (rest.json()["balance"], rest.json()["status"]) == ("0.00", "exhausted")


def test_redeem_on_an_order_pays_part_of_it(associate_client):
    voucher = make_voucher(amount="40.00")
    order = make_order(customer=voucher.customer, lines=[(ProductFactory(), 1, "100.00")])

    response = _post(associate_client, f"/api/v1/vouchers/{voucher.pk}/redeem/", {"amount": "30", "order": order.pk})

    assert response.status_code == 200, response.content
    assert response.json()["transactions"][-1]["order_number"] == order.number
    paid = Charge.objects.get(order=order, kind=ChargeKind.VOUCHER_REDEMPTION)
    assert paid.amount == D("30.00")


def test_redeem_refusals_say_why(associate_client):
    voucher = make_voucher(amount="40.00")
    theirs = make_order(lines=[(ProductFactory(), 1, "100.00")])
    url = f"/api/v1/vouchers/{voucher.pk}/redeem/"

    too_much = _post(associate_client, url, {"amount": "40.01"})
    other = _post(associate_client, url, {"amount": "5", "order": theirs.pk})

    assert too_much.status_code == 422
    assert (too_much.json()["code"], too_much.json()["balance"]) == ("insufficient_balance", "40.00")
    assert "40.00 EUR" in too_much.json()["detail"]
    assert (other.status_code, other.json()["code"]) == (422, "voucher_not_customers")
    assert _reload(voucher).balance == D("40.00")


@pytest.mark.parametrize(("status", "allowed"), [("exhausted", ["reactivate", "void"]), ("void", []), ("expired", [])])
def test_redeeming_a_voucher_that_is_not_active_is_a_409_naming_the_allowed(status, allowed, associate_client):
    voucher = make_voucher()
    Voucher.objects.filter(pk=voucher.pk).update(status=status)

    response = _post(associate_client, f"/api/v1/vouchers/{voucher.pk}/redeem/", {"amount": "1"})

    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["allowed"], body["state"]) == ("voucher_not_active", allowed, status)
    assert response["Content-Type"] == "application/problem+json"


def test_a_retried_redemption_with_the_same_key_spends_once(associate_client):
    voucher = make_voucher(amount="40.00")
    url = f"/api/v1/vouchers/{voucher.pk}/redeem/"

    first = _post(associate_client, url, {"amount": "10.00"}, key="till-3-sale-991")
    retry = _post(associate_client, url, {"amount": "10.00"}, key="till-3-sale-991")
    other_body = _post(associate_client, url, {"amount": "11.00"}, key="till-3-sale-991")

    assert first.status_code == retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert other_body.status_code == 422
    assert _reload(voucher).balance == D("30.00")
    assert voucher.transactions.filter(kind="redeem").count() == 1


@pytest.mark.parametrize(
    ("path", "payload"),
    [("redeem", {"amount": "1"}), ("void", {"reason": "x"}), ("", None)],
)
def test_what_moves_money_needs_an_idempotency_key(path, payload, manager_client, customer):
    voucher = make_voucher()
    url = f"/api/v1/vouchers/{voucher.pk}/{path}/" if path else "/api/v1/vouchers/"
    payload = payload or {"customer": customer.pk, "amount": "1", "currency": "EUR", "source": "goodwill"}
    before = _everything()

    response = manager_client.post(url, payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert _everything() == before


# --- void and reverse -------------------------------------------------------------------------


def test_void_takes_the_rest_off_and_a_second_void_is_409(manager_client):
    voucher = make_voucher(amount="40.00")
    url = f"/api/v1/vouchers/{voucher.pk}/void/"

    voided = _post(manager_client, url, {"reason": "Issued twice"})
    again = _post(manager_client, url, {"reason": "Issued twice"})

    assert voided.status_code == 200, voided.content
    assert (voided.json()["status"], voided.json()["balance"]) == ("void", "0.00")
    assert again.status_code == 409 and again.json()["allowed"] == []


def test_reverse_puts_a_redemption_back_once(manager_client):
    voucher = make_voucher(amount="40.00")
    spent = voucher_redeem(actor=None, voucher=voucher, amount=D("40"))
    url = f"/api/v1/vouchers/{voucher.pk}/reverse/"

    reversed_ = _post(manager_client, url, {"transaction": spent.pk, "reason": "Till error"})
    twice = _post(manager_client, url, {"transaction": spent.pk, "reason": "Till error"})
    elsewhere = _post(
        manager_client, f"/api/v1/vouchers/{make_voucher().pk}/reverse/", {"transaction": spent.pk, "reason": "x"}
    )

    assert reversed_.status_code == 200, reversed_.content
    body = reversed_.json()
    assert (body["status"], body["balance"]) == ("active", "40.00")
    redemption = next(row for row in body["transactions"] if row["kind"] == "redeem")
    assert redemption["reversed_by"] == body["transactions"][-1]["id"]
    assert (twice.status_code, twice.json()["code"]) == (409, "already_reversed")
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (422, "transaction_not_in_voucher")


def test_the_transactions_endpoint_pages_the_ledger_oldest_first(agent_client):
    voucher = make_voucher(amount="40.00")
    for _ in range(4):
        voucher_redeem(actor=None, voucher=voucher, amount=D("1"))

    first = agent_client.get(f"/api/v1/vouchers/{voucher.pk}/transactions/", {"page_size": 3}).json()
    second = agent_client.get(first["next"]).json()

    rows = first["results"] + second["results"]
    assert [row["balance_after"] for row in rows] == ["40.00", "39.00", "38.00", "37.00", "36.00"]


# --- look-up by code --------------------------------------------------------------------------


def test_lookup_finds_a_voucher_by_the_code_however_it_is_typed(associate_client):
    voucher = make_voucher()

    found = _post(associate_client, "/api/v1/vouchers/lookup/", {"code": voucher.code.replace("-", "").lower()})
    unknown = _post(associate_client, "/api/v1/vouchers/lookup/", {"code": "AAAA-BBBB-CCCCC"})
    short = _post(associate_client, "/api/v1/vouchers/lookup/", {"code": "AAAA"})

    assert found.status_code == 200 and found.json()["id"] == voucher.pk
    assert unknown.status_code == short.status_code == 404
    assert unknown["Content-Type"] == "application/problem+json"


def test_lookup_is_rate_limited_per_caller(monkeypatch, associate_client, agent_client):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "secret_lookup": "2/min"}
    )
    voucher = make_voucher()
    url = "/api/v1/vouchers/lookup/"

    statuses = [_post(associate_client, url, {"code": code}).status_code for code in ("A", "B", voucher.code)]

    assert statuses == [404, 404, 429]
    assert associate_client.get("/api/v1/vouchers/").status_code == 200  # other endpoints are not limited
    assert _post(agent_client, url, {"code": voucher.code}).status_code == 200  # per caller


# --- filters and search -----------------------------------------------------------------------


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_list_filters_by_customer_status_and_source_but_not_by_code(agent_client):
    alice, bob = CustomerFactory(), CustomerFactory()
    goodwill = make_voucher(customer=alice)
    referral = make_voucher(customer=alice, source="referral")
    spent = make_voucher(customer=bob, amount="5")
    voucher_redeem(actor=None, voucher=spent, amount=D("5"))

    assert _ids(agent_client.get("/api/v1/vouchers/", {"customer": alice.pk})) == {goodwill.pk, referral.pk}
    assert _ids(agent_client.get("/api/v1/vouchers/", {"customer_number": bob.number})) == {spent.pk}
    assert _ids(agent_client.get("/api/v1/vouchers/", {"status": "exhausted"})) == {spent.pk}
    assert _ids(agent_client.get("/api/v1/vouchers/", {"source": "referral"})) == {referral.pk}
    assert _ids(agent_client.get("/api/v1/vouchers/", {"search": alice.number})) == {goodwill.pk, referral.pk}
    # a code is found through the rate-limited look-up only: searching for it finds nothing
    assert _ids(agent_client.get("/api/v1/vouchers/", {"search": goodwill.code})) == set()


@pytest.mark.parametrize(
    "params",
    [{"customer": "me"}, {"customer": 10**30}, {"status": "lost"}, {"source": "lottery"}, {"order": "x"}],
)
def test_bad_filters_are_400_problems(params, agent_client):
    response = agent_client.get("/api/v1/vouchers/", params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"


def test_bad_filters_on_my_vouchers_are_400_problems(customer_app_client):
    response = customer_app_client.get("/api/v1/me/vouchers/", {"status": "lost"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


# --- bad input --------------------------------------------------------------------------------

HUGE = "x" * 100_000


def _issue_payloads(customer):
    good = {"customer": customer.pk, "amount": "10.00", "currency": "EUR", "source": "goodwill"}
    return [
        {},
        {**good, "customer": "alice"},
        {**good, "customer": 10**30},
        {**good, "customer": 987654},
        {**good, "amount": "-5"},
        {**good, "amount": "0"},
        {**good, "amount": "1e40"},
        {**good, "amount": 10**30},
        {**good, "amount": "NaN"},
        {**good, "amount": "Infinity"},
        {**good, "amount": "10.001"},
        {**good, "amount": [10]},
        {**good, "currency": "euro"},
        {**good, "currency": "E\x00R"},
        {**good, "source": "lottery"},
        {**good, "order": "first"},
        {**good, "order": -1},
        {**good, "note": HUGE},
        {**good, "note": "sorry\x00"},
        {**good, "expires_at": "tomorrow"},
        {**good, "expires_at": (timezone.now() - timedelta(days=1)).isoformat()},
        {**good, "code": "MINE-MINE-MINE1"},
        {**good, "balance": "1000"},
        [1, 2],
        HUGE,
    ]


@pytest.mark.parametrize("index", range(25))
def test_bad_issue_input_is_a_4xx_problem_and_writes_nothing(index, manager_client, customer):
    payload = _issue_payloads(customer)[index]
    before = _everything()

    response = _post(manager_client, "/api/v1/vouchers/", payload)

    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert _everything() == before


@pytest.fixture
def active(customer):
    voucher = make_voucher(customer=customer, amount="40.00")
    voucher_redeem(actor=None, voucher=voucher, amount=D("1"))
    return voucher


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("redeem", {}),
        ("redeem", {"amount": None}),
        ("redeem", {"amount": "-1"}),
        ("redeem", {"amount": "0"}),
        ("redeem", {"amount": "0.001"}),
        ("redeem", {"amount": "99999999999999999999"}),
        ("redeem", {"amount": 1e308}),
        ("redeem", {"amount": "1e5"}),  # more than the balance
        ("redeem", {"amount": "abc"}),
        ("redeem", {"amount": {"value": 1}}),
        ("redeem", {"amount": "1", "order": "x"}),
        ("redeem", {"amount": "1", "order": 10**30}),
        ("redeem", {"amount": "1", "order": 987654}),
        ("redeem", {"amount": "1", "reference": HUGE}),
        ("redeem", {"amount": "1", "reference": "a\x00b"}),
        ("redeem", {"amount": "1", "balance": "0"}),
        ("void", {}),
        ("void", {"reason": ""}),
        ("void", {"reason": "   "}),
        ("void", {"reason": HUGE}),
        ("void", {"reason": ["x"]}),
        ("void", {"reason": "\x00"}),
        ("reverse", {}),
        ("reverse", {"transaction": "first", "reason": "x"}),
        ("reverse", {"transaction": 10**30, "reason": "x"}),
        ("reverse", {"transaction": -3, "reason": "x"}),
        ("reverse", {"transaction": 987654, "reason": "x"}),
        ("reverse", {"transaction": 1, "reason": ""}),
    ],
)
def test_bad_action_input_is_a_4xx_problem_and_changes_nothing(action, payload, manager_client, active):
    before = _everything()

    response = _post(manager_client, f"/api/v1/vouchers/{active.pk}/{action}/", payload)

    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert _everything() == before


@pytest.mark.parametrize("payload", [{}, {"code": None}, {"code": ["A"]}, {"code": HUGE}, {"code": "ÄÖÜ-\x00-☃"}, [1]])
def test_bad_lookup_input_is_a_4xx_problem(payload, associate_client, active):
    response = _post(associate_client, "/api/v1/vouchers/lookup/", payload)
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"


def test_malformed_json_and_unknown_vouchers_are_4xx(manager_client, active):
    malformed = manager_client.post(
        f"/api/v1/vouchers/{active.pk}/redeem/",
        data="{not json",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    missing = _post(manager_client, "/api/v1/vouchers/999999/redeem/", {"amount": "1"})
    huge_id = manager_client.get(f"/api/v1/vouchers/{10**30}/")
    huge_ledger = manager_client.get(f"/api/v1/vouchers/{10**30}/transactions/")
    bad_cursor = manager_client.get("/api/v1/vouchers/", {"cursor": "nonsense"})

    assert malformed.status_code == 400 and malformed["Content-Type"] == "application/problem+json"
    assert missing.status_code == huge_id.status_code == huge_ledger.status_code == 404
    assert bad_cursor.status_code == 404
    assert _reload(active).balance == D("39.00")


# --- query counts -----------------------------------------------------------------------------

ROWS = 12


def _count(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return len(ctx), ctx


def _assert_constant(client, url, extra=None):
    extra = extra or {}
    _count(client, url, {"page_size": 1, **extra})  # warm up the caller's permissions
    small, _ = _count(client, url, {"page_size": 1, **extra})
    large, ctx = _count(client, url, {"page_size": ROWS, **extra})
    if small != large:
        sql = "\n".join(q["sql"] for q in ctx.captured_queries)
        pytest.fail(f"{url}: {small} queries for 1 row, {large} for {ROWS}:\n{sql}")
    return large


@pytest.fixture
def many(customer, manager):
    vouchers = []
    for i in range(ROWS):
        owner = customer if i % 3 else CustomerFactory()
        order = make_order(customer=owner, lines=[(ProductFactory(), 1, "100.00")])
        voucher = make_voucher(customer=owner, actor=manager, amount="60.00", order=order)
        spent = voucher_redeem(actor=manager, voucher=voucher, amount=D("10"), order=order)
        voucher_redeem(actor=manager, voucher=voucher, amount=D("5"))
        if i % 4 == 0:
            from returns.services.vouchers import voucher_reverse

            voucher_reverse(actor=manager, transaction=spent, reason="x")
        vouchers.append(voucher)
    for _ in range(ROWS):
        voucher_redeem(actor=manager, voucher=vouchers[0], amount=D("1"))
    return vouchers


@pytest.mark.parametrize("params", [{}, {"status": "active"}, {"search": "C"}, {"source": "goodwill"}])
def test_staff_list_runs_constant_queries(params, many, agent_client):
    assert _assert_constant(agent_client, "/api/v1/vouchers/", params) <= 6


def test_my_list_runs_constant_queries(many, customer_app_client):
    assert _assert_constant(customer_app_client, "/api/v1/me/vouchers/") <= 6


def test_the_ledger_runs_constant_queries(many, agent_client):
    assert _assert_constant(agent_client, f"/api/v1/vouchers/{many[0].pk}/transactions/") <= 7


def test_detail_runs_a_fixed_number_of_queries(many, agent_client):
    url = f"/api/v1/vouchers/{many[0].pk}/"
    _count(agent_client, url, {})
    few, _ = _count(agent_client, f"/api/v1/vouchers/{many[1].pk}/", {})
    lots, _ = _count(agent_client, url, {})
    assert few == lots <= 6
    assert _reload(many[1]).status == VoucherStatus.ACTIVE


@pytest.mark.parametrize("expires_at", ["9999-12-31T23:59:59Z", "2200-01-01T00:00:00Z"])
def test_an_expiry_past_ten_years_is_refused_not_a_500(expires_at, manager_client, customer):
    body = {"customer": customer.pk, "amount": "10.00", "currency": "EUR", "source": "goodwill", "note": "sorry"}

    response = _post(manager_client, "/api/v1/vouchers/", {**body, "expires_at": expires_at})

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "expires_at"
