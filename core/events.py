"""Named domain events between apps, delivered after the publishing transaction commits.

An app that must react to another's event subscribes in its `AppConfig.ready`:

    events.subscribe("order.delivered", award_points_for_delivery)

and the publisher, inside its service's transaction:

    events.publish("order.delivered", order_id=order.pk)

Handlers receive keyword arguments only (ids, not model instances: the rows may have changed by
the time the handler runs) and run in the order they subscribed. A rolled-back transaction
publishes nothing.
"""

import logging
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

_subscribers: dict[str, list[Callable[..., None]]] = defaultdict(list)


def subscribe(event: str, handler: Callable[..., None]) -> None:
    if handler not in _subscribers[event]:
        _subscribers[event].append(handler)


def unsubscribe(event: str, handler: Callable[..., None]) -> None:
    if handler in _subscribers[event]:
        _subscribers[event].remove(handler)


def publish(event: str, **payload) -> None:
    for handler in list(_subscribers[event]):
        transaction.on_commit(lambda h=handler: _deliver(event, h, payload), robust=True)


def _deliver(event: str, handler: Callable[..., None], payload: dict) -> None:
    logger.info("event %s -> %s", event, getattr(handler, "__qualname__", handler))
    handler(**payload)
