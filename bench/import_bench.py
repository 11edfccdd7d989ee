"""Bulk order import speed: `manage.py import_orders` on PostgreSQL, in orders per second.

Writes a JSON Lines file of N orders (1-4 lines each, a third paid at the till, the rest pending,
customers and products taken from the benchmark database that bench/timeline_bench.py loads), then
imports it the way the command does and prints JSON with the figure. The imported orders stay; a
second run imports new external ids. Into the timeline bench's database (the default) they join
bench/order_bench.py's orders, which that bench then reloads on its next run; a database of its
own keeps them apart:

    .venv/bin/python bench/timeline_bench.py --load-only --database-url postgres://postgres@127.0.0.1:5432/aftercare_import_bench
    .venv/bin/python bench/import_bench.py --orders 200000 --database-url postgres://postgres@127.0.0.1:5432/aftercare_import_bench
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/aftercare_bench"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=200_000)
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    p.add_argument("--seed", type=int, default=7)
    return p.parse_args(argv)


def write_file(path: Path, n: int, customers: list[str], products: list[tuple[str, Decimal]], seed: int) -> None:
    rng = random.Random(seed)
    run = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w") as handle:
        for i in range(n):
            lines = []
            for sku, price in rng.sample(products, rng.randint(1, 4)):
                lines.append({"product": sku, "quantity": rng.randint(1, 3), "unit_price": str(price)})
            total = sum(Decimal(line["unit_price"]) * line["quantity"] for line in lines)
            order = {
                "source": "ecommerce",
                "external_id": f"B{run}-{i}",
                "customer": rng.choice(customers),
                "channel": "web",
                "placed_at": (start + timedelta(minutes=i)).isoformat(),
                "fulfilment": rng.choice(["delivery", "pickup"]),
                "promised_date": (start + timedelta(minutes=i, days=5)).date().isoformat(),
                "lines": lines,
            }
            if i % 3 == 0:
                order["payments"] = [{"kind": "capture", "amount": str(total), "reference": f"psp-{i}"}]
            handle.write(json.dumps(order) + "\n")


def main(argv=None) -> int:
    args = parse_args(argv)
    env = dict(os.environ, DATABASE_URL=args.database_url, DJANGO_SETTINGS_MODULE="bench.settings", DEBUG="0")
    env.setdefault("SECRET_KEY", "bench-" + "x" * 60)
    env.pop("AFTERCARE_PRODUCTION", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY")})
    sys.path.insert(0, str(ROOT))
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)

    import django

    django.setup()
    from core.models import Customer, Product
    from orders.models import Order
    from orders.services.imports import import_file

    customers = list(Customer.objects.values_list("number", flat=True)[:100_000])
    products = list(Product.objects.values_list("sku", "price"))
    if len(customers) < 10 or len(products) < 10:
        sys.exit("load the benchmark data first: bench/timeline_bench.py --load-only")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.jsonl"
        started = time.perf_counter()
        write_file(path, args.orders, customers, products, args.seed)
        print(f"wrote {args.orders:,} orders in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        before = Order.objects.count()
        started = time.perf_counter()
        report = import_file(path)
        seconds = time.perf_counter() - started
    result = {
        "benchmark": "order import",
        "orders": args.orders,
        "created": report.created,
        "errors": len(report.errors),
        "seconds": round(seconds, 2),
        "orders_per_s": round(report.created / seconds),
        "orders_in_database": before + report.created,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
