"""Prometheus metrics at /metrics, for the operator's network only (FER_METRICS_NETWORKS; the proxy of
deploy/ never serves the path). Scrape every web host.

Two kinds, because the work happens in two kinds of process:
- a web process (daphne) counts what it serves itself: live frames and their server time, open live
  sockets, errors answered (HTTP 5xx, live errors). These are per process, as Prometheus expects.
- jobs run in Celery workers, on other hosts, that serve no HTTP: each finished job adds to counters
  kept in Redis (one hash per deployment), read back at scrape time, as are the queue's length and
  the analyses per status (the database). Every web host then reports the same job figures: sum
  them with max(), not sum().
"""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.http import Http404, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

log = logging.getLogger(__name__)
JOB_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)
LIVE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REGISTRY = CollectorRegistry(auto_describe=True)
LIVE_FRAMES = Counter("fer_live_frames", "Live frames answered, by outcome (result, busy, error)",
                      ["outcome"], registry=REGISTRY)
LIVE_SECONDS = Histogram("fer_live_server_seconds", "A live frame's time from arrival to its reply",
                         buckets=LIVE_BUCKETS, registry=REGISTRY)
LIVE_SOCKETS = Gauge("fer_live_sockets", "Live WebSockets open in this process", registry=REGISTRY)
ERRORS = Counter("fer_errors", "Errors answered, by where (http: 5xx responses; live: error replies by code)",
                 ["where", "code"], registry=REGISTRY)


def live_frame(outcome: str, seconds: float = None) -> None:
    LIVE_FRAMES.labels(outcome).inc()
    if seconds is not None:
        LIVE_SECONDS.observe(seconds)


def live_error(code: str) -> None:
    ERRORS.labels("live", code).inc()


# --- jobs, shared through Redis -------------------------------------------------------------------------
def redis_client():
    import redis

    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=0.5, socket_timeout=0.5)


def _key() -> str:
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE}:metrics:jobs"


def job_finished(outcome: str, seconds: float) -> None:
    """Called by the worker when a job ends; a Redis outage costs the figure, never the job."""
    kind = outcome.split(":", 1)[0]
    try:
        pipe = redis_client().pipeline()
        pipe.hincrby(_key(), f"outcome:{kind}", 1)
        if kind == "done":
            for le in JOB_BUCKETS:
                if seconds <= le:
                    pipe.hincrby(_key(), f"le:{le}", 1)
            pipe.hincrby(_key(), "count", 1)
            pipe.hincrbyfloat(_key(), "sum", seconds)
        pipe.execute()
    except Exception as exc:                 # noqa: BLE001
        log.warning("job metrics not recorded: %s", exc)


class JobCollector:
    """Read at scrape time: the jobs' counters in Redis (job_finished). The apps register collectors of
    their own (the research app: analyses by status and the queue's length)."""

    def describe(self):
        return []          # nothing read at registration

    def collect(self):
        try:
            raw = redis_client().hgetall(_key())
        except Exception as exc:             # noqa: BLE001 - the page still answers, without these
            log.warning("metrics: Redis unreachable: %s", exc)
            return
        values = {k.decode(): float(v) for k, v in raw.items()}
        outcomes = CounterMetricFamily("fer_jobs", "Analysis jobs finished, by outcome", labels=["outcome"])
        for name, value in sorted(values.items()):
            if name.startswith("outcome:"):
                outcomes.add_metric([name.split(":", 1)[1]], value)
        yield outcomes
        buckets = [(str(le), values.get(f"le:{le}", 0.0)) for le in JOB_BUCKETS] + [("+Inf", values.get("count", 0.0))]
        yield HistogramMetricFamily("fer_job_seconds", "Time of the jobs that ended done", buckets=buckets,
                                    sum_value=values.get("sum", 0.0))


REGISTRY.register(JobCollector())


def _networks():
    return [ipaddress.ip_network(n.strip(), strict=False)
            for n in settings.FER_METRICS_NETWORKS.split(",")
            if n.strip()]


def metrics_view(request):
    """The exposition, or 404 (as if there were none) to anyone outside FER_METRICS_NETWORKS."""
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        raise Http404 from None
    if not any(client in net for net in _networks()):
        raise Http404
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


class ServerErrorMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code >= 500:
            ERRORS.labels("http", str(response.status_code)).inc()
        return response
