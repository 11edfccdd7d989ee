"""The carriers' webhook under load on PostgreSQL: signed batches of tracking events, about one in
ten a duplicate, sent by concurrent connections to gunicorn.

    .venv/bin/python bench/webhook_bench.py [--shipments 2000] [--batch 200] [--concurrency 4]

Steps: create and migrate the bench database (default `aftercare_webhook_bench`, its own, so the
timeline bench's data stays as it is); bulk-create a carrier and N shipped orders with their
shipments for this run (tracking numbers and event ids carry a run id, so runs never collide);
build each parcel's story (info received, three scans in transit, out for delivery, one in ten a
failed attempt and a second round, delivered) interleaved across parcels in time order, with a
few events swapped out of order, cut into batches to which earlier events are added again as
duplicates (carriers retry); start gunicorn with bench.settings and a Redis broker (notifications
are queued as in production, and the queue is emptied afterwards); send every batch, signed at
send time, from Python threads; check the outcome in the database and print JSON (also written to
bench/results/webhook-<date>.json). Progress goes to stderr. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import http.client
import json
import math
import os
import queue
import random
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.timeline_bench import (  # noqa: E402 -- ROOT must be importable first
    DEFAULT_CACHE_URL,
    RESULTS_DIR,
    CpuMeter,
    database_name,
    django_env,
    ensure_database,
    free_port,
    log,
    machine,
    migrate,
    start_gunicorn,
    stop_gunicorn,
    wait_quiet,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/aftercare_webhook_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/13"
BROKER_QUEUE = "aftercare"  # CELERY_TASK_DEFAULT_QUEUE: the list the queued notifications land in
CARRIER_CODE = "webhook-bench"
TARGET_EVENTS_PER_S = 1000
T0 = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)


def parse_args(argv=None) -> argparse.Namespace:
    cpus = os.cpu_count() or 2
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--shipments", type=int, default=2000, help="parcels whose stories are sent")
    p.add_argument("--batch", type=int, default=200, help="events per webhook call (at most 500)")
    p.add_argument("--duplicates", type=float, default=0.10, help="share of sent events that were sent before")
    p.add_argument("--out-of-order", type=float, default=0.05, help="share of events swapped with their neighbour")
    p.add_argument("--concurrency", type=int, default=4, help="concurrent connections sending batches")
    p.add_argument("--database-url", default=os.environ.get("WEBHOOK_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    p.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL))
    p.add_argument("--broker-url", default=os.environ.get("WEBHOOK_BENCH_BROKER_URL", DEFAULT_BROKER_URL))
    p.add_argument("--workers", type=int, default=cpus + 1, help="gunicorn worker processes")
    p.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread if > 1)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--wait-quiet", type=float, default=0.0, help="wait up to N s for the machine to be idle first")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--output", type=Path, default=None)
    args = p.parse_args(argv)
    if not 1 <= args.batch <= 500:
        p.error("--batch is 1..500 (the webhook's limit)")
    if not 0 <= args.duplicates < 1:
        p.error("--duplicates is a share in [0, 1)")
    return args


# --- data -----------------------------------------------------------------------------------------


def create_shipments(count: int, run: str, secret: str) -> list[str]:
    """A carrier and `count` shipped orders, one parcel each, written in bulk (the webhook reads
    them; how they were written does not matter to it). Returns the tracking numbers."""
    from decimal import Decimal

    from django.db import transaction

    from core.models import Category, Customer, Product
    from orders.choices import ChargeKind, ChargeStatus, FulfilmentMethod, OrderStatus
    from orders.models import Carrier, Charge, Order, OrderLine, Shipment, ShipmentLine

    with transaction.atomic():
        carrier, _ = Carrier.objects.update_or_create(
            code=CARRIER_CODE,
            defaults={
                "name": "Webhook Bench Parcels",
                "webhook_secret": secret,
                "tracking_url": "https://track.example/{tracking_number}",
                "is_active": True,
            },
        )
        category, _ = Category.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
        product, _ = Product.objects.get_or_create(
            sku="WEBHOOK-BENCH-1", defaults={"name": "Bench lamp", "category": category, "price": Decimal("49.95")}
        )
        customers = Customer.objects.bulk_create(
            Customer(
                given_name="Bench",
                family_name=f"Parcel {run}-{i}",
                email=f"webhook-bench-{run}-{i}@example.com",
                consent_email=True,
                time_zone="Europe/Amsterdam",
            )
            for i in range(max(1, count // 4))
        )
        now = dt.datetime.now(dt.UTC)
        orders = Order.objects.bulk_create(
            Order(
                customer=customers[i % len(customers)],
                channel="web",
                source="ecommerce",
                total=Decimal("99.90"),
                fulfilment=FulfilmentMethod.DELIVERY,
                status=OrderStatus.SHIPPED,
                placed_at=now,
            )
            for i in range(count)
        )
        lines = OrderLine.objects.bulk_create(
            OrderLine(order=o, product=product, quantity=2, unit_price=Decimal("49.95"), quantity_shipped=2)
            for o in orders
        )
        Charge.objects.bulk_create(
            Charge(
                order=o,
                kind=ChargeKind.CAPTURE,
                status=ChargeStatus.SETTLED,
                amount=Decimal("99.90"),
                currency="EUR",
                created_at=now,
                settled_at=now,
            )
            for o in orders
        )
        numbers = [f"WB{run}{i:07d}" for i in range(count)]
        shipments = Shipment.objects.bulk_create(
            Shipment(order=o, carrier=carrier, tracking_number=n, shipped_at=now)
            for o, n in zip(orders, numbers, strict=True)
        )
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=s, order_line=line, quantity=2) for s, line in zip(shipments, lines, strict=True)
        )
    return numbers


def stories(numbers: list[str], run: str, rng: random.Random) -> list[dict]:
    """Every parcel's events, interleaved in time order across parcels (as a carrier's feed is)."""
    events = []
    for index, number in enumerate(numbers):
        start = T0 + dt.timedelta(minutes=rng.randrange(0, 24 * 60))
        steps = ["info_received", "in_transit", "in_transit", "in_transit", "out_for_delivery"]
        if rng.random() < 0.1:
            steps += ["failed_attempt", "out_for_delivery"]
        steps.append("delivered")
        for step, status in enumerate(steps):
            occurred = start + dt.timedelta(hours=4 * step, minutes=rng.randrange(0, 60))
            event = {
                "event_id": f"{run}-{index}-{step}",
                "tracking_number": number,
                "status": status,
                "occurred_at": occurred.isoformat(),
                "description": {"in_transit": "Sorted at hub", "failed_attempt": "Nobody home"}.get(status, ""),
                "place": rng.choice(["Utrecht", "Amsterdam", "Rotterdam", "Eindhoven"]),
            }
            if status in ("in_transit", "out_for_delivery"):
                event["estimated_delivery"] = (start + dt.timedelta(hours=24 + 4 * step)).isoformat()
            events.append(event)
    events.sort(key=lambda e: e["occurred_at"])
    return events


def batches(events: list[dict], size: int, duplicates: float, out_of_order: float, rng: random.Random):
    """Cut the feed into calls of `size` events, of which a `duplicates` share are events sent
    before (or twice in the same call); swap a share of neighbours so some arrive out of order."""
    events = list(events)
    for i in range(len(events) - 1):
        if rng.random() < out_of_order:
            events[i], events[i + 1] = events[i + 1], events[i]
    fresh_per_batch = max(1, round(size * (1 - duplicates)))
    out, sent = [], []
    for start in range(0, len(events), fresh_per_batch):
        fresh = events[start : start + fresh_per_batch]
        pool = sent[-5000:] or fresh
        again = [rng.choice(pool) for _ in range(round(len(fresh) * duplicates / (1 - duplicates)))]
        batch = fresh + again
        rng.shuffle(batch)
        out.append(batch)
        sent.extend(fresh)
    return out


# --- load -----------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def send_all(port: int, secret: str, bodies: list[bytes], concurrency: int) -> dict:
    """Each thread takes the next body, signs it with the current time and POSTs it on its own
    keep-alive connection; latency is per call."""
    work: queue.Queue = queue.Queue()
    for body in bodies:
        work.put(body)
    lock = threading.Lock()
    latencies: list[float] = []
    totals = {"applied": 0, "duplicates": 0, "unmatched": 0}
    errors: dict[str, int] = {}
    path = f"/api/v1/webhooks/carriers/{CARRIER_CODE}/"

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                break
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "X-Carrier-Timestamp": str(timestamp),
                "X-Carrier-Signature": sign(secret, timestamp, body),
            }
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                with lock:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status == 200:
                    for key, value in json.loads(payload).items():
                        totals[key] += value
                else:
                    errors[str(response.status)] = errors.get(str(response.status), 0) + 1
                    if errors[str(response.status)] == 1:
                        log(f"HTTP {response.status}: {payload[:300]!r}")
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[max(0, math.ceil(p / 100 * len(latencies)) - 1)], 1) if latencies else 0.0

    return {
        "seconds": round(seconds, 2),
        "requests": len(latencies),
        "latency_ms": {"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": round(latencies[-1], 1)}
        if latencies
        else {},
        "responses": totals,
        "errors": errors,
    }


def verify(run: str, numbers: list[str], unique: int) -> dict:
    """What the database holds for this run's carrier events, parcels and orders."""
    from django.db.models import Count

    from core.models import Notification
    from orders.models import Order, Shipment, TrackingEvent

    events = TrackingEvent.objects.filter(carrier__code=CARRIER_CODE, event_id__startswith=f"{run}-")
    shipments = Shipment.objects.filter(carrier__code=CARRIER_CODE, tracking_number__in=numbers)
    customers = Order.objects.filter(shipments__in=shipments).values("customer_id")
    return {
        "events_stored": events.count(),
        "events_unique_sent": unique,
        "events_matched": events.filter(shipment__isnull=False).count(),
        "shipments_by_status": dict(shipments.values_list("status").annotate(n=Count("id")).order_by()),
        "orders_by_status": dict(
            Order.objects.filter(shipments__in=shipments).values_list("status").annotate(n=Count("id")).order_by()
        ),
        "notifications_by_event": dict(
            Notification.objects.filter(customer_id__in=customers)
            .values_list("event")
            .annotate(n=Count("id"))
            .order_by()
        ),
    }


