"""The dependency rule of DESIGN.md: core imports no domain app; orders imports none after it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LATER_APPS = {"returns", "installations", "feedback", "loyalty"}


def _imported_top_packages(package: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), [("core", {"orders"} | LATER_APPS), ("orders", LATER_APPS)])
def test_dependencies_point_one_way(package, forbidden):
    offenders = {path: sorted(names & forbidden) for path, names in _imported_top_packages(package).items()}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_transactional_tests_restore_what_migrations_created():
    """A transactional test flushes the database; without serialized_rollback the roles and content
    types that data migrations made are gone (or renumbered) for every test after it."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "tests").rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "django_db(transaction=True" in line and "serialized_rollback=True" not in line
    ]
    assert offenders == []
