"""Bulk import of orders from a file (JSON Lines, one order per line), as POS and e-commerce
systems hand them over in batches.

Good rows are imported, bad rows are reported with their line number and the reason, and orders
already imported (same source and external id) are skipped, so a file can be imported again. The
rules are the API's: `orders.services.orders` checks lines and payments for both.

Speed: rows are checked in Python and written per batch: on PostgreSQL with COPY (orders, their
history rows, lines, opening ledger entries and purchase touchpoints), elsewhere with bulk_create.
Should a batch collide with a concurrent writer (an external id imported meanwhile), it is
imported again row by row through `order_upsert`.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import JSONField
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from core.choices import Channel, TouchpointKind
from core.errors import DomainError
from core.models import Customer, Location, Product, Touchpoint
from orders.choices import FulfilmentMethod, OrderSource, ServiceLevel
from orders.models import Charge, Order, OrderLine, order_number
from orders.services import orders as order_services

BATCH = 2000
ORDER_KEYS = {
    "source",
    "external_id",
    "customer",
    "channel",
    "location",
    "currency",
    "placed_at",
    "fulfilment",
    "service_level",
    "promised_date",
    "lines",
    "payments",
}
LINE_KEYS = {"product", "quantity", "unit_price", "discount", "tax", "promised_date"}
PAYMENT_KEYS = {"kind", "amount", "reference"}


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    skipped: int = 0  # already imported earlier
    errors: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "read": self.read,
            "created": self.created,
            "skipped": self.skipped,
            "errors": [{"line": n, "reason": r} for n, r in self.errors],
        }


class BadRow(Exception):
    pass


@dataclass
class _Row:
    line_number: int
    fields: dict
    customer: str
    lines: list[dict]
    payments: list[dict]


def _decimal(value, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise BadRow(f"{name} is not a number: {value!r}") from exc
    if not number.is_finite() or number < 0 or number >= Decimal("1e10"):
        raise BadRow(f"{name} must be between 0 and 10,000,000,000: {value!r}")
    return number


def _date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    parsed = parse_date(value) if isinstance(value, str) else None
    if parsed is None:
        raise BadRow(f"{name} is not a date (YYYY-MM-DD): {value!r}")
    return parsed


def _text(data: dict, name: str, *, max_length: int, required: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or "\x00" in value or len(value) > max_length:
        raise BadRow(f"{name} must be text of at most {max_length} characters")
    if required and not value:
        raise BadRow(f"{name} is required")
    return value


_CHOICES = {choices: frozenset(choices.values) for choices in (Channel, FulfilmentMethod, OrderSource, ServiceLevel)}


def _choice(data: dict, name: str, choices, default=None) -> str:
    value = data.get(name, default)
    if value not in _CHOICES[choices]:
        raise BadRow(f"{name} must be one of {', '.join(choices.values)}: {value!r}")
    return value


def _parse(line_number: int, text: str) -> _Row:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadRow(f"not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise BadRow("each line must be one JSON object (an order)")
    unknown = set(data) - ORDER_KEYS
    if unknown:
        raise BadRow(f"unknown fields: {', '.join(sorted(unknown))}")
    placed_at = data.get("placed_at")
    if placed_at is not None:
        placed_at = parse_datetime(placed_at) if isinstance(placed_at, str) else None
        if placed_at is None or placed_at.tzinfo is None:
            raise BadRow("placed_at must be an ISO 8601 date-time with an offset")
    currency = data.get("currency", "EUR")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise BadRow(f"currency must be an ISO 4217 code: {currency!r}")
    fields = {
        "source": _choice(data, "source", OrderSource),
        "external_id": _text(data, "external_id", max_length=64),
        "channel": _choice(data, "channel", Channel),
        "currency": currency,
        "placed_at": placed_at or timezone.now(),
        "fulfilment": _choice(data, "fulfilment", FulfilmentMethod, FulfilmentMethod.CARRY_OUT),
        "service_level": _choice(data, "service_level", ServiceLevel, ServiceLevel.STANDARD),
        "promised_date": _date(data.get("promised_date"), "promised_date"),
        "location": _text(data, "location", max_length=12, required=False),
    }
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines or len(lines) > 500:
        raise BadRow("lines must be a list of 1 to 500 lines")
    parsed_lines = []
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, dict) or set(line) - LINE_KEYS:
            raise BadRow(f"line {number} must be an object with {', '.join(sorted(LINE_KEYS))}")
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 10_000:
            raise BadRow(f"line {number}: quantity must be a whole number from 1 to 10,000")
        parsed_lines.append(
            {
                "product": _text(line, "product", max_length=64),
                "quantity": quantity,
                "unit_price": _decimal(line.get("unit_price"), f"line {number}: unit_price"),
                "discount": _decimal(line.get("discount", 0), f"line {number}: discount"),
                "tax": _decimal(line.get("tax", 0), f"line {number}: tax"),
                "promised_date": _date(line.get("promised_date"), f"line {number}: promised_date"),
            }
        )
    payments = data.get("payments", [])
    if not isinstance(payments, list) or len(payments) > 20:
        raise BadRow("payments must be a list of at most 20 payments")
    parsed_payments = []
    for number, payment in enumerate(payments, start=1):
        if not isinstance(payment, dict) or set(payment) - PAYMENT_KEYS:
            raise BadRow(f"payment {number} must be an object with {', '.join(sorted(PAYMENT_KEYS))}")
        parsed_payments.append(
            {
                "kind": payment.get("kind"),
                "amount": _decimal(payment.get("amount"), f"payment {number}: amount"),
                "reference": _text(payment, "reference", max_length=64, required=False),
            }
        )
    customer = _text(data, "customer", max_length=12)
    return _Row(line_number, fields, customer, parsed_lines, parsed_payments)


def _rows(stream: Iterable[str], report: ImportReport) -> Iterator[_Row]:
    for line_number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        report.read += 1
        try:
            yield _parse(line_number, text)
        except BadRow as exc:
            report.errors.append((line_number, str(exc)))


def _batches(rows: Iterator[_Row], size: int) -> Iterator[list[_Row]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Lookups:
    """Customers, products and locations by the references the file uses, loaded per batch (products
    and locations are kept across batches: a catalogue is small next to a year of orders)."""

    def __init__(self):
        self.products: dict[str, Product] = {}
        self.locations: dict[str, Location | None] = {}

    def load(self, batch: list[_Row]) -> dict[str, int]:
        skus = {line["product"] for row in batch for line in row.lines} - self.products.keys()
        self.products |= {p.sku: p for p in Product.objects.filter(sku__in=skus)}
        codes = {row.fields["location"] for row in batch if row.fields["location"]} - self.locations.keys()
        self.locations |= {loc.code: loc for loc in Location.objects.filter(code__in=codes)}
        numbers = {row.customer for row in batch}
        return dict(Customer.objects.filter(number__in=numbers).values_list("number", "id"))


def _resolve(row: _Row, customers: dict, lookups: _Lookups) -> tuple[int, dict, list[dict]]:
    customer = customers.get(row.customer)
    if customer is None:
        raise BadRow(f"no customer with number {row.customer}")
    fields = dict(row.fields)
    code = fields.pop("location")
    if code:
        fields["location"] = lookups.locations.get(code)
        if fields["location"] is None:
            raise BadRow(f"no location with code {code}")
    lines = []
    for number, line in enumerate(row.lines, start=1):
        product = lookups.products.get(line["product"])
        if product is None:
            raise BadRow(f"line {number}: no product with SKU {line['product']}")
        lines.append(line | {"product": product})
    return customer, fields, lines


def orders_import(*, stream: Iterable[str], actor=None, batch_size: int = BATCH) -> ImportReport:
    """Import the orders in `stream` (lines of JSON); returns what happened, row by row for errors."""
    report = ImportReport()
    lookups = _Lookups()
    for batch in _batches(_rows(stream, report), batch_size):
        _import_batch(batch, lookups, report, actor)
    report.errors.sort()
    return report


def _import_batch(batch: list[_Row], lookups: _Lookups, report: ImportReport, actor) -> None:
    customers = lookups.load(batch)
    existing = _imported_before({(row.fields["source"], row.fields["external_id"]) for row in batch})
    seen: set[tuple[str, str]] = set()
    plans = []
    for row in batch:
        key = (row.fields["source"], row.fields["external_id"])
        if key in existing:
            report.skipped += 1
            continue
        if key in seen:
            report.errors.append((row.line_number, f"external id {key[1]} appears twice in the file"))
            continue
        try:
            customer, fields, lines = _resolve(row, customers, lookups)
            total = order_services.check_lines(lines, fields["currency"])
            payments = order_services.check_payments(row.payments, total, fields["currency"])
        except (BadRow, DomainError) as exc:
            report.errors.append((row.line_number, getattr(exc, "detail", str(exc))))
            continue
        seen.add(key)
        plans.append((row, customer, fields, lines, payments, total))
    try:
        with transaction.atomic():
            _write(plans, actor)
        report.created += len(plans)
    except IntegrityError:
        # Someone imported some of these meanwhile: one by one, through the upsert, is always right.
        for row, customer, fields, lines, payments, _total in plans:
            try:
                result = order_services.order_upsert(
                    actor=actor,
                    customer=Customer.objects.get(pk=customer),
                    lines=lines,
                    payments=payments,
                    **fields,
                )
            except DomainError as exc:
                report.errors.append((row.line_number, exc.detail))
                continue
            report.created += result.created
            report.skipped += not result.created


# One probe of the unique index (source, external_id) per pair: a LATERAL subquery with LIMIT is
# never flattened, so the plan stays a nested loop of index probes whatever the statistics say.
# (Planned freely, the look-up scanned every order of the source and filtered them: right after a
# big import the statistics still count the source's orders as few, and each batch of a file cost
# more than the one before.) `external_id <> ''` is the partial index's predicate.
_IMPORTED_BEFORE_SQL = """
    SELECT k.source, k.external_id
    FROM unnest(%s::text[], %s::text[]) AS k(source, external_id)
    CROSS JOIN LATERAL (
        SELECT 1 FROM orders_order o
        WHERE o.source = k.source AND o.external_id = k.external_id AND NOT (o.external_id = '')
        LIMIT 1
    ) AS hit"""


def _imported_before(keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (source, external id) pairs name orders imported or pushed before."""
    keys = {key for key in keys if key[1]}
    if not keys:
        return set()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_IMPORTED_BEFORE_SQL, [[source for source, _ in keys], [external for _, external in keys]])
            return {(source, external) for source, external in cursor.fetchall()}
    return set(
        Order.objects.filter(source__in={source for source, _ in keys}, external_id__in={e for _, e in keys})
        .exclude(external_id="")
        .values_list("source", "external_id")
    )


