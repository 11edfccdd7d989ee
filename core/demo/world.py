"""The retailer as the story steps read it: created where missing, then loaded once, so that building
a customer's rows needs no query."""

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from core.choices import LocationKind, Role
from core.demo.catalogue import PRODUCTS, ensure_catalogue, ensure_inventory
from core.demo.places import ensure_locations
from core.demo.staff import ensure_users, user_specs
from core.models import Location, Product, User


@dataclass
class World:
    """Everything the story steps read: places by code, products by SKU, users by e-mail, and who works where."""

    now: datetime
    locations: dict[str, Location]
    products: dict[str, Product]
    categories: dict[str, list[Product]]
    users: dict[str, User]
    staff_with_skill: dict[tuple[str, str], list[User]]
    staff_at: dict[str, list[User]]
    agents: list[User]
    pickup_points: dict[str, list[Location]]
    zones: dict[str, ZoneInfo] = field(default_factory=dict)
    memo: dict = field(default_factory=dict)  # rows an app's story step made once for this run (e.g. carriers)

    def zone(self, name: str) -> ZoneInfo:
        if name not in self.zones:
            self.zones[name] = ZoneInfo(name)
        return self.zones[name]

    def associate_for(self, rng: random.Random, store: str, skill: str = "") -> User | None:
        pool = self.staff_with_skill.get((store, skill)) if skill else None
        pool = pool or self.staff_at.get(store) or []
        return rng.choice(pool) if pool else None


def ensure_world(counts: Counter) -> World:
    """Create whatever part of the retailer is missing (places, catalogue, stock, staff) and load it.

    The clock is read once, to the minute: every story is told up to that moment and no further.
    """
    locations = ensure_locations(counts)
    skills, products = ensure_catalogue(counts)
    ensure_inventory(products, locations, counts)
    users = ensure_users(locations, skills, counts)
    now = timezone.now().replace(second=0, microsecond=0)

    by_category: dict[str, list[Product]] = defaultdict(list)
    for spec in PRODUCTS:
        by_category[spec.category].append(products[spec.sku])
    with_skill: dict[tuple[str, str], list[User]] = defaultdict(list)
    staff_at: dict[str, list[User]] = defaultdict(list)
    specs = user_specs()
    for spec in specs:
        if spec.role in (Role.ASSOCIATE, Role.MANAGER):
            staff_at[spec.home].append(users[spec.email])
        for skill in spec.skills:
            with_skill[(spec.home, skill)].append(users[spec.email])
    pickup_points: dict[str, list[Location]] = defaultdict(list)
    for loc in locations.values():
        if loc.kind in (LocationKind.LOCKER, LocationKind.PUDO, LocationKind.KIOSK):
            pickup_points[loc.country].append(loc)
    return World(
        now=now,
        locations=locations,
        products=products,
        categories=by_category,
        users=users,
        staff_with_skill=with_skill,
        staff_at=staff_at,
        agents=[users[s.email] for s in specs if s.role == Role.CUSTOMER_SERVICE],
        pickup_points=pickup_points,
    )
