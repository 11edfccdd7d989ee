"""One customer's story while its rows are built: the generator it is drawn from, local times, and
the touchpoints it records."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from core.choices import Channel, ContactChannel, TouchpointKind
from core.models import Customer, CustomerAddress, Touchpoint

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from django.db.models import Model

    from core.demo.world import World

TIMELINE_CHANNEL = {
    ContactChannel.EMAIL: Channel.EMAIL,
    ContactChannel.SMS: Channel.SMS,
    ContactChannel.PUSH: Channel.APP,
}
SAVED_LINKS = ("location", "associate", "product")


def _ids(links: dict) -> dict:
    """location=<Location> -> location_id=pk: linking saved rows by id is much cheaper, and this runs 60,000 times."""
    ids = {name: value for name, value in links.items() if name not in SAVED_LINKS}
    for name in SAVED_LINKS:
        if links.get(name) is not None:
            ids[f"{name}_id"] = links[name].pk
    return ids


@dataclass
class Story:
    """One customer while their rows are being built.

    `rng` is the customer's own generator, seeded with their demo number: core draws the person from
    it, then each app's step in INSTALLED_APPS order, then core again (`customers.finish_stories`), so
    customer 17 is the same person however many customers a run builds.
    """

    rng: random.Random
    world: World
    customer: Customer
    address: CustomerAddress
    home_store: str
    scripted: bool = False  # the app's demo customer: steps tell its scripted story, nothing random
    first_purchase_at: datetime | None = None  # set by the step that sells; the customer record predates it
    touchpoints: list[Touchpoint] = field(default_factory=list)
    subjects: list[tuple[Touchpoint, Model]] = field(default_factory=list)  # linked once the subject is saved

    @property
    def zone(self) -> ZoneInfo:
        return self.world.zone(self.customer.time_zone)

    def at(self, base: datetime, days: int, earliest: int = 9, latest: int = 18) -> datetime:
        """A local time between `earliest` and `latest` o'clock, `days` after `base`."""
        day = base.astimezone(self.zone).date() + timedelta(days=days)
        minutes = self.rng.randint(earliest * 60, latest * 60 - 1)
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)

    def add(
        self, kind: str, channel: str, when: datetime | None, summary: str, *, subject: Model | None = None, **links
    ) -> Touchpoint | None:
        """Record a touchpoint if it has already happened; a story never reaches into the future.

        `subject`: an unsaved row of this batch the touchpoint links to (written before the touchpoints).
        """
        if when is None or when > self.world.now:
            return None
        touchpoint = Touchpoint(
            customer=self.customer, kind=kind, channel=channel, occurred_at=when, summary=summary[:300], **_ids(links)
        )
        self.touchpoints.append(touchpoint)
        if subject is not None:
            self.subjects.append((touchpoint, subject))
        return touchpoint

    def notify(self, when: datetime | None, summary: str, **links) -> None:
        """A message on the preferred channel. As with `notify()`, none without consent and an address."""
        customer = self.customer
        channel = customer.preferred_channel
        address = {ContactChannel.EMAIL: customer.email, ContactChannel.SMS: customer.phone}.get(
            channel, customer.user_id
        )
        if customer.consents_to(channel) and address:
            self.add(TouchpointKind.NOTIFICATION, TIMELINE_CHANNEL[channel], when, summary, **links)
