"""Returns at scale on PostgreSQL: the managers' analytics for a quarter and the approval queue in
the admin, with 1,000,000 orders and 200,000 returns.

    .venv/bin/python bench/timeline_bench.py --load-only      # once: customers and products
    .venv/bin/python bench/order_bench.py --load-only         # once: 1,000,000 orders
    .venv/bin/python bench/returns_bench.py [--returns 200000] [--rounds 5] [--reload]

Steps: migrate the bench database (the order bench's); bulk-load returns of delivered orders with
their lines and inspected items with COPY (reused unless --reload or the size or seed changed);
then, in process through Django's test client and every middleware, time
`GET /api/v1/returns/analytics/` for each of the last four quarters (and one of them for a single
store) and `GET /admin/returns/returnrequest/?queue=awaiting` (the approval queue) and its next
pages, as a signed-in manager; count their queries and EXPLAIN ANALYZE the analytics queries. Prints
JSON (also bench/results/returns-<date>.json); progress goes to stderr. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import statistics
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.timeline_bench import (  # noqa: E402 -- ROOT must be importable first
    DEFAULT_CACHE_URL,
    DEFAULT_DATABASE_URL,
    RESULTS_DIR,
    django_env,
    drop_secondary,
    ensure_database,
    log,
    machine,
    migrate,
)

DATASET_TABLE = "bench_returns_dataset"
TARGET_ANALYTICS_MS = 1000.0
TARGET_QUEUE_MS = 300.0
TABLES = [  # emptied before loading; vouchers reference returns (none are loaded)
    "returns_vouchertransaction",
    "returns_voucher",
    "returns_historicalvoucher",
    "returns_inspecteditem",
    "returns_returnline",
    "returns_returnrequest",
    "returns_historicalreturnrequest",
]
COLUMNS = {
    "returns.ReturnRequest": "id, number, order_id, customer_id, channel, status, method, drop_off_location_id, "
    "drop_off_code, resolution, currency, value, flags, requested_by_id, created_at, decided_at, decided_by_id, "
    "decision_reason, received_at, received_by_id, received_location_id, inspected_at, resolved_at, "
    "resolved_by_id, refunded_amount, exchange_order_id, updated_at",
    "returns.ReturnLine": "id, return_request_id, order_line_id, product_id, quantity, reason, reason_detail, value, "
    "quantity_received, exchange_product_id",
    "returns.InspectedItem": "id, return_line_id, quantity, grade, disposition, recovered_value, location_id, "
    "inspected_by_id, inspected_at",
}
STATUSES = [("requested", 8), ("approved", 7), ("rejected", 4), ("cancelled", 3), ("received", 3), ("inspected", 3)]
STATUSES += [("resolved", 72)]
REASONS = [
    ("doesnt_fit", 28),
    ("changed_mind", 22),
    ("damaged", 10),
    ("defective", 9),
    ("not_as_described", 12),
    ("wrong_item", 5),
    ("arrived_late", 4),
    ("other", 10),
]
DISPOSITIONS = [
    ("restock", 45, "new", 0.95),
    ("open_box", 20, "like_new", 0.7),
    ("refurbish", 10, "damaged", 0.4),
    ("return_to_vendor", 8, "unusable", 0.5),
    ("donate", 6, "good", 0.0),
    ("recycle", 7, "unusable", 0.05),
    ("landfill", 4, "unusable", 0.0),
]
METHODS = [("store_drop_off", 40), ("pudo_drop_off", 30), ("kiosk_drop_off", 5), ("carrier_label", 20)]
METHODS += [("carrier_collection", 5)]
RESOLUTIONS = [("refund", 70), ("store_credit", 25), ("exchange", 5)]
CHANNELS = [("app", 40), ("web", 30), ("store", 25), ("phone", 5)]
CENT = Decimal("0.01")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    p.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL))
    p.add_argument("--returns", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--rounds", type=int, default=5, help="timed requests per variant (after one warm-up)")
    p.add_argument("--reload", action="store_true")
    p.add_argument("--load-only", action="store_true")
    return p.parse_args(argv)


def pick(rng: random.Random, weighted):
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def readable(rng: random.Random) -> str:
    return "RMA" + "".join(rng.choice("23456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(8))


def check_columns() -> None:
    from django.apps import apps

    for label, columns in COLUMNS.items():
        fields = {f.column: f for f in apps.get_model(label)._meta.concrete_fields}
        named = [c.strip() for c in columns.split(",")]
        unknown = sorted(set(named) - set(fields))
        missing = sorted(c for c, f in fields.items() if c not in named and not f.null and not f.has_db_default())
        if unknown or missing:
            sys.exit(f"{label}: the loader's columns are out of date (unknown {unknown}, missing {missing})")


def loaded(cur, args) -> dict | None:
    exists = cur.execute("SELECT to_regclass(%s)", [DATASET_TABLE]).fetchone()[0]
    if not exists:
        return None
    row = cur.execute(f"SELECT returns, seed, stats FROM {DATASET_TABLE}").fetchone()
    if row and row[0] == args.returns and row[1] == args.seed:
        return row[2]
    return None


def load(args) -> dict:
    """COPY `args.returns` returns of delivered orders (1–3 lines each) in one transaction."""
    rng = random.Random(args.seed)
    started = time.perf_counter()
    with psycopg.connect(args.database_url) as conn, conn.cursor() as cur:
        orders = cur.execute("SELECT count(*) FROM orders_order WHERE status = 'delivered'").fetchone()[0]
        if orders < args.returns:
            sys.exit(
                f"{orders:,} delivered orders, fewer than {args.returns:,} returns: run bench/order_bench.py first"
            )
        staff = [i for (i,) in cur.execute("SELECT user_id FROM core_associateprofile ORDER BY id").fetchall()]
        staff = staff or [i for (i,) in cur.execute("SELECT id FROM core_user ORDER BY id LIMIT 60").fetchall()]
        places = cur.execute(
            "SELECT id, kind FROM core_location WHERE kind IN ('store', 'returns_centre', 'pudo', 'kiosk', 'locker')"
        ).fetchall()
        stores = [i for i, kind in places if kind in ("store", "returns_centre")] or [i for i, _ in places]
        drop_offs = {kind: [i for i, k in places if k == kind] for kind in ("store", "pudo", "kiosk")}
        log(f"sampling {args.returns:,} delivered orders")
        sample = cur.execute(
            "SELECT id, customer_id, placed_at FROM orders_order WHERE status = 'delivered' "
            "ORDER BY md5(id::text || %s::text) LIMIT %s",
            [args.seed, args.returns],
        ).fetchall()
        lines = {}
        for line_id, order_id, product_id, quantity, price, discount, tax in cur.execute(
            "SELECT id, order_id, product_id, quantity, unit_price, discount, tax FROM orders_orderline "
            "WHERE order_id = ANY(%s) ORDER BY id",
            [[o[0] for o in sample]],
        ):
            lines.setdefault(order_id, []).append((line_id, product_id, quantity, price * quantity - discount + tax))
        cur.execute(f"TRUNCATE {', '.join(TABLES)}")
        rebuild = []
        for table in ("returns_returnrequest", "returns_returnline", "returns_inspecteditem"):
            rebuild.append(drop_secondary(cur, table))
        now = dt.datetime.now(dt.UTC)
        requests, return_lines, items = [], [], []
        line_pk = item_pk = 0
        for pk, (order_id, customer_id, placed_at) in enumerate(sample, start=1):
            created = min(placed_at + dt.timedelta(days=rng.uniform(3, 28)), now - dt.timedelta(hours=1))
            status = pick(rng, STATUSES)
            method = pick(rng, METHODS)
            drop = {"store_drop_off": "store", "pudo_drop_off": "pudo", "kiosk_drop_off": "kiosk"}.get(method)
            drop_id = rng.choice(drop_offs[drop]) if drop and drop_offs.get(drop) else None
            decided = created + dt.timedelta(hours=rng.uniform(0, 30)) if status != "requested" else None
            received = (
                decided + dt.timedelta(days=rng.uniform(1, 6))
                if status in ("received", "inspected", "resolved")
                else None
            )
            inspected = received + dt.timedelta(days=rng.uniform(0, 3)) if status in ("inspected", "resolved") else None
            resolved = inspected + dt.timedelta(hours=rng.uniform(1, 48)) if status == "resolved" else None
            chosen = rng.sample(lines[order_id], k=min(len(lines[order_id]), rng.choice((1, 1, 1, 2, 2, 3))))
            value = Decimal("0")
            refunded = Decimal("0")
            location = rng.choice(stores) if received else None
            for line_id, product_id, quantity, amount in chosen:
                line_pk += 1
                units = rng.randint(1, quantity)
                line_value = (amount * units / quantity).quantize(CENT, ROUND_HALF_UP)
                got = units if not received or rng.random() > 0.03 else units - 1
                value += line_value
                refunded += (amount * got / quantity).quantize(CENT, ROUND_HALF_UP)
                return_lines.append(
                    (
                        line_pk,
                        pk,
                        line_id,
                        product_id,
                        units,
                        pick(rng, REASONS),
                        "",
                        line_value,
                        got if received else None,
                        None,
                    )
                )
                if inspected and got:
                    item_pk += 1
                    disposition, _, grade, share = rng.choices(DISPOSITIONS, [d[1] for d in DISPOSITIONS])[0]
                    recovered = (amount * got / quantity * Decimal(str(share))).quantize(CENT, ROUND_HALF_UP)
                    items.append((item_pk, line_pk, got, grade, disposition, recovered, location, None, inspected))
            flags = ["above_auto_approval_limit"] if value > 100 and status == "requested" else []
            if status == "requested" and not flags:
                flags = ["high_return_rate"]
            requests.append(
                (
                    pk,
                    readable(rng),
                    order_id,
                    customer_id,
                    pick(rng, CHANNELS),
                    status,
                    method,
                    drop_id,
                    secrets.token_hex(8) if method in ("pudo_drop_off", "kiosk_drop_off") else None,
                    pick(rng, RESOLUTIONS),
                    "EUR",
                    value,
                    json.dumps(flags),
                    None,
                    created,
                    decided,
                    rng.choice(staff) if decided and (flags or value > 100) else None,
                    "",
                    received,
                    rng.choice(staff) if received else None,
                    location,
                    inspected,
                    resolved,
                    rng.choice(staff) if resolved else None,
                    refunded if resolved else None,
                    None,
                    resolved or inspected or received or decided or created,
                )
            )
        copied = {}
        for table, label, rows in (
            ("returns_returnrequest", "returns.ReturnRequest", requests),
            ("returns_returnline", "returns.ReturnLine", return_lines),
            ("returns_inspecteditem", "returns.InspectedItem", items),
        ):
            t = time.perf_counter()
            with cur.copy(f"COPY {table} ({COLUMNS[label]}) FROM STDIN WITH (FREEZE)") as copy:
                for chunk in range(0, len(rows), 50_000):
                    copy.write("".join("\t".join(text(v) for v in row) + "\n" for row in rows[chunk : chunk + 50_000]))
            copied[table] = {"rows": len(rows), "seconds": round(time.perf_counter() - t, 2)}
            log(f"  COPY {table}: {len(rows):,} rows in {copied[table]['seconds']} s")
        for table in ("returns_returnrequest", "returns_returnline", "returns_inspecteditem"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        t = time.perf_counter()
        for indexes, fks in rebuild:
            for ddl in [*indexes, *fks]:
                cur.execute(ddl)
        rebuilt = round(time.perf_counter() - t, 2)
        stats = {
            "returns": len(requests),
            "return_lines": len(return_lines),
            "inspected_items": len(items),
            "tables": copied,
            "rebuild_seconds": rebuilt,
            "seconds": round(time.perf_counter() - started, 2),
        }
        cur.execute(f"DROP TABLE IF EXISTS {DATASET_TABLE}")
        cur.execute(f"CREATE TABLE {DATASET_TABLE} (returns int, seed bigint, stats jsonb)")
        cur.execute(f"INSERT INTO {DATASET_TABLE} VALUES (%s, %s, %s)", [args.returns, args.seed, json.dumps(stats)])
        conn.commit()
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        for table in ("returns_returnrequest", "returns_returnline", "returns_inspecteditem"):
            conn.execute(f"ANALYZE {table}")
    stats["seconds_with_analyze"] = round(time.perf_counter() - started, 2)
    log(f"loaded {len(requests):,} returns in {stats['seconds_with_analyze']} s")
    return stats


def timed(client, url: str, rounds: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = client.get(url)  # warm-up: permissions, plans, caches
    assert first.status_code == 200, (url, first.status_code, first.content[:300])
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    samples.sort()
    return {
        "url": url,
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, round(0.95 * len(samples)) - 1)], 1),
        "max_ms": round(samples[-1], 1),
        "queries": len(ctx),
        "sql_ms": round(sum(float(q["time"]) for q in ctx.captured_queries) * 1000, 1),
    }


def quarters(latest: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """The last `count` whole calendar quarters before `latest`."""
    start = dt.date(latest.year, 3 * ((latest.month - 1) // 3) + 1, 1)
    found = []
    for _ in range(count):
        end = start
        month = start.month - 3
        start = dt.date(start.year + (month <= 0) * -1, (month - 1) % 12 + 1, 1)
        found.append((start, end))
    return found


def measure(args) -> dict:
    from django.contrib.auth.models import Group
    from django.test import Client

    from core.models import Location, User
    from returns.models import ReturnRequest

    manager, _ = User.objects.get_or_create(
        username="bench-returns-manager", defaults={"email": "bench-returns-manager@bench.example", "is_staff": True}
    )
    manager.groups.add(Group.objects.get(name="manager"))
    client = Client()
    client.force_login(manager)
    latest = ReturnRequest.objects.order_by("-created_at").values_list("created_at", flat=True).first().date()
    store = Location.objects.filter(kind="store").order_by("id").first()
    analytics = []
    for since, until in quarters(latest, 4):
        analytics.append(timed(client, f"/api/v1/returns/analytics/?since={since}&until={until}", args.rounds))
        log(f"  analytics {since}..{until}: p50 {analytics[-1]['p50_ms']} ms, p95 {analytics[-1]['p95_ms']} ms")
    since, until = quarters(latest, 1)[0]
    by_store = timed(client, f"/api/v1/returns/analytics/?since={since}&until={until}&location={store.pk}", args.rounds)
    log(f"  analytics for {store.code}: p95 {by_store['p95_ms']} ms")
    queue = [
        timed(client, "/admin/returns/returnrequest/?queue=awaiting", args.rounds * 4),
        timed(client, "/admin/returns/returnrequest/?queue=awaiting&p=5", args.rounds * 4),
        timed(client, "/admin/returns/returnrequest/", args.rounds * 4),
    ]
    for row in queue:
        log(f"  {row['url']}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, {row['queries']} queries")
    plans = explain_analytics(since, until)
    worst = max(row["p95_ms"] for row in [*analytics, by_store])
    return {
        "analytics_quarters": analytics,
        "analytics_one_store": by_store,
        "approval_queue": queue,
        "explain": plans,
        "targets": {
            "analytics_quarter_under_1s": {"worst_p95_ms": worst, "met": worst < TARGET_ANALYTICS_MS},
            "approval_queue_under_300ms": {
                "p95_ms": queue[0]["p95_ms"],
                "met": queue[0]["p95_ms"] < TARGET_QUEUE_MS,
            },
        },
    }


def explain_analytics(since: dt.date, until: dt.date) -> list[dict]:
    """EXPLAIN ANALYZE of each query the analytics run, for the quarter given."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.timeline_bench import explain
    from returns.selectors import returns_analytics

    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(until, dt.time.min, tzinfo=dt.UTC)
    with CaptureQueriesContext(connection) as ctx:
        returns_analytics(since=start, until=end)
    plans = []
    for query in ctx.captured_queries:
        plan = explain(query["sql"])
        plans.append({"execution_ms": plan["execution_ms"], "sql": plan["sql"][:300], "plan": plan["plan"][:12]})
    return plans


def main(argv=None) -> int:
    args = parse_args(argv)
    ensure_database(args.database_url)
    env = django_env(args, secrets.token_urlsafe(50))
    log("migrating")
    migrate(env)
    for key in ("DATABASE_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"):
        os.environ[key] = env[key]
    os.environ.pop("AFTERCARE_PRODUCTION", None)
    import django

    django.setup()
    check_columns()
    with psycopg.connect(args.database_url) as conn, conn.cursor() as cur:
        stats = None if args.reload else loaded(cur, args)
    if stats is None:
        stats = load(args)
    else:
        log(f"reusing the loaded data set ({stats['returns']:,} returns)")
    result = {"machine": machine(), "dataset": stats}
    if not args.load_only:
        with psycopg.connect(args.database_url) as conn:
            result["orders"] = conn.execute("SELECT count(*) FROM orders_order").fetchone()[0]
        result.update(measure(args))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"returns-{dt.datetime.now(dt.UTC):%Y-%m-%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
