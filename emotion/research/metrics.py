"""The research app's figures on /metrics (registered by apps.py): analyses by status and the jobs
waiting in the broker, read at scrape time."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from emotion.web.metrics import redis_client

log = logging.getLogger(__name__)


class AnalysisCollector:
    def describe(self):
        return []          # nothing read at registration (the database may not exist yet)

    def collect(self):
        from .analyses.shares import queue_keys
        from .models import Analysis

        statuses = GaugeMetricFamily("fer_analyses", "Analyses by status", labels=["status"])
        counts = dict(Analysis.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        for status in Analysis.Status.values:
            statuses.add_metric([status], counts.get(status, 0))
        yield statuses
        try:
            # one list per fair-share level (shares.py)
            pipe = redis_client().pipeline(transaction=False)
            for name in queue_keys(settings.CELERY_TASK_DEFAULT_QUEUE):
                pipe.llen(name)
            queued = sum(pipe.execute())
        except Exception as exc:             # noqa: BLE001 - the page still answers, without this
            log.warning("metrics: Redis unreachable: %s", exc)
            return
        yield GaugeMetricFamily("fer_job_queue_length", "Jobs waiting in the broker's queue", value=queued)
