"""Bulk import of orders from a file (JSON Lines, one order per line), as POS and e-commerce
systems hand them over in batches.

Good rows are imported, bad rows are reported with their line number and the reason, and orders
already imported (same source and external id) are skipped, so a file can be imported again. The
rules are the API's: `orders.services.orders` checks lines and payments for both.

Speed: rows are checked in Python and written per batch, each in a transaction of its own: on
PostgreSQL with COPY (orders, their history rows, lines, opening ledger entries and purchase
touchpoints) from writer threads while the next batch is checked, elsewhere with bulk_create.
Should a batch collide with a concurrent writer (an external id imported meanwhile, an order
number drawn twice), it is imported again row by row through `order_upsert`.
"""

import json
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from core.choices import Channel, TouchpointKind
from core.errors import DomainError
from core.models import Customer, Location, Product, Touchpoint
from orders.choices import SELLING_SOURCES, FulfilmentMethod, OrderSource, ServiceLevel
from orders.models import Charge, Order, OrderLine, order_number
from orders.services import orders as order_services

BATCH = 2000
WRITERS = 2  # COPY threads on PostgreSQL: one backend per core keeps both busy
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


_ZERO = Decimal("0")
_LIMIT = Decimal("1e10")


def _decimal(value, name: str) -> Decimal:
    try:
        number = Decimal(value if type(value) is str else str(value))
    except (InvalidOperation, ValueError) as exc:
        raise BadRow(f"{name} is not a number: {value!r}") from exc
    if not number.is_finite() or number < 0 or number >= _LIMIT:
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


_CHOICES = {choices: tuple(choices.values) for choices in (Channel, FulfilmentMethod, ServiceLevel)}
_CHOICES[OrderSource] = tuple(source.value for source in SELLING_SOURCES)  # fee orders come from work orders


def _choice(data: dict, name: str, choices, default=None) -> str:
    value = data.get(name, default)
    if value not in _CHOICES[choices]:
        raise BadRow(f"{name} must be one of {', '.join(_CHOICES[choices])}: {value!r}")
    return value


def _parse(line_number: int, text: str) -> _Row:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadRow(f"not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise BadRow("each line must be one JSON object (an order)")
    if not ORDER_KEYS.issuperset(data):
        unknown = set(data) - ORDER_KEYS
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
        "promised_date": _date(data["promised_date"], "promised_date") if "promised_date" in data else None,
        "location": _text(data, "location", max_length=12, required=False),
    }
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines or len(lines) > 500:
        raise BadRow("lines must be a list of 1 to 500 lines")
    parsed_lines = []
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, dict) or not LINE_KEYS.issuperset(line):
            raise BadRow(f"line {number} must be an object with {', '.join(sorted(LINE_KEYS))}")
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 10_000:
            raise BadRow(f"line {number}: quantity must be a whole number from 1 to 10,000")
        product = _text(line, "product", max_length=64)
        try:  # the line's number goes into the message only when there is one
            parsed_lines.append(
                {
                    "product": product,
                    "quantity": quantity,
                    "unit_price": _decimal(line.get("unit_price"), "unit_price"),
                    "discount": _decimal(line["discount"], "discount") if "discount" in line else _ZERO,
                    "tax": _decimal(line["tax"], "tax") if "tax" in line else _ZERO,
                    "promised_date": _date(line["promised_date"], "promised_date") if "promised_date" in line else None,
                }
            )
        except BadRow as exc:
            raise BadRow(f"line {number}: {exc}") from exc
    payments = data.get("payments", [])
    if not isinstance(payments, list) or len(payments) > 20:
        raise BadRow("payments must be a list of at most 20 payments")
    parsed_payments = []
    for number, payment in enumerate(payments, start=1):
        if not isinstance(payment, dict) or not PAYMENT_KEYS.issuperset(payment):
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
        numbers = list({row.customer for row in batch})
        if connection.vendor == "postgresql":  # one array parameter, not a placeholder per number
            with connection.cursor() as cursor:
                cursor.execute("SELECT number, id FROM core_customer WHERE number = ANY(%s::text[])", [numbers])
                return dict(cursor.fetchall())
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
    writer = _writer(actor)
    try:
        for batch in _batches(_rows(stream, report), batch_size):
            _import_batch(batch, lookups, report, writer)
    finally:
        writer.close(report)
    report.errors.sort()
    return report