class _Table:
    """A model's columns for bulk writes, with its Python-side defaults worked out once (COPY
    fills omitted columns from database defaults, and Django keeps its defaults in Python)."""

    def __init__(self, model, *, with_id: bool = False):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        self.names = [f.attname for f in self.fields]
        self.defaults = {f.attname: f.get_default() for f in self.fields if not f.primary_key}
        self.json = {f.attname for f in self.fields if isinstance(f, JSONField)}

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        if connection.vendor != "postgresql":
            self.model.objects.bulk_create([self.model(**(self.defaults | row)) for row in rows], batch_size=500)
            return
        from psycopg.types.json import Jsonb

        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        defaults, names, json_names = self.defaults, self.names, self.json
        statement = f"COPY {quote(self.model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                full = defaults | row
                values = [full[name] for name in names]
                if json_names:
                    values = [Jsonb(v) if n in json_names else v for n, v in zip(names, values, strict=True)]
                copy.write_row(values)


_TABLES: dict[str, _Table] = {}


def _table(name: str) -> _Table:
    if name not in _TABLES:
        models = {
            "order": (Order, True),
            "history": (Order.history.model, False),
            "line": (OrderLine, False),
            "charge": (Charge, False),
            "touchpoint": (Touchpoint, False),
        }
        model, with_id = models[name]
        _TABLES[name] = _Table(model, with_id=with_id)
    return _TABLES[name]


