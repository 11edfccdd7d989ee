"""Bulk order import speed: `manage.py import_orders` on PostgreSQL, in orders per second.

Writes a JSON Lines file of N orders (1-4 lines each, a third paid at the till, the rest pending,
customers and products taken from the benchmark database that bench/timeline_bench.py loads), then
imports it the way the command does and prints JSON with the figure and where the CPU went: this
process (parsing, checking, building the COPY text) and the rest of the machine (PostgreSQL). The
imported orders stay; a second run imports new external ids. Into the timeline bench's database
(the default) they join bench/order_bench.py's orders, which that bench then reloads on its next
run; a database of its own keeps them apart:

    .venv/bin/python bench/timeline_bench.py --load-only --database-url postgres://postgres@127.0.0.1:5432/aftercare_import_bench
    .venv/bin/python bench/import_bench.py --orders 200000 --database-url postgres://postgres@127.0.0.1:5432/aftercare_import_bench

With --schema-variants it imports one file three times, each into a fresh copy of that database:
as the migrations leave it, without the foreign keys of the five tables an import writes, and
without those foreign keys and secondary indexes. The copies are dropped afterwards; the database
itself is not written. That shows what PostgreSQL's share of the cost is made of.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/aftercare_bench"
IMPORTED_TABLES = ("orders_order", "orders_historicalorder", "orders_orderline", "orders_charge", "core_touchpoint")
VARIANTS = {
    "schema": "as the migrations leave it",
    "no_foreign_keys": "without the foreign keys of the imported tables",
    "no_foreign_keys_or_secondary_indexes": "without those foreign keys and the non-unique indexes",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=200_000)
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--schema-variants", action="store_true", help="import one file into three copies (see above)")
    p.add_argument("--file", type=Path, help=argparse.SUPPRESS)  # a variant's run: import this file, write none
    p.add_argument("--output", type=Path, default=None, help="results file (default bench/results/import-<date>.json)")
    return p.parse_args(argv)


def write_file(path: Path, n: int, database_url: str, seed: int) -> None:
    with psycopg.connect(database_url) as conn:
        customers = [number for (number,) in conn.execute("SELECT number FROM core_customer ORDER BY id LIMIT 100000")]
        products = conn.execute("SELECT sku, price FROM core_product ORDER BY id").fetchall()
    if len(customers) < 10 or len(products) < 10:
        sys.exit("load the benchmark data first: bench/timeline_bench.py --load-only")
    rng = random.Random(seed)
    run = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
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


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU seconds all processes have used, and idle seconds, since boot (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, idle / tick


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def import_measured(path: Path, database_url: str) -> dict:
    """Import the file through the code behind `manage.py import_orders`, timing it and splitting
    the CPU between this process (all its threads) and everything else on the machine."""
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="bench.settings", DEBUG="0")
    env.setdefault("SECRET_KEY", "bench-" + "x" * 60)
    env.pop("AFTERCARE_PRODUCTION", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY")})
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from orders.models import Order
    from orders.services.imports import import_file

    before = Order.objects.count()
    machine_before, idle_before = machine_cpu_seconds()
    own_before = own_cpu_seconds()
    started = time.perf_counter()
    report = import_file(path)
    seconds = time.perf_counter() - started
    own = own_cpu_seconds() - own_before
    machine_after, idle_after = machine_cpu_seconds()
    created = max(report.created, 1)
    return {
        "orders": report.read,
        "created": report.created,
        "errors": len(report.errors),
        "seconds": round(seconds, 2),
        "orders_per_s": round(report.created / seconds),
        "orders_in_database_before": before,
        "cpu_us_per_order": {
            "importing_process": round(own / created * 1e6, 1),
            "rest_of_machine": round((machine_after - machine_before - own) / created * 1e6, 1),
        },
        "machine_idle_share": round((idle_after - idle_before) / (os.cpu_count() * seconds), 3),
    }


def maintenance_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def strip(url: str, variant: str) -> None:
    """Drop what the variant goes without, on a copy."""
    if variant == "schema":
        return
    with psycopg.connect(url, autocommit=True) as conn:
        tables = list(IMPORTED_TABLES)
        for table, name in conn.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            [tables],
        ).fetchall():
            statement = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}")
            conn.execute(statement.format(sql.Identifier(table), sql.Identifier(name)))
        if variant == "no_foreign_keys_or_secondary_indexes":
            for (index,) in conn.execute(
                "SELECT indexrelid::regclass::text FROM pg_index"
                " WHERE indrelid::regclass::text = ANY(%s) AND NOT indisprimary AND NOT indisunique",
                [tables],
            ).fetchall():
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))
        conn.execute("CHECKPOINT")


def schema_variants(args, path: Path) -> dict:
    source = urlsplit(args.database_url).path.lstrip("/")
    results = {}
    for variant, description in VARIANTS.items():
        copy = f"{source}_{variant}"[:63]
        with psycopg.connect(maintenance_url(args.database_url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(copy)))
            log(f"copying {source} to {copy}")
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(copy), sql.Identifier(source)))
        try:
            strip(with_database(args.database_url, copy), variant)
            log(f"importing into {copy} ({description})")
            url = with_database(args.database_url, copy)
            run = subprocess.run(
                [sys.executable, __file__, "--database-url", url, "--file", str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            results[variant] = {"schema": description} | json.loads(run.stdout)
        finally:
            with psycopg.connect(maintenance_url(args.database_url), autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(copy)))
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.file:
        print(json.dumps(import_measured(args.file, args.database_url)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.jsonl"
        started = time.perf_counter()
        write_file(path, args.orders, args.database_url, args.seed)
        log(f"wrote {args.orders:,} orders in {time.perf_counter() - started:.1f} s")
        if args.schema_variants:
            result = {"benchmark": "order import, schema variants", "variants": schema_variants(args, path)}
        else:
            result = {"benchmark": "order import"} | import_measured(path, args.database_url)
    result |= {"cpus": os.cpu_count(), "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    output = args.output or ROOT / "bench" / "results" / f"import-{datetime.now(UTC):%Y-%m-%dT%H%M%SZ}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