def _import_batch(batch: list[_Row], lookups: _Lookups, report: ImportReport, writer) -> None:
    keys = {(row.fields["source"], row.fields["external_id"]) for row in batch}
    if writer.pending(keys):
        writer.finish(report)  # an earlier batch holds some of these: its outcome decides
    customers = lookups.load(batch)
    existing = _imported_before(keys)
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
    if plans:
        writer.submit(plans, seen, report)


def _import_one_by_one(plans: list[tuple], report: ImportReport, actor) -> None:
    """After a batch collided with a concurrent writer (an external id imported meanwhile): one by
    one, through the upsert, is always right."""
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


class _Writer:
    """Writes each batch in a transaction of its own, where it is planned (SQLite, or inside a
    caller's transaction, whose data only its connection sees)."""

    def __init__(self, actor):
        self.actor = actor

    def pending(self, keys: set) -> bool:
        return False

    def submit(self, plans: list[tuple], keys: set, report: ImportReport) -> None:
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    _copy(_copy_texts(plans, self.actor))
                else:
                    _write_rows(plans, self.actor)
            report.created += len(plans)
        except IntegrityError:
            _import_one_by_one(plans, report, self.actor)

    def finish(self, report: ImportReport) -> None:
        pass

    def close(self, report: ImportReport) -> None:
        pass


class _CopyWriter(_Writer):
    """PostgreSQL: the batch's COPY text is built here, and threads with connections of their own
    send batches and commit them while this thread parses and checks the next, so Python and
    PostgreSQL work at the same time (psycopg releases the GIL while it waits on the socket).
    A batch whose external ids an unfinished one holds waits for it (`pending`), so a file's
    repeated rows are skipped as before."""

    def __init__(self, actor, threads: int = WRITERS):
        super().__init__(actor)
        self.queue: queue.Queue = queue.Queue(maxsize=threads)
        self.results: queue.Queue = queue.Queue()
        self.in_flight: dict[int, set] = {}
        self.submitted = 0
        self.error: BaseException | None = None
        self.threads = [
            threading.Thread(target=self._run, name=f"orders-import-copy-{n}", daemon=True) for n in range(threads)
        ]
        for thread in self.threads:
            thread.start()

    def pending(self, keys: set) -> bool:
        return any(not keys.isdisjoint(batch_keys) for batch_keys in self.in_flight.values())

    def submit(self, plans: list[tuple], keys: set, report: ImportReport) -> None:
        texts = _copy_texts(plans, self.actor)
        self._collect(report, block=False)
        self.submitted += 1
        self.in_flight[self.submitted] = keys
        self.queue.put((self.submitted, plans, texts))

    def finish(self, report: ImportReport) -> None:
        self._collect(report, block=True)

    def close(self, report: ImportReport) -> None:
        try:
            if self.error is None:
                self.finish(report)
        finally:
            for _thread in self.threads:
                self.queue.put(None)
            for thread in self.threads:
                thread.join()
        if self.error is not None:
            raise self.error

    def _collect(self, report: ImportReport, *, block: bool) -> None:
        while self.in_flight:
            try:
                number, plans, ok = self.results.get(timeout=0.5) if block else self.results.get_nowait()
            except queue.Empty:
                if self.error is not None:
                    raise self.error from None
                if not block:
                    return
                continue
            del self.in_flight[number]
            if ok:
                report.created += len(plans)
            else:
                _import_one_by_one(plans, report, self.actor)

    def _run(self) -> None:
        try:
            while (item := self.queue.get()) is not None:
                if self.error is not None:
                    continue  # drain until told to stop
                number, plans, texts = item
                try:
                    with transaction.atomic():
                        _copy(texts)
                    self.results.put((number, plans, True))
                except IntegrityError:
                    self.results.put((number, plans, False))
                except BaseException as exc:  # handed to the importing thread
                    self.error = exc
        finally:
            connection.close()


def _writer(actor) -> _Writer:
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return _CopyWriter(actor)
    return _Writer(actor)


