"""The bulk order import: good rows in, each bad row reported with its line and reason."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from core.models import Touchpoint
from orders.models import Charge, Order, OrderLine, order_number
from orders.services.charges import ledger_of
from orders.services.imports import orders_import
from tests.factories import CustomerFactory, LocationFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return {
        "customer": CustomerFactory(),
        "lamp": ProductFactory(sku="LAMP-1", name="Lamp"),
        "chair": ProductFactory(sku="CHAIR-1", name="Chair"),
        "store": LocationFactory(code="AMS01"),
    }


def _order(world, external_id, **extra):
    return {
        "source": "pos",
        "external_id": external_id,
        "customer": world["customer"].number,
        "channel": "store",
        "location": "AMS01",
        "placed_at": "2026-11-20T14:05:00+01:00",
        "lines": [
            {"product": "LAMP-1", "quantity": 2, "unit_price": "19.95"},
            {"product": "CHAIR-1", "quantity": 1, "unit_price": "89.00", "discount": "9.00"},
        ],
        "payments": [{"kind": "capture", "amount": "119.90", "reference": "till-3"}],
        **extra,
    }


def _lines(*orders):
    return [json.dumps(order) if isinstance(order, dict) else order for order in orders]


def test_good_rows_are_imported_with_lines_ledger_history_and_timeline(world):
    report = orders_import(stream=_lines(_order(world, "P-1"), _order(world, "P-2", payments=[])))

    assert (report.created, report.errors) == (2, [])
    order = Order.objects.get(external_id="P-1")
    assert order.total == Decimal("119.90") and order.location == world["store"]
    assert order.lines.count() == 2
    assert (ledger_of(order).past, ledger_of(order).pending) == (Decimal("119.90"), Decimal("0"))
    unpaid = Order.objects.get(external_id="P-2")
    assert ledger_of(unpaid).pending == Decimal("119.90")
    assert Touchpoint.objects.filter(order_number=order.number, kind="purchase", customer=world["customer"]).exists()
    assert order.history.get().history_change_reason == "imported"


def test_bad_rows_are_reported_by_line_and_the_good_ones_still_land(world):
    stream = _lines(
        _order(world, "P-1"),
        "{broken",
        _order(world, "P-3", customer="CNOBODY99"),
        _order(world, "P-4", lines=[{"product": "NOPE", "quantity": 1, "unit_price": "1"}]),
        _order(world, "P-5", payments=[{"kind": "capture", "amount": "1.00"}]),
        _order(world, "P-6", lines=[{"product": "LAMP-1", "quantity": 0, "unit_price": "1"}]),
        "",
        _order(world, "P-1"),
        _order(world, "P-9", channel="fax"),
        _order(world, "P-10", placed_at="yesterday"),
        _order(world, "P-11", colour="red"),
        _order(world, "P-12", lines=[{"product": "LAMP-1", "quantity": 1, "unit_price": "NaN"}]),
        "[1, 2]",
        _order(world, "P-14", location="NOWHERE"),
    )
    report = orders_import(stream=stream)

    reasons = dict(report.errors)
    assert report.created == 1 and report.read == 13
    assert sorted(reasons) == [2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14]
    assert "not valid JSON" in reasons[2]
    assert "no customer" in reasons[3]
    assert "no product with SKU NOPE" in reasons[4]
    assert "Payments add up to 1.00" in reasons[5]
    assert "quantity" in reasons[6]
    assert "appears twice" in reasons[8]
    assert "channel" in reasons[9]
    assert "placed_at" in reasons[10]
    assert "unknown fields: colour" in reasons[11]
    assert "not a number" in reasons[12] or "between" in reasons[12]
    assert "one JSON object" in reasons[13]
    assert "no location" in reasons[14]
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 2 and Charge.objects.count() == 1


def test_importing_the_same_file_again_skips_what_is_there(world):
    stream = _lines(_order(world, "P-1"), _order(world, "P-2"))
    orders_import(stream=stream)
    again = orders_import(stream=stream)
    assert (again.created, again.skipped, again.errors) == (0, 2, [])
    assert Order.objects.count() == 2


def test_an_order_pushed_through_the_api_meanwhile_is_not_duplicated(world):
    make_order(customer=world["customer"], source="pos", external_id="P-1")
    report = orders_import(stream=_lines(_order(world, "P-1"), _order(world, "P-2")))
    assert (report.created, report.skipped) == (1, 1)


def test_batches_write_everything(world):
    report = orders_import(stream=_lines(*[_order(world, f"P-{i}") for i in range(7)]), batch_size=3)
    assert report.created == 7
    assert Order.objects.count() == 7 and OrderLine.objects.count() == 14
    assert len(set(Order.objects.values_list("number", flat=True))) == 7


def test_the_command_reports_bad_rows_and_fails(world, tmp_path, capsys):
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(_lines(_order(world, "P-1"), "{broken")) + "\n")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_orders", str(path))
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert "1 imported" in out and "line 2: not valid JSON" in err

    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(_order(world, "P-7")) + "\n")
    call_command("import_orders", str(good), "--json")
    assert json.loads(capsys.readouterr().out)["created"] == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY writer's thread is PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_batches_written_while_the_next_is_read_land_whole_and_repeats_are_skipped(world):
    """Outside a transaction PostgreSQL gets each batch from a thread of its own while the next one
    is checked; a row repeating one of an earlier, perhaps unfinished, batch is still skipped."""
    stream = _lines(*[_order(world, f"P-{i}") for i in range(7)], _order(world, "P-1"), _order(world, "P-8"))
    report = orders_import(stream=stream, batch_size=3)
    assert (report.created, report.skipped, report.errors) == (8, 1, [])
    assert Order.objects.count() == 8 and OrderLine.objects.count() == 16 and Charge.objects.count() == 8
    assert Touchpoint.objects.filter(kind="purchase").count() == 8
    again = orders_import(stream=stream, batch_size=4)
    assert (again.created, again.skipped, again.errors) == (0, 9, [])


def test_free_text_with_tabs_backslashes_and_newlines_arrives_as_sent(world):
    odd = "A\tB\\C\nD\rE"
    payments = [{"kind": "capture", "amount": "119.90", "reference": odd}]
    report = orders_import(stream=_lines(_order(world, odd, payments=payments)))
    assert (report.created, report.errors) == (1, [])
    order = Order.objects.get(source="pos")
    assert order.external_id == odd and order.charges.get().reference == odd
    assert order.history.get().external_id == odd


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY writer's thread is PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_batch_that_collides_is_imported_again_row_by_row(world, monkeypatch):
    """An order number drawn twice (or an external id pushed meanwhile) refuses the whole COPY: the
    batch is imported again one by one, and nothing is lost or counted twice."""
    taken = make_order(customer=world["customer"]).number
    numbers = iter([taken])
    monkeypatch.setattr("orders.services.imports.order_number", lambda: next(numbers, None) or order_number())
    report = orders_import(stream=_lines(*[_order(world, f"P-{i}") for i in range(5)]), batch_size=2)
    assert (report.created, report.skipped, report.errors) == (5, 0, [])
    assert Order.objects.filter(source="pos").count() == 5 and OrderLine.objects.count() == 10 + 1
