"""Progress of an analysis, pushed to the pages that watch it over a Channels group.

Channel-layer messages can be dropped (a full group, Redis restarting): the database row is the truth
and the page re-reads it over HTTP as well, so a failed push is logged and forgotten.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from celery.exceptions import SoftTimeLimitExceeded
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def group_name(analysis_id: int) -> str:
    return f"analysis-{analysis_id}"


def state_message(analysis) -> dict:
    return {
        "id": analysis.pk, "status": analysis.status, "progress": round(analysis.progress, 4),
        "error": analysis.error, "notice": analysis.notice, "result_count": analysis.result_count,
        "elapsed": analysis.elapsed,
    }


def push(analysis) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group_name(analysis.pk), {"type": "analysis.state", "state": state_message(analysis)})
    except SoftTimeLimitExceeded:      # the job's time limit must end it…
        raise
    except Exception:                  # noqa: BLE001 - …but a lost push must never fail the analysis
        log.warning("could not push the progress of analysis %s", analysis.pk, exc_info=True)