# COPY's text format: a tab between columns, \\N for NULL, and backslash, tab, newline and carriage
# return escaped in text. Only the file's free text (external ids, payment references) can hold them.
_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, date):  # and datetime
        return value.isoformat()
    return str(value).translate(_ESCAPES)


class _CopyTable:
    """A table's COPY statement and text rows: the columns each row gives first (`varying`, in that
    order, already as COPY text), then the rest, the same for the whole batch: the batch's
    `constants` or else the field's default, worked out once (COPY fills omitted columns from
    database defaults, and Django keeps its defaults in Python)."""

    def __init__(self, model, varying: tuple[str, ...], constants: tuple[str, ...] = ()):
        fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key or f.attname in varying}
        missing = set(varying) - fields.keys()
        if missing:
            raise ValueError(f"{model.__name__} has no {', '.join(sorted(missing))}")
        self.rest = [name for name in fields if name not in varying]
        for name in self.rest:
            if name not in constants and fields[name].has_default() and callable(fields[name].default):
                raise ValueError(f"{model.__name__}.{name} needs a value per row or per batch")
        self.defaults = {name: fields[name].get_default() for name in self.rest}
        quote = connection.ops.quote_name
        columns = ", ".join(quote(fields[name].column) for name in (*varying, *self.rest))
        self.statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"

    def tail(self, constants: dict) -> str:
        """The text after a row's own columns: the batch's constants and the defaults, and the newline."""
        values = [constants[name] if name in constants else self.defaults[name] for name in self.rest]
        return "".join("\t" + _copy_value(value) for value in values) + "\n"


_ORDER_COLUMNS = (
    "id",
    "number",
    "customer_id",
    "channel",
    "source",
    "external_id",
    "currency",
    "total",
    "placed_at",
    "fulfilment",
    "service_level",
    "promised_date",
    "location_id",
)
_COPY_TABLES: dict[str, _CopyTable] = {}


def _copy_table(name: str) -> _CopyTable:
    if name not in _COPY_TABLES:
        _COPY_TABLES[name] = {
            "order": lambda: _CopyTable(Order, _ORDER_COLUMNS, ("updated_at",)),
            "history": lambda: _CopyTable(
                Order.history.model,
                _ORDER_COLUMNS,
                ("history_date", "history_type", "history_change_reason", "history_user_id"),
            ),
            "line": lambda: _CopyTable(
                OrderLine, ("order_id", "product_id", "quantity", "unit_price", "discount", "tax", "promised_date")
            ),
            "charge": lambda: _CopyTable(
                Charge,
                ("order_id", "kind", "status", "amount", "currency", "reference", "created_at", "settled_at"),
                ("actor_id",),
            ),
            "touchpoint": lambda: _CopyTable(
                Touchpoint,
                (
                    "customer_id",
                    "channel",
                    "summary",
                    "location_id",
                    "product_id",
                    "order_number",
                    "subject_id",
                    "occurred_at",
                ),
                ("kind", "subject_type_id"),
            ),
        }[name]()
    return _COPY_TABLES[name]


