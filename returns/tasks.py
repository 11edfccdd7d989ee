"""Periodic work of the returns app (scheduled by CELERY_BEAT_SCHEDULE): thin wrappers around
services that are safe to run twice and beside each other."""

from celery import shared_task

from returns.services import vouchers


@shared_task(name="returns.tasks.voucher_sweep", ignore_result=True)
def voucher_sweep() -> dict:
    """Remind before a credit voucher expires; expire the ones past their date."""
    return vouchers.vouchers_sweep()
