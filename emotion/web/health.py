"""Health for load balancers and orchestrators: is the process up, and can it serve.

``/healthz`` answers 200 while the process runs, touching nothing else. ``/readyz`` answers 200 only
when every check passes: the database here, and what the apps register when they load (the research
app: the job queue answers; the emotion app: the model is loaded, here if it was not yet, so a
process that passes is warm); otherwise 503 naming what failed. Both are plain
JSON and cost no session or database write.
"""

from __future__ import annotations

import time

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


CHECKS = {"database": _database}


def register(name: str, check) -> None:
    """An app's readiness check (AppConfig.ready): ``check()`` raises when the app cannot serve. The
    configuration imports no app; the apps come to it."""
    CHECKS[name] = check


@never_cache
@require_GET
def readyz(request):
    checks, ready = {}, True
    for name, check in CHECKS.items():
        start = time.perf_counter()
        try:
            check()
            checks[name] = {"ok": True}
        except Exception as exc:             # noqa: BLE001 - each failure is reported, none is raised
            ready = False
            checks[name] = {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:300]}
        checks[name]["ms"] = round((time.perf_counter() - start) * 1000, 1)
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status=200 if ready else 503)