def _copy_texts(plans: list[tuple], actor) -> list[tuple[str, str]]:
    """The batch as COPY text, table by table: (statement, rows). Built as strings directly; what
    is the same for every row of a table is formatted once per batch."""
    now = timezone.now()
    actor_id = getattr(actor, "pk", None)
    now_text = now.isoformat()
    order_tail = _copy_table("order").tail({"updated_at": now})
    history_tail = _copy_table("history").tail(
        {"history_date": now, "history_type": "+", "history_change_reason": "imported", "history_user_id": actor_id}
    )
    line_tail = _copy_table("line").tail({})
    charge_tail = _copy_table("charge").tail({"actor_id": actor_id})
    touchpoint_tail = _copy_table("touchpoint").tail(
        {"kind": TouchpointKind.PURCHASE, "subject_type_id": ContentType.objects.get_for_model(Order).pk}
    )
    orders, history, lines, charges, touchpoints = [], [], [], [], []
    for (_row, customer, fields, row_lines, payments, total), order_id in zip(
        plans, _sequence_ids(len(plans)), strict=True
    ):
        number = order_number()
        oid = str(order_id)
        currency = fields["currency"]
        placed_at = fields["placed_at"]
        placed = placed_at.isoformat()
        promised = fields["promised_date"]
        location = fields.get("location")
        location_id = str(location.pk) if location else _NULL
        common = "\t".join(
            (
                oid,
                number,
                str(customer),
                fields["channel"],
                fields["source"],
                fields["external_id"].translate(_ESCAPES),
                currency,
                str(total),
                placed,
                fields["fulfilment"],
                fields["service_level"],
                promised.isoformat() if promised else _NULL,
                location_id,
            )
        )
        orders.append(common + order_tail)
        history.append(common + history_tail)
        items = 0
        for line in row_lines:
            items += line["quantity"]
            promised = line["promised_date"]
            lines.append(
                f"{oid}\t{line['product'].pk}\t{line['quantity']}\t{line['unit_price']}\t{line['discount']}"
                f"\t{line['tax']}\t{promised.isoformat() if promised else _NULL}{line_tail}"
            )
        for charge in order_services.opening_charges(
            currency=currency, placed_at=placed_at, payments=payments, actor_id=actor_id, now=now
        ):
            created = placed if charge["created_at"] is placed_at else _copy_value(charge["created_at"])
            settled = now_text if charge["settled_at"] is now else _copy_value(charge["settled_at"])
            charges.append(
                f"{oid}\t{charge['kind']}\t{charge['status']}\t{charge['amount']}\t{charge['currency']}"
                f"\t{charge['reference'].translate(_ESCAPES)}\t{created}\t{settled}{charge_tail}"
            )
        summary = order_services.purchase_summary(number=number, total=total, currency=currency, items=items)
        product_id = str(row_lines[0]["product"].pk) if len(row_lines) == 1 else _NULL
        touchpoints.append(
            f"{customer}\t{fields['channel']}\t{summary.translate(_ESCAPES)}\t{location_id}\t{product_id}"
            f"\t{number}\t{oid}\t{placed}{touchpoint_tail}"
        )
    return [
        (_copy_table(name).statement, "".join(rows))
        for name, rows in (
            ("order", orders),
            ("history", history),
            ("line", lines),
            ("charge", charges),
            ("touchpoint", touchpoints),
        )
        if rows
    ]


def _copy(texts: list[tuple[str, str]]) -> None:
    """COPY through psycopg's own cursor, its errors turned into Django's (a unique violation is an
    IntegrityError, which sends the batch down the row-by-row path)."""
    with connection.cursor() as cursor, connection.wrap_database_errors:
        for statement, text in texts:
            with cursor.cursor.copy(statement) as copy:
                copy.write(text)


class _Table:
    """A model's columns for bulk_create (where there is no COPY), with its Python-side defaults
    worked out once."""

    def __init__(self, model):
        self.model = model
        self.defaults = {f.attname: f.get_default() for f in model._meta.concrete_fields if not f.primary_key}

    def write(self, rows: list[dict]) -> list:
        return self.model.objects.bulk_create([self.model(**(self.defaults | row)) for row in rows], batch_size=500)


_TABLES: dict[str, _Table] = {}


def _table(name: str) -> _Table:
    if name not in _TABLES:
        models = {
            "order": Order,
            "history": Order.history.model,
            "line": OrderLine,
            "charge": Charge,
            "touchpoint": Touchpoint,
        }
        _TABLES[name] = _Table(models[name])
    return _TABLES[name]


def _write_rows(plans: list[tuple], actor) -> None:
    """The batch through the ORM's bulk_create, for databases other than PostgreSQL."""
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
    ids = [order.pk for order in _table("order").write(orders)]
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
    for name, rows in (("history", history), ("line", lines), ("charge", charges), ("touchpoint", touchpoints)):
        if rows:
            _table(name).write(rows)


def _sequence_ids(count: int) -> list[int]:
    """Ids for a batch's orders from the sequence, so that one COPY writes the orders with them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('orders_order', 'id')) FROM generate_series(1, %s)", [count]
        )
        return [pk for (pk,) in cursor.fetchall()]


def import_file(path, *, actor=None) -> ImportReport:
    with open(path, encoding="utf-8") as handle:
        return orders_import(stream=handle, actor=actor)