def empty_broker_queue(broker_url: str) -> int:
    """Drop the send tasks the run queued (no worker consumes them here)."""
    import redis

    client = redis.Redis.from_url(broker_url)
    dropped = client.llen(BROKER_QUEUE)
    client.delete(BROKER_QUEUE)
    return dropped


# --- main -----------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    run = secrets.token_hex(3).upper()
    secret = secrets.token_urlsafe(32)
    env = django_env(args, secrets.token_urlsafe(50))
    env["CELERY_BROKER_URL"] = args.broker_url
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY")})
    os.environ.update({"DEBUG": "0", "ALLOWED_HOSTS": env["ALLOWED_HOSTS"], "CELERY_BROKER_URL": args.broker_url})
    os.environ.pop("AFTERCARE_PRODUCTION", None)
    started = time.perf_counter()

    ensure_database(args.database_url)
    log("migrating")
    migrate(env)

    import django

    django.setup()
    import django.db

    log(f"run {run}: creating {args.shipments:,} shipped orders with their parcels")
    t0 = time.perf_counter()
    numbers = create_shipments(args.shipments, run, secret)
    setup_seconds = time.perf_counter() - t0
    feed = stories(numbers, run, rng)
    calls = batches(feed, args.batch, args.duplicates, args.out_of_order, rng)
    bodies = [json.dumps({"events": batch}, separators=(",", ":")).encode() for batch in calls]
    sent = sum(len(batch) for batch in calls)
    log(
        f"{len(feed):,} events in {len(calls):,} calls of up to {args.batch}; "
        f"{sent - len(feed):,} duplicates ({100 * (sent - len(feed)) / sent:.1f}%)"
    )
    with django.db.connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    django.db.connections.close_all()

    port = args.port or free_port()
    gunicorn = None
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp:
        try:
            gunicorn = start_gunicorn(args, env, port, Path(tmp) / "gunicorn.log")
            quiet = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else {}
            meter = CpuMeter(gunicorn.pid, args.database_url)
            before = meter.sample()
            loadavg = os.getloadavg()[0]
            log(f"sending {len(bodies):,} calls over {args.concurrency} connections")
            load = send_all(port, secret, bodies, args.concurrency)
            cpu = meter.report(before, sent)
            gunicorn_log = (Path(tmp) / "gunicorn.log").read_text()[-4000:]
        finally:
            stop_gunicorn(gunicorn)
    dropped = empty_broker_queue(args.broker_url)

    check = verify(run, numbers, len(feed))
    responses = load["responses"]
    events_per_s = round(sent / load["seconds"], 1) if load["seconds"] else 0.0
    checks = {
        "every_unique_event_stored_once": check["events_stored"] == len(feed),
        "responses_count_every_event": sum(responses.values()) == sent,
        "applied_equals_stored": responses["applied"] == check["events_matched"],
        "duplicates_equal_resent": responses["duplicates"] == sent - len(feed),
        "every_parcel_delivered": check["shipments_by_status"] == {"delivered": args.shipments},
        "no_http_errors": not load["errors"],
    }
    result = {
        "benchmark": "webhook",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {**machine(), "postgresql": pg_version, "loadavg_1m_before": round(loadavg, 2)},
        "config": {
            "database": database_name(args.database_url),
            "run": run,
            "shipments": args.shipments,
            "batch": args.batch,
            "concurrency": args.concurrency,
            "gunicorn": {"workers": args.workers, "threads": args.threads},
            "loadgen": "python threads",
        },
        "events": {"unique": len(feed), "sent": sent, "duplicates_sent": sent - len(feed), "calls": len(bodies)},
        "events_per_s": events_per_s,
        "calls_per_s": round(load["requests"] / load["seconds"], 1) if load["seconds"] else 0.0,
        "latency_ms_per_call": load["latency_ms"],
        "cpu_ms_per_event": cpu["cpu_ms_per_request"],
        "machine_busy_pct": cpu["machine_busy_pct"],
        "other_processes_cpu_pct": cpu["other_processes_cpu_pct"],
        **quiet,
        "responses": responses,
        "errors": load["errors"],
        "database": check,
        "checks": checks,
        "target_events_per_s": {"target": TARGET_EVENTS_PER_S, "met": events_per_s >= TARGET_EVENTS_PER_S},
        "setup_seconds": round(setup_seconds, 1),
        "notification_tasks_dropped_from_broker": dropped,
        "gunicorn_log_tail": gunicorn_log,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    output = args.output or RESULTS_DIR / f"webhook-{dt.datetime.now(dt.UTC).strftime('%Y-%m-%dT%H%M%SZ')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    log(f"written {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
