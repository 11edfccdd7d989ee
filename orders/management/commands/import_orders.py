"""`python manage.py import_orders FILE [--json]`: import orders from a JSON Lines file.

Each line is one order, as `PUT /api/v1/orders/external/{source}/{external_id}/` takes it plus
`source` and `external_id` (see the README). Good rows are imported; each bad row is reported with
its line number and reason; orders imported before are skipped, so a file may be imported again.
Exits with status 1 when any row was bad.
"""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from orders.services.imports import import_file


class Command(BaseCommand):
    help = "Import orders from a JSON Lines file (one order per line)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")

    def handle(self, *args, path, as_json: bool = False, **options):
        started = time.perf_counter()
        try:
            report = import_file(path)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        seconds = time.perf_counter() - started
        if as_json:
            self.stdout.write(json.dumps(report.as_dict() | {"seconds": round(seconds, 3)}, indent=2))
        else:
            for line, reason in report.errors:
                self.stderr.write(f"line {line}: {reason}")
            rate = report.created / seconds if seconds else 0
            self.stdout.write(
                f"{report.read} read, {report.created} imported, {report.skipped} already there, "
                f"{len(report.errors)} refused, in {seconds:.1f} s ({rate:,.0f} orders/s)"
            )
        if report.errors:
            raise SystemExit(1)
