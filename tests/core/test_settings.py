"""Configuration from the environment; production refuses insecure defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "7Hq!vR2#pLm9$xZ4&wN6*bT1(cY8)dF3-gJ5+kS0=eU2_aW7^iO4"


def _manage(*args, **env):
    unset = ("SECRET_KEY", "DEBUG", "AFTERCARE_PRODUCTION", "CACHE_URL")
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "core.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": GOOD_KEY, "DEBUG": "1"}, "DEBUG must be off"),
        ({"SECRET_KEY": GOOD_KEY}, "CACHE_URL must name a shared cache"),
    ],
)
def test_production_refuses_to_start_on_an_insecure_default(env, complaint):
    result = _manage("check", AFTERCARE_PRODUCTION="1", ALLOWED_HOSTS="care.example.com", **env)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_configuration_passes_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        AFTERCARE_PRODUCTION="1",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="care.example.com",
        CACHE_URL="redis://127.0.0.1:6379/1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_openapi_schema_generates_without_warnings():
    result = _manage("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)
    assert result.returncode == 0, result.stderr


def test_demo_data_is_refused_in_production():
    result = _manage(
        "seed_demo",
        "--customers",
        "0",
        AFTERCARE_PRODUCTION="1",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="care.example.com",
        CACHE_URL="redis://127.0.0.1:6379/1",
        DATABASE_URL="sqlite:////tmp/never-created.sqlite3",
    )
    assert result.returncode != 0
    assert "demo" in result.stderr.lower()
