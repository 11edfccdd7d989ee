"""Credit-voucher redemptions under contention on PostgreSQL: N simultaneous redemptions of one
voucher, each on its own connection, and the balance afterwards.

    .venv/bin/python bench/voucher_bench.py [--redemptions 50] [--rounds 3] [--http]

Steps: create and migrate the bench database (default `aftercare_voucher_bench`, its own); per
round, issue a fresh voucher through `voucher_issue` and release N threads at once (each already
connected, waiting at a barrier) that call `voucher_redeem` for the same voucher. Two scenarios a
round: "covered" (the voucher covers every redemption: all must succeed and the balance is
exactly what is left) and "overspent" (it covers fewer: exactly as many succeed as it covers, the
rest are refused, the balance ends at what no redemption could take). Every round checks that the
balance equals the sum of the ledger and that no redemption was lost or doubled. "sequential"
runs the same redemptions one after another on one connection, the cost without contention.
With `--http`, the covered scenario runs again through the API: gunicorn (bench.settings), N
concurrent connections POSTing `vouchers/{id}/redeem/` with their own Idempotency-Key, then every
request sent a second time with the same key (each must be replayed, none may spend again).
Prints JSON (also written to bench/results/voucher-<date>.json); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.timeline_bench import (  # noqa: E402 -- ROOT must be importable first
    DEFAULT_CACHE_URL,
    RESULTS_DIR,
    django_env,
    ensure_database,
    free_port,
    log,
    machine,
    manager_sessions,
    migrate,
    start_gunicorn,
    stop_gunicorn,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/aftercare_voucher_bench"
CSRF_TOKEN = "voucherbench" + "0" * 20  # 32 characters: Django accepts an unmasked token equal to the cookie


def parse_args(argv=None) -> argparse.Namespace:
    cpus = os.cpu_count() or 2
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--redemptions", type=int, default=50, help="simultaneous redemptions of one voucher")
    p.add_argument("--amount", default="1.37", help="amount of each redemption")
    p.add_argument("--rounds", type=int, default=3, help="rounds per scenario (a fresh voucher each)")
    p.add_argument("--http", action="store_true", help="also redeem through the API on gunicorn")
    p.add_argument("--workers", type=int, default=cpus + 1, help="gunicorn worker processes (--http)")
    p.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (--http)")
    p.add_argument("--database-url", default=os.environ.get("VOUCHER_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    p.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL))
    p.add_argument("--output", type=Path, default=None)
    args = p.parse_args(argv)
    if args.redemptions < 2:
        p.error("--redemptions must be at least 2 for contention")
    return args


# --- one round in threads -------------------------------------------------------------------------


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _latency(values_s: list[float]) -> dict:
    ms = [v * 1000 for v in values_s]
    if not ms:
        return {}
    return {
        "p50": round(statistics.median(ms), 1),
        "p95": round(_percentile(ms, 95), 1),
        "max": round(max(ms), 1),
    }


def issue_voucher(amount: Decimal):
    from core.models import Customer
    from returns.services.vouchers import voucher_issue

    run = uuid.uuid4().hex[:10]
    customer = Customer.objects.create(
        given_name="Bench",
        family_name=f"Voucher {run}",
        email=f"voucher-bench-{run}@example.com",
        time_zone="Europe/Amsterdam",
    )  # no consent: the issue message is suppressed, nothing is sent
    return voucher_issue(actor=None, customer=customer, amount=amount, currency="EUR", source="goodwill")


def check_ledger(voucher_id: int) -> dict:
    from django.db.models import Count, Sum

    from returns.models import Voucher, VoucherTransaction

    voucher = Voucher.objects.get(pk=voucher_id)
    rows = VoucherTransaction.objects.filter(voucher_id=voucher_id)
    totals = rows.aggregate(total=Sum("amount"), n=Count("id"))
    running, consistent = Decimal("0"), True
    for row in rows.order_by("id"):
        running += row.amount
        consistent &= row.balance_after == running and running >= 0
    return {
        "balance": voucher.balance,
        "ledger_sum": totals["total"],
        "status": voucher.status,
        "redemptions_in_ledger": rows.filter(kind="redeem").count(),
        "running_balances_consistent": consistent,
    }


def service_round(count: int, amount: Decimal, covered: int) -> dict:
    """`count` threads redeem `amount` each from a voucher worth `covered` redemptions (plus a
    remainder no redemption can take)."""
    from django.db import connection

    from core.errors import DomainError
    from returns.services.vouchers import voucher_redeem

    remainder = Decimal("0.01")
    voucher = issue_voucher(amount * covered + remainder)
    ready = threading.Barrier(count + 1)
    go = threading.Event()
    lock = threading.Lock()
    latencies, refusals, errors = [], {}, []
    finished = []

    def work():
        try:
            connection.ensure_connection()  # connect before the start: the figure is the contention, not the connects
            ready.wait()
            go.wait()
            started = time.perf_counter()
            try:
                voucher_redeem(actor=None, voucher=voucher, amount=amount, reference="bench")
                with lock:
                    latencies.append(time.perf_counter() - started)
            except DomainError as exc:
                with lock:
                    refusals[exc.code] = refusals.get(exc.code, 0) + 1
            with lock:
                finished.append(time.perf_counter())
        except Exception as exc:  # a bench reports, it does not hide
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    go.set()
    for t in threads:
        t.join()
    wall = (max(finished) if finished else time.perf_counter()) - t0
    succeeded = len(latencies)
    expected_ok = min(count, covered)
    expected_balance = amount * covered + remainder - amount * expected_ok
    ledger = check_ledger(voucher.pk)
    exact = (
        not errors
        and succeeded == expected_ok
        and ledger["balance"] == expected_balance == ledger["ledger_sum"]
        and ledger["redemptions_in_ledger"] == succeeded
        and ledger["running_balances_consistent"]
    )
    return {
        "redemptions": count,
        "succeeded": succeeded,
        "refused": refusals,
        "errors": errors,
        "seconds": round(wall, 4),
        "redemptions_per_s": round(succeeded / wall, 1) if wall else None,
        "latency_ms": _latency(latencies),
        "balance_expected": str(expected_balance),
        "balance": str(ledger["balance"]),
        "ledger_sum": str(ledger["ledger_sum"]),
        "status": ledger["status"],
        "exact": exact,
    }


def sequential_round(count: int, amount: Decimal) -> dict:
    """The same redemptions one after the other on one connection: the cost without contention."""
    from returns.services.vouchers import voucher_redeem

    voucher = issue_voucher(amount * count)
    latencies = []
    t0 = time.perf_counter()
    for _ in range(count):
        started = time.perf_counter()
        voucher_redeem(actor=None, voucher=voucher, amount=amount, reference="bench")
        latencies.append(time.perf_counter() - started)
    wall = time.perf_counter() - t0
    ledger = check_ledger(voucher.pk)
    return {
        "redemptions": count,
        "succeeded": count,
        "seconds": round(wall, 4),
        "redemptions_per_s": round(count / wall, 1),
        "latency_ms": _latency(latencies),
        "balance": str(ledger["balance"]),
        "ledger_sum": str(ledger["ledger_sum"]),
        "exact": ledger["balance"] == 0 == ledger["ledger_sum"] and ledger["running_balances_consistent"],
    }


# --- the same through the API -------------------------------------------------------------------


def http_round(port: int, session_key: str, count: int, amount: Decimal) -> dict:
    voucher = issue_voucher(amount * count)
    url = f"/api/v1/vouchers/{voucher.pk}/redeem/"
    body = json.dumps({"amount": str(amount), "reference": "bench"})
    keys = [str(uuid.uuid4()) for _ in range(count)]
    headers = {
        "Content-Type": "application/json",
        "Cookie": f"sessionid={session_key}; csrftoken={CSRF_TOKEN}",
        "X-CSRFToken": CSRF_TOKEN,
    }
    ready = threading.Barrier(count + 1)
    lock = threading.Lock()

    def send(key: str, results: list, finished: list):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.connect()
            ready.wait()
            started = time.perf_counter()
            conn.request("POST", url, body=body, headers={**headers, "Idempotency-Key": key})
            response = conn.getresponse()
            response.read()
            with lock:
                results.append(
                    (response.status, response.getheader("Idempotent-Replayed"), time.perf_counter() - started)
                )
                finished.append(time.perf_counter())
        finally:
            conn.close()

    def burst() -> tuple[list, float]:
        results, finished = [], []
        threads = [threading.Thread(target=send, args=(key, results, finished)) for key in keys]
        for t in threads:
            t.start()
        ready.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        return results, (max(finished) if finished else time.perf_counter()) - t0

    first, wall = burst()
    replayed, _ = burst()  # the same keys again: a client retrying after a lost response
    ok = [r for r in first if r[0] == 200]
    ledger = check_ledger(voucher.pk)
    return {
        "redemptions": count,
        "succeeded": len(ok),
        "statuses": sorted({str(r[0]) for r in first}),
        "seconds": round(wall, 4),
        "redemptions_per_s": round(len(ok) / wall, 1) if wall else None,
        "latency_ms": _latency([r[2] for r in ok]),
        "retries_replayed": sum(1 for r in replayed if r[0] == 200 and r[1] == "true"),
        "balance": str(ledger["balance"]),
        "ledger_sum": str(ledger["ledger_sum"]),
        "redemptions_in_ledger": ledger["redemptions_in_ledger"],
        "status": ledger["status"],
        "exact": len(ok) == count
        and ledger["balance"] == 0 == ledger["ledger_sum"]
        and ledger["redemptions_in_ledger"] == count
        and all(r[0] == 200 and r[1] == "true" for r in replayed),
    }


# --- main ---------------------------------------------------------------------------------------


def _best(rounds: list[dict]) -> dict:
    return max(rounds, key=lambda r: r["redemptions_per_s"] or 0)


def main(argv=None) -> int:
    args = parse_args(argv)
    amount = Decimal(args.amount)
    ensure_database(args.database_url)
    secret_key = secrets.token_urlsafe(50)
    env = django_env(args, secret_key)
    env["EMAIL_URL"] = "dummymail://"
    log("migrating")
    migrate(env)
    os.environ.update(env)
    import django

    django.setup()

    from django.db import connection

    n = args.redemptions
    result = {
        "benchmark": "voucher_redemptions",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "postgresql": connection.cursor().connection.info.server_version,
        "redemptions": n,
        "amount": str(amount),
        "scenarios": {},
    }
    connection.close()
    scenarios = {"covered": n, "overspent": max(1, (n * 4) // 5)}
    for name, covered in scenarios.items():
        rounds = []
        for i in range(args.rounds):
            log(f"{name}: round {i + 1}/{args.rounds}, {n} redemptions of {amount} on a voucher covering {covered}")
            rounds.append(service_round(n, amount, covered))
        result["scenarios"][name] = {"best": _best(rounds), "rounds": rounds}

    rounds = [sequential_round(n, amount) for _ in range(args.rounds)]
    result["scenarios"]["sequential"] = {"best": _best(rounds), "rounds": rounds}

    if args.http:
        session = manager_sessions(1)[0]
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            proc = start_gunicorn(args, env, port, Path(tmp) / "gunicorn.log")
            try:
                log("http: warm-up burst (imports, permissions and sessions cached in every worker)")
                http_round(port, session, n, amount)
                rounds = []
                for i in range(args.rounds):
                    log(f"http: round {i + 1}/{args.rounds}, {n} concurrent POSTs of redeem/")
                    rounds.append(http_round(port, session, n, amount))
                result["scenarios"]["http"] = {
                    "workers": args.workers,
                    "threads": args.threads,
                    "best": _best(rounds),
                    "rounds": rounds,
                }
            finally:
                stop_gunicorn(proc)

    every = [r for s in result["scenarios"].values() for r in s["rounds"]]
    result["all_exact"] = all(r["exact"] for r in every)
    result["redemptions_per_s"] = result["scenarios"]["covered"]["best"]["redemptions_per_s"]
    text = json.dumps(result, indent=2, default=str)
    print(text)
    output = args.output or RESULTS_DIR / f"voucher-{dt.datetime.now(dt.UTC):%Y-%m-%d}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n")
    log(f"written to {output}")
    return 0 if result["all_exact"] else 1


if __name__ == "__main__":
    sys.exit(main())
