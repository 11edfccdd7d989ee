"""Availability at a busy store on PostgreSQL: 50 associates with the skill, 14 days, 2,000
appointments already booked; and 20 concurrent bookings of one slot.

    .venv/bin/python bench/availability_bench.py [--associates 50] [--appointments 2000] [--rounds 30]

Steps: create and migrate its own database (default `aftercare_availability_bench`); build one
store in Europe/Amsterdam, a service type needing one skill (90 minutes, 30 minutes travel),
`--associates` associates with the skill working Monday to Saturday 08:00–18:00 (every fifth one a
half day on Fridays, every tenth one a day of leave in the period), and `--appointments` holding
appointments spread over their free time in the 14 days starting next Monday; then time
`installations.selectors.free_slots` for the 14 days (in process, `--rounds` times after a
warm-up) with its queries, and release 20 threads, each on its own connection, that book the same
slot at once: exactly one must get it and the other 19 a clean 409 (`slot_taken`). Prints JSON
(also bench/results/availability-<date>.json); progress goes to stderr. See bench/README.md.
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
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.timeline_bench import (  # noqa: E402 -- ROOT must be importable first
    DEFAULT_CACHE_URL,
    RESULTS_DIR,
    django_env,
    ensure_database,
    log,
    machine,
    migrate,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/aftercare_availability_bench"
TARGET_P95_MS = 200.0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=os.environ.get("BENCH_AVAILABILITY_DATABASE_URL", DEFAULT_DATABASE_URL))
    p.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL))
    p.add_argument("--associates", type=int, default=50)
    p.add_argument("--appointments", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--racers", type=int, default=20)
    p.add_argument("--seed", type=int, default=20261201)
    return p.parse_args(argv)


def build(args):
    """A fresh store with its people and their booked appointments (earlier runs' rows stay, in
    stores of their own)."""
    from django.contrib.auth.models import Group
    from django.db import transaction

    from core.models import AssociateProfile, Category, Customer, Location, Product, Skill, User
    from installations.models import Absence, Appointment, ServiceType, WorkingHours
    from orders.models import Order, OrderLine

    rng = random.Random(args.seed)
    run = secrets.token_hex(3)
    zone = ZoneInfo("Europe/Amsterdam")
    today = dt.datetime.now(zone).date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    with transaction.atomic():
        store = Location.objects.create(
            code=f"AV{run}",
            name=f"Availability bench {run}",
            kind="store",
            address_line1="1 Bench Street",
            city="Amsterdam",
            postcode="1011AA",
            country="NL",
            latitude=52.37,
            longitude=4.89,
            time_zone="Europe/Amsterdam",
        )
        skill, _ = Skill.objects.get_or_create(code="bench-wiring", defaults={"name": "Wiring"})
        category, _ = Category.objects.get_or_create(slug="bench-appliances", defaults={"name": "Appliances"})
        service = ServiceType.objects.create(
            code=f"bench-oven-{run}",
            name="Oven installation",
            kind="installation",
            place="home",  # a home visit: its travel is kept free on either side
            category=category,
            duration_minutes=90,
            travel_buffer_minutes=30,
        )
        service.skills.add(skill)
        group = Group.objects.get(name="associate")
        profiles = []
        for i in range(args.associates):
            user = User.objects.create(
                username=f"av-{run}-{i}", email=f"av-{run}-{i}@bench.example", first_name=f"A{i}"
            )
            user.groups.add(group)
            profile = AssociateProfile.objects.create(user=user, employee_code=f"AV{run}{i:03d}", home_location=store)
            profile.skills.add(skill)
            profiles.append(profile)
            hours = []
            for weekday in range(6):
                ends = dt.time(13) if weekday == 4 and i % 5 == 0 else dt.time(18)
                hours.append(WorkingHours(associate=profile, weekday=weekday, starts=dt.time(8), ends=ends))
            WorkingHours.objects.bulk_create(hours)
            if i % 10 == 0:
                day = monday + dt.timedelta(days=rng.randrange(12))
                Absence.objects.create(
                    associate=profile,
                    starts_at=dt.datetime.combine(day, dt.time(0), tzinfo=zone),
                    ends_at=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone),
                    reason="leave",
                )
        product = Product.objects.create(sku=f"AV-{run}", name="Steam oven", category=category, price=899)
        customer = Customer.objects.create(given_name="Bench", family_name=f"Customer {run}")
        order = Order.objects.create(
            customer=customer, channel="store", location=store, total=899 * (args.appointments + 1)
        )
        # one line for the booked appointments, a unit each (the racers bring purchases of their own)
        line = OrderLine.objects.create(order=order, product=product, quantity=args.appointments, unit_price=899)
        # appointments on a grid that never overlaps per associate: each working day has four
        # blocks of 2.5 hours (08:00, 10:30, 13:00, 15:30: travel, 90 min job, travel) within
        # the associate's hours; a random selection of them is booked
        blocks = [
            (profile, monday + dt.timedelta(days=d), start)
            for i, profile in enumerate(profiles)
            for d in range(14)
            if (monday + dt.timedelta(days=d)).weekday() < 6
            for start in (dt.time(8), dt.time(10, 30), dt.time(13), dt.time(15, 30))
            if not (i % 5 == 0 and (monday + dt.timedelta(days=d)).weekday() == 4 and start >= dt.time(13))
        ]
        rng.shuffle(blocks)
        rows = []
        for profile, day, block in blocks[: args.appointments]:
            start = dt.datetime.combine(day, block, tzinfo=zone) + dt.timedelta(minutes=30)
            rows.append(
                Appointment(
                    order_line=line,
                    customer=customer,
                    service_type=service,
                    associate=profile,
                    location=store,
                    starts_at=start,
                    ends_at=start + dt.timedelta(minutes=90),
                    blocked_from=start - dt.timedelta(minutes=30),
                    blocked_until=start + dt.timedelta(minutes=120),
                )
            )
        Appointment.objects.bulk_create(rows, batch_size=1000)
    log(f"built store {store.code}: {len(profiles)} associates, {len(rows)} appointments from {monday}")
    return store, service, profiles, line, monday, len(rows)


def time_availability(store, service, monday, rounds) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from installations.selectors import free_slots

    def once():
        return free_slots(
            service_type=service, location=store, date_from=monday, date_to=monday + dt.timedelta(days=13)
        )

    slots = once()  # warm-up
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        once()
        samples.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        once()
    samples.sort()
    return {
        "slots": len(slots),
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, round(0.95 * len(samples)) - 1)], 1),
        "max_ms": round(samples[-1], 1),
        "queries": len(ctx),
    }


def race(service, profiles, line, monday, racers) -> dict:
    """`racers` customers (each with a purchase of their own) book the first free slot of one
    associate at once."""
    from django.db import connection

    from core.errors import Conflict
    from core.models import CustomerAddress
    from installations.models import Appointment
    from installations.selectors import free_slots
    from installations.services import appointment_book
    from orders.models import Order, OrderLine

    store = profiles[0].home_location
    target = free_slots(
        service_type=service,
        location=store,
        date_from=monday,
        date_to=monday + dt.timedelta(days=13),
        associate_ids=[profiles[1].pk],
    )[0]
    address = CustomerAddress.objects.create(
        customer=line.order.customer, line1="1 Bench Street", city="Amsterdam", postcode="1011AA", country="NL"
    )
    purchases = []
    for _ in range(racers):
        order = Order.objects.create(customer=line.order.customer, channel="store", location=store, total=899)
        purchases.append(OrderLine.objects.create(order=order, product=line.product, quantity=1, unit_price=899))
    barrier = threading.Barrier(racers)
    booked, refused, errors = [], [], []
    lock = threading.Lock()

    def run(purchase):
        try:
            barrier.wait()
            appointment = appointment_book(
                actor=None,
                order_line=purchase,
                service_type=service,
                associate=profiles[1],
                starts_at=target.starts_at,
                address=address,
            )
            with lock:
                booked.append(appointment.pk)
        except Conflict as exc:
            with lock:
                refused.append(exc.code)
        except Exception as exc:  # anything else is a failure of the guarantee: report it
            with lock:
                errors.append(repr(exc))
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(purchase,)) for purchase in purchases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    holding = Appointment.objects.filter(
        associate=profiles[1], starts_at=target.starts_at, status__in=["scheduled", "in_progress"]
    ).count()
    return {
        "racers": racers,
        "booked": len(booked),
        "refused_409": len(refused),
        "refusal_codes": sorted(set(refused)),
        "errors": errors,
        "appointments_at_that_time": holding,
        "seconds": round(seconds, 3),
        "exact": len(booked) == 1 and len(refused) == racers - 1 and not errors and holding == 1,
    }


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
    store, service, profiles, line, monday, appointments = build(args)
    availability = time_availability(store, service, monday, args.rounds)
    log(f"availability over 14 days: p50 {availability['p50_ms']} ms, p95 {availability['p95_ms']} ms")
    contention = race(service, profiles, line, monday, args.racers)
    log(f"race: {contention['booked']} booked, {contention['refused_409']} refused, exact={contention['exact']}")
    result = {
        "machine": machine(),
        "associates": len(profiles),
        "appointments": appointments,
        "availability_14_days": availability,
        "concurrent_bookings": contention,
        "targets": {
            "availability_p95_under_200ms": availability["p95_ms"] < TARGET_P95_MS,
            "one_booking_and_clean_409s": contention["exact"],
        },
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"availability-{dt.datetime.now(dt.UTC):%Y-%m-%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))
    return 0 if contention["exact"] else 1


if __name__ == "__main__":
    sys.exit(main())
