"""The daily retention purge, run by Celery beat (CELERY_BEAT_SCHEDULE in fersite/settings.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from .retention import purge

log = logging.getLogger(__name__)
PURGE_TASK = "privacy.purge_expired"


@shared_task(name=PURGE_TASK)
def purge_expired() -> dict:
    report = purge()
    for line in report.lines():
        log.info("retention purge: %s", line)
    return report.as_dict()