def _write(plans: list[tuple], actor) -> None:
    if not plans:
        return
    now = timezone.now()
    actor_id = getattr(actor, "pk", None)
    orders = []
    for _row, customer, fields, _lines, _payments, total in plans:
        values = {key: value for key, value in fields.items() if key != "location"}
        location = fields.get("location")
        values |= {
            "number": order_number(),
            "customer_id": customer,
            "location_id": location.pk if location else None,
            "total": total,
            "updated_at": now,
        }
        orders.append(values)
    ids = _order_ids(orders)
    order_type_id = ContentType.objects.get_for_model(Order).pk
    history, lines, charges, touchpoints = [], [], [], []
    for order, order_id, (_row, _customer, _fields, row_lines, payments, total) in zip(orders, ids, plans, strict=True):
        order["id"] = order_id
        history.append(
            {key: value for key, value in order.items() if key != "updated_at"}
            | {
                "history_date": now,
                "history_type": "+",
                "history_change_reason": "imported",
                "history_user_id": actor_id,
            }
        )
        lines += [
            {key: value for key, value in line.items() if key != "product"}
            | {"order_id": order_id, "product_id": line["product"].pk}
            for line in row_lines
        ]
        opening = order_services.opening_charges(
            currency=order["currency"], placed_at=order["placed_at"], payments=payments, actor_id=actor_id, now=now
        )
        charges += [charge | {"order_id": order_id} for charge in opening]
        summary = order_services.purchase_summary(
            number=order["number"], total=total, currency=order["currency"], items=sum(x["quantity"] for x in row_lines)
        )
        touchpoints.append(
            {
                "customer_id": order["customer_id"],
                "kind": TouchpointKind.PURCHASE,
                "channel": order["channel"],
                "summary": summary,
                "location_id": order["location_id"],
                "product_id": row_lines[0]["product"].pk if len(row_lines) == 1 else None,
                "order_number": order["number"],
                "subject_type_id": order_type_id,
                "subject_id": order_id,
                "occurred_at": order["placed_at"],
            }
        )
    if connection.vendor == "postgresql":
        _table("order").write(orders)
    _table("history").write(history)
    _table("line").write(lines)
    _table("charge").write(charges)
    _table("touchpoint").write(touchpoints)


def _order_ids(orders: list[dict]) -> list[int]:
    """Ids for the batch's orders: from the sequence on PostgreSQL (then one COPY writes them), by
    creating the rows elsewhere."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('orders_order', 'id')) FROM generate_series(1, %s)",
                [len(orders)],
            )
            return [pk for (pk,) in cursor.fetchall()]
    table = _table("order")
    created = Order.objects.bulk_create([Order(**(table.defaults | values)) for values in orders])
    return [order.pk for order in created]


def import_file(path, *, actor=None) -> ImportReport:
    with open(path, encoding="utf-8") as handle:
        return orders_import(stream=handle, actor=actor)
