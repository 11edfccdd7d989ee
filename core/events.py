"""Named domain events between apps, delivered after the publishing transaction commits.

An app that must react to another's event subscribes in its `AppConfig.ready`:

    events.subscribe("order.delivered", award_points_for_delivery)

and the publisher, inside its service's transaction:

    events.publish("order.delivered", order_id=order.pk)

Each handler runs in its own Celery task after the commit (in-process when no broker is
configured), off the request path and with bounded retries, so one failing handler neither blocks
the others nor loses its work on a passing error. Handlers are module-level functions taking
keyword arguments only: ids, not model instances (the rows may change before the task runs), and
they must be safe to run twice (a retry may follow a partial run). A rolled-back transaction
publishes nothing.
"""

import logging
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

_subscribers: dict[str, list[Callable[..., None]]] = defaultdict(list)


def subscribe(event: str, handler: Callable[..., None]) -> None:
    if "<locals>" in handler.__qualname__:
        raise ValueError("event handlers must be module-level functions (a task imports them by name)")
    if handler not in _subscribers[event]:
        _subscribers[event].append(handler)


def unsubscribe(event: str, handler: Callable[..., None]) -> None:
    if handler in _subscribers[event]:
        _subscribers[event].remove(handler)


def publish(event: str, **payload) -> None:
    for handler in list(_subscribers[event]):
        path = f"{handler.__module__}.{handler.__qualname__}"
        transaction.on_commit(lambda path=path: _enqueue(event, path, payload))


def _enqueue(event: str, handler_path: str, payload: dict) -> None:
    from core.tasks import event_deliver_task

    try:
        event_deliver_task.delay(event, handler_path, payload)
    except Exception:  # broker unreachable: say so loudly; the publisher's write stands
        logger.exception("could not enqueue event %s for %s", event, handler_path)


def deliver(event: str, handler_path: str, payload: dict) -> None:
    logger.info("event %s -> %s", event, handler_path)
    import_string(handler_path)(**payload)
