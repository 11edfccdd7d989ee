"""Point the project's Celery app at another broker for the length of a test."""

from contextlib import contextmanager

from core import celery_app


def _reset_pools():
    # Drop the app's cached connection and producer pools (Celery's own reset after a fork), so
    # the next publish uses the broker now configured. Not closed: kombu keeps producer pools in
    # a registry keyed by broker URL and would hand the closed one back later.
    celery_app._after_fork()


@contextmanager
def celery_broker(url: str, *, eager: bool = False):
    conf = celery_app.conf
    saved = {key: conf.get(key) for key in ("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER")}
    conf.update(CELERY_BROKER_URL=url, CELERY_TASK_ALWAYS_EAGER=eager)
    _reset_pools()
    try:
        yield celery_app
    finally:
        conf.update(saved)
        _reset_pools()
