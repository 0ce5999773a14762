"""python manage.py requeue_stuck: queue again the analyses whose job the broker has lost.

Redis keeps queued jobs in memory; if it restarts without persistence, or is flushed, analyses stay
"queued" (or "running", if their worker died at the same time) with no job left to finish them. This
sends their current run again. A job that was not lost after all is harmless to send twice: the task
skips a run that has finished and replaces, never duplicates, results.

A job whose whole worker was killed does not need this: the other workers' watch queues it again
within about a minute of its heartbeat stopping (emotion/research/analyses/liveness.py).
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from emotion.research.analyses.lifecycle import lost_runs
from emotion.research.tasks import send


class Command(BaseCommand):
    help = "Queue again the analyses that have been queued or running for longer than a job may take."

    def add_arguments(self, parser):
        default = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] // 60
        parser.add_argument("--minutes", type=float, default=default,
                            help=f"idle for at least this long (default {default}: the broker's visibility timeout)")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, minutes, dry_run, **opts):
        before = timezone.now() - timedelta(minutes=minutes)
        # a running job past the time limit is dead too: the limit is below the visibility timeout
        stuck = lost_runs(before)
        count = 0
        for a in stuck:
            count += 1
            self.stdout.write(f"{'would queue' if dry_run else 'queued'} analysis {a.pk} ({a}, {a.status})")
            if not dry_run:
                send(a.pk, str(a.run_id))
        self.stdout.write(f"{count} stuck {'analysis' if count == 1 else 'analyses'} {'found' if dry_run else 'queued again'}")
