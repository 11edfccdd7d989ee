"""Test settings: the project's settings plus a small workflow model used to test the shared
workflow machinery (core/workflow.py) before the domain apps bring their own."""

from core.settings import *  # noqa: F403
from core.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.workflowapp"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
ROOT_URLCONF = "tests.urls"
# Tasks run in-process in tests, whatever broker is configured; the tests that need a real
# worker (tests/core/test_celery_worker.py) switch to the broker themselves.
CELERY_TASK_ALWAYS_EAGER = True
