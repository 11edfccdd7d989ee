"""Customer list, customer detail and customer timeline under concurrent HTTP load on PostgreSQL,
each against a raw-SQL floor served by the same gunicorn.

    .venv/bin/python bench/timeline_bench.py [--customers 100000] [--touchpoints 1000000]
                                             [--duration 20] [--concurrency 8] [--reload]

Steps: create and migrate the bench database; bulk-load customers, addresses and skewed
touchpoints with COPY (reused on later runs unless --reload or the sizes changed); count queries
per request with Django's test client and EXPLAIN ANALYZE the data queries; start gunicorn on
127.0.0.1 with bench.settings (the project plus /bench/raw/... views); load each endpoint and its
raw twin with wrk (or a Python load generator when wrk is missing); print JSON and write it to
bench/results/timeline-<date>.json. Progress goes to stderr, the JSON to stdout. See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import math
import os
import platform
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
WRK_SCRIPT = BENCH_DIR / "wrk_paths.lua"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/aftercare_bench"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/15"
# The bench truncates what it loads: never point it at a database someone else uses.
FORBIDDEN_DATABASES = {"test", "test_test", "postgres", "template0", "template1"}

PAGE_SIZE = 50
HEAVY_MIN_TOUCHPOINTS = 100
MANAGER_USERS = 200  # sessions spread over many users, as real traffic is (user throttle: 3000/min)
PATHS_PER_ENDPOINT = 20_000
CHUNK_ROWS = 50_000

TARGET_TIMELINE_P95_MS = 50.0
TARGET_RATIO = 0.5
TARGET_LOAD_ROWS_PER_S = 50_000

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- arguments --------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    cpus = os.cpu_count() or 2
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--touchpoints", type=int, default=1_000_000)
    p.add_argument("--duration", type=float, default=20.0, help="seconds of load per endpoint and variant")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of mixed load before measuring")
    p.add_argument(
        "--probe-duration",
        type=float,
        default=8.0,
        help="seconds per endpoint and variant at concurrency 1 (latency without queueing); 0 skips",
    )
    p.add_argument("--concurrency", type=int, default=8, help="concurrent connections of the load generator")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    p.add_argument(
        "--cache-url",
        default=os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL),
        help="the shared cache the workers use, as production requires (sessions, permissions, rate limits)",
    )
    p.add_argument("--reload", action="store_true", help="reload the data even if the same sizes are loaded")
    p.add_argument("--seed", type=int, default=20251123)
    p.add_argument("--load-only", action="store_true", help="prepare the data set, print the loading figures, stop")
    p.add_argument("--workers", type=int, default=cpus + 1, help="gunicorn worker processes")
    p.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread if > 1)")
    p.add_argument("--port", type=int, default=0, help="gunicorn port on 127.0.0.1 (0: a free one)")
    p.add_argument("--rounds", type=int, default=1, help="load each endpoint and variant N times; report the best")
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each measured run wait up to N seconds for other work on the machine to stop (shared machines)",
    )
    p.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument(
        "--output", type=Path, default=None, help="results file (default bench/results/timeline-<date>.json)"
    )
    args = p.parse_args(argv)
    if args.customers < 10 or args.touchpoints < args.customers:
        p.error("need --customers >= 10 and --touchpoints >= --customers")
    return args


# --- database ---------------------------------------------------------------------------------


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def ensure_database(url: str) -> None:
    name = database_name(url)
    if not name or name in FORBIDDEN_DATABASES:
        sys.exit(f"refusing to use database {name!r}: the bench truncates tables; give it its own database")
    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_env(args, secret_key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AFTERCARE_PRODUCTION", None)
    env.update(
        DATABASE_URL=args.database_url,
        CACHE_URL=args.cache_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        LOG_LEVEL="WARNING",
        # One connection per worker for the whole run (the default recycles them after 60 s), so that the
        # CPU of the PostgreSQL backends can be attributed to the run; reconnecting once a minute costs nothing.
        CONN_MAX_AGE="3600",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    return env


def migrate(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True
    )
    return time.perf_counter() - started


# --- data generation --------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return text.split()


GIVEN_NAMES = words(
    "Emma Liam Olivia Noah Ava Lucas Mia Levi Sophie Daan Julia Sem Tess Finn Zoë Milan Anna Luuk Sara Bram "
    "Eva Jesse Lotte Thijs Nora Ruben Lisa Max Fleur Sam Isa Tim Noor Lars Evi Jan Lieke Tom Roos Mark Elif "
    "Yusuf Fatima Omar Amira Mohamed Lina Adam Hanna David Maria Jonas Clara Paul Marie Felix Laura Leon Lea "
    "Oscar Alice Hugo Chloé Louis Camille Jules Manon Arthur Inès Gabriel Jade Raphaël Léa Mateo Lucía Pablo"
)
SURNAME_HEADS = words(
    "Ber Van Kes Mol Dijk Bos Hof Smit Mul Vis Brou Wil Kuip Ver Jans Haan Both Hen Mee Post Stol Zwa Lam "
    "Dek Prin Kool Groot Klein Wit Zwart Rood Bak Slag Steen Hout Berg Veld Hol Brink Beek"
)
SURNAME_TAILS = words(
    "mann er sen ink stra huis kamp man hout berg beek veld dijk hof wijk horst land bos meer sma ma ga "
    "ing hoven broek laar kes ers ens aar lo donk rade um ler ter wood well ford ley ton"
)
CITIES = words(
    "Amsterdam Rotterdam Utrecht Eindhoven Groningen Tilburg Almere Breda Nijmegen Arnhem Haarlem Enschede "
    "Antwerpen Gent Brussel Leuven Köln Düsseldorf Aachen Münster"
)
TIME_ZONES = ["Europe/Amsterdam"] * 6 + ["Europe/Brussels", "Europe/Berlin", "Europe/London", "UTC"]
LANGUAGES = ["nl"] * 5 + ["en", "en", "de", "fr"]
CONTACT_CHANNELS = ["email", "sms", "push"]
KIND_WEIGHTS = {
    "purchase": 20,
    "delivery": 15,
    "pickup": 5,
    "installation": 4,
    "training": 2,
    "alteration": 2,
    "complaint": 4,
    "survey": 8,
    "review": 5,
    "return": 6,
    "credit_voucher": 2,
    "testimonial": 1,
    "like": 3,
    "referral": 1,
    "notification": 22,
}
CHANNEL_WEIGHTS = {
    "store": 25,
    "web": 22,
    "app": 18,
    "phone": 8,
    "email": 12,
    "sms": 6,
    "chat": 4,
    "social": 2,
    "voice": 1,
    "kiosk": 2,
}
KIND_SUMMARIES = {
    "purchase": "Bought {p}",
    "delivery": "Delivered {o} to the door",
    "pickup": "Collected {o} in store",
    "installation": "Installed {p} at home",
    "training": "Training session on {p}",
    "alteration": "Alteration of {p} ready",
    "complaint": "Complaint about {o}: late delivery",
    "survey": "Answered the survey after {o}",
    "review": "Reviewed {p}: 4 stars",
    "return": "Returned {p} from {o}",
    "credit_voucher": "Credit voucher issued for {o}",
    "testimonial": "Testimonial published",
    "like": "Liked {p}",
    "referral": "Referred a friend",
    "notification": "Sent an update on {o}",
}
READABLE = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE = len(READABLE)
CODE_SPACE = BASE**8
PAIRS = [x + y for x in READABLE for y in READABLE]  # 900 = 30**2
HMS = [f"{h:02d}:{m:02d}:{sec:02d}" for h in range(24) for m in range(60) for sec in range(60)]


def readable(prefix: str, n: int) -> str:
    """A unique 8-character readable code for n (a bijection of [0, 30**8), so no clashes)."""
    n = (n * 7_777_777_777 + 123_456_789) % CODE_SPACE
    a, n = divmod(n, 900**3)
    b, n = divmod(n, 900**2)
    c, d = divmod(n, 900)
    return prefix + PAIRS[a] + PAIRS[b] + PAIRS[c] + PAIRS[d]


class Clock:
    """Text timestamps for COPY (UTC, microseconds), ~5x cheaper than datetime.isoformat()."""

    def __init__(self):
        self.days: dict[int, str] = {}

    def __call__(self, epoch_us: int) -> str:
        sec, us = divmod(epoch_us, 1_000_000)
        day, second = divmod(sec, 86400)
        date = self.days.get(day)
        if date is None:
            date = self.days[day] = (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()
        return f"{date} {HMS[second]}.{us:06d}+00"


def bit(value: bool) -> str:
    return "t" if value else "f"


class Copier:
    """COPY ... FROM STDIN (text format, FREEZE) of chunks of lines; counts rows and time per table."""

    def __init__(self, cur):
        self.cur = cur
        self.tables: dict[str, dict] = {}

    def copy(self, table: str, columns: str, chunks) -> None:
        started = time.perf_counter()
        count = 0
        with self.cur.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FREEZE)") as copy:
            for chunk in chunks:
                copy.write(chunk)
                count += chunk.count("\n")
        seconds = time.perf_counter() - started
        self.tables[table] = {"rows": count, "seconds": round(seconds, 3), "rows_per_s": round(count / seconds)}
        log(f"  COPY {table}: {count:,} rows in {seconds:.1f} s ({count / seconds:,.0f} rows/s)")


def chunked(total: int, make_chunk):
    """make_chunk(start, stop) for consecutive ranges of CHUNK_ROWS over range(total)."""
    for start in range(0, total, CHUNK_ROWS):
        yield make_chunk(start, min(total, start + CHUNK_ROWS))


LOADED_TABLES = [
    "core_touchpoint",
    "core_customerexternalid",
    "core_customeraddress",
    "core_customer",
    "core_product",
    "core_category",
    "core_location",
    "core_user",
]
# Loaded without their secondary indexes and foreign keys, which are rebuilt in one pass after.
BULK_TABLES = ["core_touchpoint", "core_customeraddress", "core_customerexternalid", "core_customer"]


def drop_secondary(cur, table: str) -> tuple[list[str], list[str]]:
    """Drop the table's foreign keys and the indexes no constraint owns; return the DDL to rebuild them."""
    fks = cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    ).fetchall()
    indexes = cur.execute(
        """SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
           WHERE x.indrelid = %s::regclass
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
        [table],
    ).fetchall()
    for name, _ in fks:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    return [ddl for _, ddl in indexes], [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {ddl}' for name, ddl in fks]


def subject_content_types(cur) -> list[int]:
    wanted = [("orders", "order"), ("orders", "shipment"), ("returns", "returnrequest"), ("feedback", "complaint")]
    found = [
        row[0]
        for app, model in wanted
        if (
            row := cur.execute(
                "SELECT id FROM django_content_type WHERE app_label = %s AND model = %s", [app, model]
            ).fetchone()
        )
    ]
    if not found:
        found = [
            cur.execute(
                "SELECT id FROM django_content_type WHERE app_label = 'core' AND model = 'customer'"
            ).fetchone()[0]
        ]
    return found


def touchpoint_counts(rng: random.Random, customers: int, touchpoints: int) -> list[int]:
    """Skewed: 1% of customers hold ~40% of the touchpoints (hundreds each); the rest are spread at random."""
    counts = [0] * (customers + 1)  # index = customer id
    heavy_n = max(1, customers // 100)
    heavy_ids = rng.sample(range(1, customers + 1), heavy_n)
    mean = max(1, int(touchpoints * 0.4 / heavy_n))
    left = touchpoints
    for cid in heavy_ids:
        n = min(left, rng.randint(max(1, mean // 2), mean * 3 // 2))
        counts[cid] = n
        left -= n
    heavy = set(heavy_ids)
    others = [cid for cid in range(1, customers + 1) if cid not in heavy]
    for cid in rng.choices(others, k=left):
        counts[cid] += 1
    return counts


def touchpoint_payloads(rng: random.Random, n: int, content_types: list[int], refs: dict[str, int]) -> list[str]:
    """Everything of a touchpoint but its id, customer and time, as COPY text: a pool the rows draw from."""
    kinds = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()), k=n)
    channels = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()), k=n)
    pool = []
    for kind, channel in zip(kinds, channels, strict=True):
        in_person = channel in ("store", "phone", "kiosk") or rng.random() < 0.2
        associate = str(rng.randint(1, refs["associates"])) if in_person else "\\N"
        location = str(rng.randint(1, refs["locations"])) if in_person else "\\N"
        product = rng.randint(1, refs["products"]) if rng.random() < 0.6 else None
        order = readable("O", rng.randrange(CODE_SPACE)) if rng.random() < 0.7 else ""
        subject = f"{rng.choice(content_types)}\t{rng.randint(1, 10_000_000)}" if rng.random() < 0.3 else "\\N\t\\N"
        summary = KIND_SUMMARIES[kind].format(p=f"product {product or 'item'}", o=order or "an order")
        product_id = str(product) if product else "\\N"
        pool.append(f"{kind}\t{channel}\t{associate}\t{location}\t{product_id}\t{order}\t{subject}\t{summary}")
    return pool


def load_dataset(args) -> dict:
    """TRUNCATE and COPY everything in one transaction: secondary indexes and foreign keys dropped
    first and rebuilt after (one sorted build beats a million index inserts and FK look-ups)."""
    rng = random.Random(args.seed)
    clock = Clock()
    now_us = int(time.time() * 1_000_000)
    year_us = int(365.25 * 86400 * 1_000_000)
    refs = {"associates": 60, "locations": 40, "categories": 12, "products": 600}
    started = time.perf_counter()
    machine_before, self_before = machine_cpu(), resource.getrusage(resource.RUSAGE_SELF)
    with psycopg.connect(args.database_url) as conn:
        cur = conn.cursor()
        backend_pid = cur.execute("SELECT pg_backend_pid()").fetchone()[0]
        backend_before = process_cpu_seconds(backend_pid)
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cur.execute("SET LOCAL max_parallel_maintenance_workers = 2")  # index builds use both cores
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute(f"TRUNCATE {', '.join(LOADED_TABLES)}, django_session RESTART IDENTITY CASCADE")
        cur.execute("DROP TABLE IF EXISTS bench_dataset")
        rebuild_indexes: list[str] = []
        rebuild_fks: list[str] = []
        for table in BULK_TABLES:
            idx, fks = drop_secondary(cur, table)
            rebuild_indexes += idx
            rebuild_fks += fks
        copier = Copier(cur)
        copy_started = time.perf_counter()
        surnames = [h + t for h in SURNAME_HEADS for t in SURNAME_TAILS]

        # Reference data: associates (staff users), locations, categories, products.
        copier.copy(
            "core_user",
            "id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined",
            [
                "".join(
                    f"{i}\t!\tf\tassociate{i}\t{rng.choice(GIVEN_NAMES)}\t{rng.choice(surnames)}\t"
                    f"associate{i}@staff.example\tf\tt\t{clock(now_us - 4 * year_us)}\n"
                    for i in range(1, refs["associates"] + 1)
                )
            ],
        )
        cur.execute(
            "INSERT INTO core_user_groups (user_id, group_id) "
            "SELECT u.id, g.id FROM core_user u, auth_group g WHERE g.name = 'associate'"
        )
        hours = '{"mon": [["09:00", "18:00"]], "sat": [["10:00", "17:00"]]}'
        copier.copy(
            "core_location",
            "id, code, name, kind, address_line1, address_line2, city, postcode, region, country, latitude, "
            "longitude, opening_hours, open_24h, time_zone, phone, is_active",
            [
                "".join(
                    f"{i}\tS{i:03d}\t{CITIES[i % len(CITIES)]} {i}\t{'store' if i % 5 else 'warehouse'}\t"
                    f"Marktstraat {i}\t\t{CITIES[i % len(CITIES)]}\t{1000 + i * 37} AB\t\tNL\t52.{i:06d}\t"
                    f"4.{i:06d}\t{hours}\tf\tEurope/Amsterdam\t+31201234567\tt\n"
                    for i in range(1, refs["locations"] + 1)
                )
            ],
        )
        copier.copy(
            "core_category",
            "id, slug, name",
            ["".join(f"{i}\tcategory-{i}\tCategory {i}\n" for i in range(1, refs["categories"] + 1))],
        )
        goods = ["sofa", "fridge", "jacket", "laptop", "bike", "oven"]
        copier.copy(
            "core_product",
            "id, sku, name, category_id, price, currency, returnable, return_window_days, installable, trainable, "
            "alterable, recyclable, resale_value, is_active, stocked",
            [
                "".join(
                    f"{i}\tSKU-{i:06d}\tProduct {i} {goods[i % 6]}\t{1 + i % refs['categories']}\t"
                    f"{19 + (i * 37) % 1500}.95\tEUR\tt\t30\t{bit(i % 6 in (0, 1, 5))}\t{bit(i % 6 == 3)}\t"
                    f"{bit(i % 6 == 2)}\tf\t10.00\tt\tt\n"
                    for i in range(1, refs["products"] + 1)
                )
            ],
        )

        # Customers, with one to three addresses and, for every third, an id in the POS.
        contact = [
            f"{tz}\t{lang}\t{channel}\t{bit(e)}\t{bit(s)}\t{bit(p)}"
            for tz in TIME_ZONES
            for lang in LANGUAGES
            for channel in CONTACT_CHANNELS
            for e in (True, False)
            for s in (True, False)
            for p in (True, False)
        ]

        lower = {name: name.lower() for name in GIVEN_NAMES + surnames}
        customer_step_us = 2 * year_us // args.customers  # signed up over two years, in id order

        def customer_chunk(start: int, stop: int) -> str:
            n = stop - start
            lines = []
            for i, given, family, reach in zip(
                range(start + 1, stop + 1),
                rng.choices(GIVEN_NAMES, k=n),
                rng.choices(surnames, k=n),
                rng.choices(contact, k=n),
                strict=True,
            ):
                created = now_us - 5 * year_us + i * customer_step_us
                lines.append(
                    f"{i}\t{readable('C', i)}\t{given}\t{family}\t{lower[given]}.{lower[family]}.{i}@mail.example"
                    f"\t\t+316{10_000_000 + i}\t\t{reach}\t{clock(created)}\t{clock(created + i * 7919 % year_us)}\n"
                )
            return "".join(lines)

        copier.copy(
            "core_customer",
            "id, number, given_name, family_name, email, alternate_email, phone, alternate_phone, time_zone, "
            "language, preferred_channel, consent_email, consent_sms, consent_push, created_at, updated_at",
            chunked(args.customers, customer_chunk),
        )
        places = [
            f"{rng.choice(surnames)}laan {rng.randint(1, 300)}\t\t{rng.choice(CITIES)}\t"
            f"{rng.randint(1000, 9999)} {rng.choice('ABCDEFGH')}{rng.choice('KLMNPRST')}\t\tNL\t"
            f"52.{rng.randrange(1_000_000):06d}\t4.{rng.randrange(1_000_000):06d}"
            for _ in range(5000)
        ]
        address_counts = rng.choices([1, 2, 3], weights=[47, 38, 15], k=args.customers)
        next_address = [0]

        def address_chunk(start: int, stop: int) -> str:
            lines = []
            aid = next_address[0]
            for cid in range(start + 1, stop + 1):
                for k in range(address_counts[cid - 1]):
                    aid += 1
                    label, default = ("home", "t") if k == 0 else (("work", "holiday")[k - 1], "f")
                    lines.append(f"{aid}\t{cid}\t{label}\t{rng.choice(places)}\t{default}\n")
            next_address[0] = aid
            return "".join(lines)

        copier.copy(
            "core_customeraddress",
            "id, customer_id, label, line1, line2, city, postcode, region, country, latitude, longitude, is_default",
            chunked(args.customers, address_chunk),
        )
        copier.copy(
            "core_customerexternalid",
            "id, customer_id, source, external_id",
            chunked(
                args.customers // 3,
                lambda start, stop: "".join(
                    f"{n + 1}\t{3 * (n + 1)}\tpos\tPOS-{3 * (n + 1):08d}\n" for n in range(start, stop)
                ),
            ),
        )

        # Touchpoints: customers interleaved over three years in time order, as appends arrive
        # (ids follow time); each row draws its payload from a pool of 50,000.
        counts = touchpoint_counts(rng, args.customers, args.touchpoints)
        owners = [str(cid) for cid, n in enumerate(counts) for _ in range(n)]
        rng.shuffle(owners)
        payloads = touchpoint_payloads(rng, 50_000, subject_content_types(cur), refs)
        first_us = now_us - 3 * year_us
        step_us = 3 * year_us // len(owners)

        def touchpoint_chunk(start: int, stop: int) -> str:
            times = [clock(first_us + i * step_us + (i * 7919) % step_us) for i in range(start, stop)]
            rows = map(
                "{}\t{}\t{}\t{}\n".format,
                range(start + 1, stop + 1),
                owners[start:stop],
                times,
                rng.choices(payloads, k=stop - start),
            )
            return "".join(rows)

        copier.copy(
            "core_touchpoint",
            "id, customer_id, occurred_at, kind, channel, associate_id, location_id, product_id, order_number, "
            "subject_type_id, subject_id, summary",
            chunked(len(owners), touchpoint_chunk),
        )
        copy_seconds = time.perf_counter() - copy_started

        rebuild_started = time.perf_counter()
        for ddl in rebuild_indexes + rebuild_fks:
            ddl_started = time.perf_counter()
            cur.execute(ddl)
            if (took := time.perf_counter() - ddl_started) > 0.5:
                log(f"    {took:4.1f} s  {ddl[:110]}")
        for table in LOADED_TABLES:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)"
            )
        rebuild_seconds = time.perf_counter() - rebuild_started
        backend_seconds = process_cpu_seconds(backend_pid) - backend_before
        log(f"  rebuilt {len(rebuild_indexes)} indexes and {len(rebuild_fks)} foreign keys in {rebuild_seconds:.1f} s")
    # ANALYZE, not VACUUM: COPY ... FREEZE (PostgreSQL 14+) already wrote the pages frozen and
    # all-visible, so a VACUUM would only re-read them; the planner needs the statistics.
    analyze_started = time.perf_counter()
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        for table in LOADED_TABLES:
            table_started = time.perf_counter()
            conn.execute(f"ANALYZE {table}")
            if (took := time.perf_counter() - table_started) > 0.5:
                log(f"    {took:4.1f} s  ANALYZE {table}")
    analyze_seconds = time.perf_counter() - analyze_started
    seconds = time.perf_counter() - started
    rows = sum(t["rows"] for t in copier.tables.values())
    machine_after, self_after = machine_cpu(), resource.getrusage(resource.RUSAGE_SELF)
    python_seconds = (self_after.ru_utime - self_before.ru_utime) + (self_after.ru_stime - self_before.ru_stime)
    machine_busy = machine_after[0] - machine_before[0]
    stats = {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "copy_seconds": round(copy_seconds, 2),
        "copy_rows_per_s": round(rows / copy_seconds),
        "index_and_fk_rebuild_seconds": round(rebuild_seconds, 2),
        "analyze_seconds": round(analyze_seconds, 2),
        "method": "one transaction: TRUNCATE, drop secondary indexes and foreign keys, psycopg 3 cursor.copy "
        "(text format, FREEZE) of rows generated in Python while PostgreSQL ingests, rebuild indexes and "
        "foreign keys, commit; then ANALYZE. rows_per_s counts all of it.",
        "cpu_seconds": {
            "python_generator": round(python_seconds, 1),
            "postgres_backend": round(backend_seconds, 1),
            "whole_machine": round(machine_busy, 1),
            "note": "whole_machine minus the two is other work on the machine (and parallel index-build workers)",
        },
        "tables": copier.tables,
        "loaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    with psycopg.connect(args.database_url) as conn:
        conn.execute("CREATE TABLE bench_dataset (customers int, touchpoints int, seed bigint, stats jsonb)")
        conn.execute(
            "INSERT INTO bench_dataset VALUES (%s, %s, %s, %s)",
            [args.customers, args.touchpoints, args.seed, Jsonb(stats)],
        )
    return stats


def loaded_stats(args) -> dict | None:
    """The stats of the last load when the database holds the data set asked for, else None."""
    with psycopg.connect(args.database_url) as conn:
        if conn.execute("SELECT to_regclass('bench_dataset')").fetchone()[0] is None:
            return None
        row = conn.execute("SELECT customers, touchpoints, seed, stats FROM bench_dataset").fetchone()
        if row is None or row[:3] != (args.customers, args.touchpoints, args.seed):
            return None
        customers = conn.execute("SELECT count(*) FROM core_customer").fetchone()[0]
        touchpoints = conn.execute("SELECT count(*) FROM core_touchpoint").fetchone()[0]
        return row[3] if (customers, touchpoints) == (args.customers, args.touchpoints) else None


def dataset_profile(args) -> dict:
    with psycopg.connect(args.database_url) as conn:
        per_customer = sorted(
            n for (n,) in conn.execute("SELECT count(*) FROM core_touchpoint GROUP BY customer_id").fetchall()
        )
        heavy = [
            cid
            for (cid,) in conn.execute(
                "SELECT customer_id FROM core_touchpoint GROUP BY customer_id HAVING count(*) >= %s ORDER BY 1",
                [HEAVY_MIN_TOUCHPOINTS],
            ).fetchall()
        ]
        ids = [cid for (cid,) in conn.execute("SELECT id FROM core_customer ORDER BY id").fetchall()]
        surnames = [n for (n,) in conn.execute("SELECT DISTINCT family_name FROM core_customer ORDER BY 1").fetchall()]
        addresses = conn.execute("SELECT count(*) FROM core_customeraddress").fetchone()[0]
        sizes = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('core_touchpoint')), "
            "pg_size_pretty(pg_total_relation_size('core_customer'))"
        ).fetchone()
    with_touchpoints = len(per_customer)
    return {
        "customers": len(ids),
        "addresses": addresses,
        "touchpoints": sum(per_customer),
        "customers_with_touchpoints": with_touchpoints,
        "touchpoints_per_customer": {
            "p50": per_customer[with_touchpoints // 2],
            "p99": per_customer[min(with_touchpoints - 1, int(with_touchpoints * 0.99))],
            "max": per_customer[-1],
        },
        "heavy_customers": len(heavy),
        "heavy_threshold": HEAVY_MIN_TOUCHPOINTS,
        "table_size": {"core_touchpoint": sizes[0], "core_customer": sizes[1]},
        "_ids": ids,
        "_heavy": heavy,
        "_surnames": surnames,
    }


# --- sessions, paths --------------------------------------------------------------------------


def manager_sessions(count: int) -> list[str]:
    """Staff users in the manager group, each signed in with a Django session (SessionAuthentication)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group
    from django.contrib.sessions.models import Session

    session_store = import_module(settings.SESSION_ENGINE).SessionStore

    from core.models import User

    manager = Group.objects.get(name="manager")
    Session.objects.all().delete()
    keys = []
    for i in range(1, count + 1):
        user, created = User.objects.get_or_create(
            username=f"bench-manager-{i}",
            defaults={
                "email": f"bench-manager-{i}@staff.example",
                "is_staff": True,
                "first_name": "Bench",
                "last_name": f"Manager {i}",
            },
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(manager)
        session = session_store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys


def drf_cursor(position: str) -> str:
    """The cursor DRF's CursorPagination would hand out for the page after `position`."""
    return quote(base64.b64encode(urlencode({"p": position}).encode("ascii")).decode("ascii"), safe="")


ENDPOINTS = ("customer_list", "customer_detail", "customer_timeline")


def make_paths(profile: dict, seed: int) -> dict[str, dict[str, list[str]]]:
    """For each endpoint, the same random rows for the API and for its raw twin."""
    rng = random.Random(seed + 1)
    ids, heavy, surnames = profile["_ids"], profile["_heavy"] or profile["_ids"], profile["_surnames"]
    paths: dict[str, dict[str, list[str]]] = {e: {"api": [], "raw": []} for e in ENDPOINTS}
    for _ in range(PATHS_PER_ENDPOINT):
        if rng.random() < 0.1:
            paths["customer_list"]["api"].append("/api/v1/customers/")
            paths["customer_list"]["raw"].append("/bench/raw/customers/")
        else:
            name = rng.choice(surnames)
            paths["customer_list"]["api"].append(f"/api/v1/customers/?cursor={drf_cursor(name)}")
            paths["customer_list"]["raw"].append(f"/bench/raw/customers/?after={quote(name)}")
        cid = rng.choice(ids)
        paths["customer_detail"]["api"].append(f"/api/v1/customers/{cid}/")
        paths["customer_detail"]["raw"].append(f"/bench/raw/customers/{cid}/")
        cid = rng.choice(heavy) if rng.random() < 0.5 else rng.choice(ids)
        paths["customer_timeline"]["api"].append(f"/api/v1/customers/{cid}/timeline/")
        paths["customer_timeline"]["raw"].append(f"/bench/raw/customers/{cid}/timeline/")
    return paths


# --- queries per request, EXPLAIN -------------------------------------------------------------

AUTH_MARKERS = ('"django_session"', '"auth_permission"', 'FROM "core_user" WHERE "core_user"."id"')


def explain(query: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}")
        plan = [row[0] for row in cursor.fetchall()]
    execution = next((line for line in plan if line.startswith("Execution Time")), "")
    return {"sql": query[:600], "execution_ms": float(execution.split()[2]) if execution else None, "plan": plan}


def measure_queries(session_key: str, samples: dict[str, tuple[str, str]]) -> tuple[dict, dict, list[str]]:
    """Queries per request for each sample path (API and raw), EXPLAIN ANALYZE of the API's data
    queries, and whether the raw twin returns the same rows and columns."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies["sessionid"] = session_key
    counts: dict[str, dict] = {}
    plans: dict[str, list] = {}
    mismatches: list[str] = []
    for name, (api_path, raw_path) in samples.items():
        bodies = {}
        for variant, path in (("api", api_path), ("raw", raw_path)):
            client.get(path)  # warm the per-process caches (URL resolver, content types) first
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}: {response.content[:300]!r}")
            bodies[variant] = json.loads(response.content)
            sqls = [q["sql"] for q in ctx.captured_queries]
            auth = [s for s in sqls if any(m in s for m in AUTH_MARKERS)]
            counts.setdefault(name, {})[variant] = {
                "path": path,
                "queries": len(sqls),
                "auth_queries": len(auth),
                "data_queries": len(sqls) - len(auth),
                "sql": [s[:300] for s in sqls],
            }
            if variant == "api":
                plans[name] = [explain(s) for s in sqls if s not in auth]
        mismatches += compare(name, bodies["api"], bodies["raw"])
    return counts, plans, mismatches


def compare(name: str, api: dict, raw: dict) -> list[str]:
    problems = []
    if "results" in api:
        a, r = api["results"], raw["results"]
        if [x["id"] for x in a] != [x["id"] for x in r]:
            problems.append(f"{name}: the raw view returns other rows")
        if a and r and set(a[0]) != set(r[0]):
            problems.append(f"{name}: columns differ: {sorted(set(a[0]) ^ set(r[0]))}")
        if name == "customer_timeline" and [x["associate"] for x in a] != [x["associate"] for x in r]:
            problems.append(f"{name}: associates differ")
    else:
        if set(api) != set(raw):
            problems.append(f"{name}: columns differ: {sorted(set(api) ^ set(raw))}")
        if [x["id"] for x in api["addresses"]] != [x["id"] for x in raw["addresses"]] or api["etag"] != raw["etag"]:
            problems.append(f"{name}: addresses or etag differ")
    return problems


# --- HTTP server and load ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(args, env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "core.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    cmd += ["--workers", str(args.workers), "--log-level", "warning", "--error-logfile", str(log_path)]
    cmd += ["--timeout", "60", "--graceful-timeout", "5"]
    if args.threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(args.threads)]
    log(f"starting gunicorn: {' '.join(cmd[2:])}")
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log_path}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/bench/raw/customers/")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
            conn.close()
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_gunicorn(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    log("gunicorn stopped")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, from /proc (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / CLOCK_TICKS, sum(ticks) / CLOCK_TICKS


def wait_quiet(max_wait: float, threshold_pct: float = 15.0) -> dict:
    """Before a measured run, wait up to max_wait seconds for the machine to be idle (busy below
    threshold_pct over a 2 s sample, while the bench itself is idle), so that other work on a
    shared machine disturbs the figures less. Returns how long it waited and how busy it was."""
    started = time.monotonic()
    busy_pct = None
    while True:
        busy0, total0 = machine_cpu()
        time.sleep(2)
        busy1, total1 = machine_cpu()
        busy_pct = 100 * (busy1 - busy0) / max(1e-9, total1 - total0)
        if busy_pct < threshold_pct or time.monotonic() - started >= max_wait:
            return {"waited_s": round(time.monotonic() - started, 1), "idle_machine_busy_pct": round(busy_pct, 1)}


class CpuMeter:
    """CPU spent during a load run by the gunicorn workers, by the PostgreSQL backends serving the
    bench database, by the load generator, and by everything else on the machine (other work on a
    shared machine shows up there, and explains a noisy run)."""

    def __init__(self, gunicorn_pid: int, database_url: str):
        self.gunicorn_pid = gunicorn_pid
        self.database_url = database_url

    def backends(self) -> list[int]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        return [pid for (pid,) in rows]

    def sample(self) -> dict:
        workers = [self.gunicorn_pid, *children_of(self.gunicorn_pid)]
        backends = self.backends()
        busy, total = machine_cpu()
        return {
            "django": {pid: process_cpu_seconds(pid) for pid in workers},
            "postgres": {pid: process_cpu_seconds(pid) for pid in backends},
            "loadgen": resource.getrusage(resource.RUSAGE_CHILDREN),
            "self": resource.getrusage(resource.RUSAGE_SELF),
            "busy": busy,
            "total": total,
        }

    def report(self, before: dict, requests: int) -> dict:
        after = self.sample()

        def delta(kind: str) -> float:
            # backends opened during the run count from zero; ones closed during it are missed
            return sum(v - before[kind].get(pid, 0.0) for pid, v in after[kind].items())

        def rusage(kind: str) -> float:
            a, b = after[kind], before[kind]
            return (a.ru_utime - b.ru_utime) + (a.ru_stime - b.ru_stime)

        django_s, postgres_s = delta("django"), delta("postgres")
        loadgen_s = rusage("loadgen") + rusage("self")
        busy, total = after["busy"] - before["busy"], after["total"] - before["total"]
        other_s = max(0.0, busy - django_s - postgres_s - loadgen_s)
        per_request = 1000 / max(1, requests)
        return {
            "cpu_ms_per_request": {
                "django": round(django_s * per_request, 2),
                "postgres": round(postgres_s * per_request, 2),
                "loadgen": round(loadgen_s * per_request, 2),
            },
            "machine_busy_pct": round(100 * busy / total, 1) if total else None,
            "other_processes_cpu_pct": round(100 * other_s / total, 1) if total else None,
        }


def summarize(requests: int, seconds: float, latencies_ms: dict, errors: dict) -> dict:
    return {
        "requests": requests,
        "seconds": round(seconds, 2),
        "requests_per_s": round(requests / seconds, 1) if seconds else 0.0,
        **{f"{k}_ms": round(v, 2) for k, v in latencies_ms.items()},
        "errors": errors,
    }


def run_wrk(args, port: int, paths_file: Path, cookies_file: Path, duration: float, concurrency: int) -> dict:
    threads = max(1, min(args.wrk_threads, concurrency))
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(concurrency),
        "-d",
        f"{max(1, round(duration))}s",
        "--timeout",
        "10s",
    ]
    cmd += ["-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}", "--", str(paths_file), str(cookies_file)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120, check=True).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    lat = {k: v / 1000 for k, v in data["latency_us"].items()}
    errors = {k: v for k, v in data["errors"].items() if v}
    return summarize(data["requests"], data["duration_us"] / 1e6, lat, errors)


def run_python_load(port: int, paths: list[str], cookies: list[str], duration: float, concurrency: int) -> dict:
    """Fallback when wrk is missing: keep-alive http.client connections, one thread each. It shares
    the GIL and the two cores with the server, so its figures are lower than wrk's."""
    deadline = time.perf_counter() + duration
    lock = threading.Lock()
    latencies: list[float] = []
    errors = {"status": 0, "connect": 0}

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        bad = {"status": 0, "connect": 0}
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                conn.request("GET", rng.choice(paths), headers={"Cookie": f"sessionid={rng.choice(cookies)}"})
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    bad["status"] += 1
            except (OSError, http.client.HTTPException):
                bad["connect"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append((time.perf_counter() - t0) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in bad.items():
                errors[k] += v

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[max(0, math.ceil(p / 100 * len(latencies)) - 1)] if latencies else 0.0

    lat = {
        "mean": sum(latencies) / max(1, len(latencies)),
        "p50": pct(50),
        "p90": pct(90),
        "p95": pct(95),
        "p99": pct(99),
    }
    lat["max"] = latencies[-1] if latencies else 0.0
    return summarize(len(latencies), seconds, lat, {k: v for k, v in errors.items() if v})


# --- main -------------------------------------------------------------------------------------


def machine() -> dict:
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    loadgen = args.loadgen
    if loadgen == "auto":
        loadgen = "wrk" if shutil.which("wrk") else "python"
    elif loadgen == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk, or use --loadgen python")
    secret_key = secrets.token_urlsafe(50)
    env = django_env(args, secret_key)
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DATABASE_URL",
                "CACHE_URL",
                "DJANGO_SETTINGS_MODULE",
                "DEBUG",
                "SECRET_KEY",
                "ALLOWED_HOSTS",
                "LOG_LEVEL",
            )
        }
    )
    os.environ.pop("AFTERCARE_PRODUCTION", None)
    total_started = time.perf_counter()

    ensure_database(args.database_url)
    log("migrating")
    migrate_seconds = migrate(env)

    stats = None if args.reload else loaded_stats(args)
    reused = stats is not None
    if reused:
        log(
            f"reusing the loaded data set ({args.customers:,} customers, {args.touchpoints:,} touchpoints); "
            "--reload reloads it"
        )
    else:
        log(f"loading {args.customers:,} customers and {args.touchpoints:,} touchpoints")
        stats = load_dataset(args)
        log(f"loaded {stats['rows']:,} rows in {stats['seconds']} s: {stats['rows_per_s']:,} rows/s")

    if args.load_only:
        print(json.dumps({"loading": stats | {"measured_this_run": not reused}}, indent=2))
        return 0

    import django

    django.setup()
    import django.db
    from django.conf import settings

    profile = dataset_profile(args)
    cookies = manager_sessions(MANAGER_USERS)
    paths = make_paths(profile, args.seed)
    with django.db.connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]

    heavy_id = max(profile["_heavy"] or profile["_ids"])
    light_id = profile["_ids"][len(profile["_ids"]) // 3]
    sample_name = profile["_surnames"][len(profile["_surnames"]) // 2]
    samples = {
        "customer_list": (
            f"/api/v1/customers/?cursor={drf_cursor(sample_name)}",
            f"/bench/raw/customers/?after={quote(sample_name)}",
        ),
        "customer_detail": (f"/api/v1/customers/{light_id}/", f"/bench/raw/customers/{light_id}/"),
        "customer_timeline": (f"/api/v1/customers/{heavy_id}/timeline/", f"/bench/raw/customers/{heavy_id}/timeline/"),
        "customer_timeline_light": (
            f"/api/v1/customers/{light_id}/timeline/",
            f"/bench/raw/customers/{light_id}/timeline/",
        ),
    }
    log("counting queries per request and running EXPLAIN ANALYZE")
    query_counts, plans, mismatches = measure_queries(cookies[0], samples)
    for problem in mismatches:
        log(f"WARNING: {problem}")
    django.db.connections.close_all()

    port = args.port or free_port()
    endpoints: dict[str, dict] = {}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    gunicorn = None
    with tempfile.TemporaryDirectory(prefix="timeline-bench-") as tmp:
        tmpdir = Path(tmp)
        cookies_file = tmpdir / "cookies.txt"
        cookies_file.write_text("\n".join(cookies) + "\n")
        files = {}
        for endpoint, variants in paths.items():
            for variant, plist in variants.items():
                files[endpoint, variant] = tmpdir / f"{endpoint}-{variant}.txt"
                files[endpoint, variant].write_text("\n".join(plist) + "\n")
        mixed = [p for variants in paths.values() for plist in variants.values() for p in plist[:2000]]
        files["warmup", "mixed"] = tmpdir / "warmup.txt"
        files["warmup", "mixed"].write_text("\n".join(mixed) + "\n")

        def load(key, duration, concurrency=args.concurrency):
            if loadgen == "wrk":
                return run_wrk(args, port, files[key], cookies_file, duration, concurrency)
            return run_python_load(port, files[key].read_text().split(), cookies, duration, concurrency)

        try:
            gunicorn = start_gunicorn(args, env, port, tmpdir / "gunicorn.log")
            if args.warmup > 0:
                log(f"warming up for {args.warmup:.0f} s")
                load(("warmup", "mixed"), args.warmup)
            meter = CpuMeter(gunicorn.pid, args.database_url)
            runs: dict[str, dict[str, list]] = {e: {"api": [], "raw": []} for e in ENDPOINTS}
            for round_no in range(1, args.rounds + 1):
                for endpoint in ENDPOINTS:
                    for variant in ("api", "raw"):
                        log(
                            f"round {round_no}/{args.rounds}: {endpoint} ({variant}) for {args.duration:.0f} s "
                            f"at concurrency {args.concurrency}"
                        )
                        quiet = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else {}
                        loadavg = os.getloadavg()[0]
                        before = meter.sample()
                        result = load((endpoint, variant), args.duration)
                        result |= meter.report(before, result["requests"]) | {"loadavg_1m_before": round(loadavg, 2)}
                        result |= quiet
                        runs[endpoint][variant].append(result)
                        log(
                            f"  {result['requests_per_s']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
                            f"p95 {result['p95_ms']:.1f} ms, errors {result['errors'] or 'none'}, "
                            f"CPU ms/request {result['cpu_ms_per_request']}, other processes "
                            f"{result['other_processes_cpu_pct']}% of the machine"
                        )
            probes: dict[str, dict] = {}
            if args.probe_duration > 0:
                for endpoint in ENDPOINTS:
                    for variant in ("api", "raw"):
                        log(f"probe: {endpoint} ({variant}) for {args.probe_duration:.0f} s at concurrency 1")
                        if args.wait_quiet > 0:
                            wait_quiet(args.wait_quiet)
                        probe = load((endpoint, variant), args.probe_duration, 1)
                        probes.setdefault(endpoint, {})[variant] = {
                            k: probe[k] for k in ("requests_per_s", "p50_ms", "p95_ms", "p99_ms", "errors")
                        }
                        log(f"  p50 {probe['p50_ms']:.1f} ms, p95 {probe['p95_ms']:.1f} ms")
            for endpoint in ENDPOINTS:
                best = {v: max(runs[endpoint][v], key=lambda r: r["requests_per_s"]) for v in ("api", "raw")}
                endpoints[endpoint] = {
                    **best,
                    "throughput_ratio": round(best["api"]["requests_per_s"] / best["raw"]["requests_per_s"], 3),
                    "queries_per_request": {v: query_counts[endpoint][v]["queries"] for v in ("api", "raw")},
                }
                if endpoint in probes:
                    endpoints[endpoint]["at_concurrency_1"] = probes[endpoint]
                if args.rounds > 1:
                    endpoints[endpoint]["all_rounds"] = runs[endpoint]
                    endpoints[endpoint]["throughput_ratio_per_round"] = [
                        round(a["requests_per_s"] / r["requests_per_s"], 3)
                        for a, r in zip(runs[endpoint]["api"], runs[endpoint]["raw"], strict=True)
                    ]
            gunicorn_log = (tmpdir / "gunicorn.log").read_text()[-4000:]
        finally:
            stop_gunicorn(gunicorn)

    timeline_p95 = endpoints["customer_timeline"]["api"]["p95_ms"]
    targets = {
        "timeline_p95_under_50ms": {
            "value_ms": timeline_p95,
            "met": timeline_p95 < TARGET_TIMELINE_P95_MS,
            "at_concurrency": args.concurrency,
            "p95_ms_at_concurrency_1": endpoints["customer_timeline"]
            .get("at_concurrency_1", {})
            .get("api", {})
            .get("p95_ms"),
        },
        **{
            f"{e}_at_least_half_raw_throughput": {
                "ratio": endpoints[e]["throughput_ratio"],
                "met": endpoints[e]["throughput_ratio"] >= TARGET_RATIO,
            }
            for e in ENDPOINTS
        },
        "loading_at_least_50000_rows_per_s": {
            "rows_per_s": stats["rows_per_s"],
            "met": stats["rows_per_s"] >= TARGET_LOAD_ROWS_PER_S,
        },
        "no_http_errors": {"met": not any(endpoints[e][v]["errors"] for e in ENDPOINTS for v in ("api", "raw"))},
        "raw_views_return_the_api_rows": {"met": not mismatches, "problems": mismatches},
    }
    result = {
        "benchmark": "timeline",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {**machine(), "postgresql": pg_version},
        "config": {
            "customers": args.customers,
            "touchpoints": args.touchpoints,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "probe_duration_s": args.probe_duration,
            "concurrency": args.concurrency,
            "rounds": args.rounds,
            "wait_quiet_s": args.wait_quiet,
            "gunicorn": {
                "workers": args.workers,
                "worker_class": "gthread" if args.threads > 1 else "sync",
                "threads": args.threads,
            },
            "loadgen": loadgen if loadgen == "python" else f"wrk -t{max(1, min(args.wrk_threads, args.concurrency))}",
            "database": database_name(args.database_url),
            "debug": settings.DEBUG,
            "session_users": MANAGER_USERS,
            "page_size": PAGE_SIZE,
        },
        "dataset": {k: v for k, v in profile.items() if not k.startswith("_")} | {"reused": reused},
        "loading": stats | {"measured_this_run": not reused},
        "migrate_seconds": round(migrate_seconds, 1),
        "endpoints": endpoints,
        "targets": targets,
        "all_targets_met": all(t["met"] for t in targets.values()),
        "queries": query_counts,
        "explain": plans,
        "gunicorn_log_tail": gunicorn_log,
        "total_seconds": round(time.perf_counter() - total_started, 1),
    }
    output = args.output or RESULTS_DIR / f"timeline-{dt.datetime.now(dt.UTC).strftime('%Y-%m-%dT%H%M%SZ')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    log(f"written {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
