"""Load a believable demo retailer: `python manage.py seed_demo [--customers N]`.

What is built lives in `core.demo` (the retailer and its customers) and in each app's `demo.py` (its
part of every customer's story, see `core.demo.registry`); this command runs them in one transaction,
creating only what is missing, and says what it created and how to sign in.
"""

from collections import Counter

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.choices import Role
from core.demo.customers import app_customer, finish_stories, generated_customers, missing_numbers
from core.demo.registry import customer_story_steps
from core.demo.staff import DEMO_LOGINS, DEMO_PASSWORD
from core.demo.world import ensure_world
from core.demo.writer import Batch, gc_paused

SITE_URL = "http://127.0.0.1:8000/"
CUSTOMERS_PER_CHUNK = 2000  # bounds memory: a chunk's rows are built, then written, then dropped


def seed_demo(*, customers: int) -> Counter:
    """Create whatever part of the demo data set is missing. Returns the number of rows created per kind."""
    counts: Counter = Counter()
    with transaction.atomic():
        world = ensure_world(counts)
        steps = customer_story_steps()

        def tell(batch: Batch) -> None:
            for step in steps:
                step(world, batch)
            finish_stories(batch)
            batch.write(counts)

        if (batch := app_customer(world)) is not None:
            tell(batch)
        missing = missing_numbers(customers)
        with gc_paused():
            for start in range(0, len(missing), CUSTOMERS_PER_CHUNK):
                tell(generated_customers(missing[start : start + CUSTOMERS_PER_CHUNK], world))
    return counts


class Command(BaseCommand):
    help = "Load a believable demo retailer (stores, catalogue, staff logins, customers and their stories)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers",
            type=int,
            default=200,
            help="How many generated customers the demo should have in total (default 200).",
        )

    def handle(self, *args, customers: int, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to load demo data (with published passwords) in production.")
        if customers < 0:
            raise CommandError("--customers must be zero or more.")
        counts = seed_demo(customers=customers)
        created = ", ".join(f"{n} {label}" for label, n in counts.items() if n) or "nothing (already seeded)"
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Created: {created}."))
        self.stdout.write(
            f"\nOpen {SITE_URL} (Django admin: {SITE_URL}admin/). Demo logins, password {DEMO_PASSWORD!r}:"
        )
        for spec in DEMO_LOGINS:
            role = Role(spec.role).label if spec.role else "Customer (retailer's app)"
            self.stdout.write(f"  {role:<26} {spec.email}")
