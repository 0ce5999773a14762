import logging
import os

from celery import Celery
from celery.signals import after_setup_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fersite.settings")

app = Celery("fersite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
def _our_lines_in_the_worker_log(logger, format, **_):
    """In a worker, the project's log lines go where Celery writes its own (--logfile), with the host
    and the analysis they are about (emotion/web/logcontext.py), instead of to a standard error that Celery
    has taken over."""
    from emotion.web.logcontext import ContextFilter

    for handler in logger.handlers:
        handler.addFilter(ContextFilter())
        handler.setFormatter(logging.Formatter("[%(asctime)s: %(levelname)s/%(processName)s] %(name)s "
                                               "[%(server)s%(about)s] %(message)s"))
    for name in ("emotion", "fersite"):
        ours = logging.getLogger(name)
        ours.handlers, ours.propagate = [], True
