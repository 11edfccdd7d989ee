"""Settings of the benchmark server: the project's settings plus the raw-SQL comparison views.

Everything else (DATABASE_URL, SECRET_KEY, throttle rates) still comes from the environment, which
bench/timeline_bench.py sets for the gunicorn it starts and for itself.
"""

from core.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
