"""Progress of an analysis, pushed to the pages that watch it over a Channels group.

Channel-layer messages can be dropped (a full group, Redis restarting): the database row is the truth
and the page re-reads it over HTTP as well, so a failed push is logged and forgotten.
"""

from __future__ import annotations

import asyncio
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
    message = {"type": "analysis.state", "state": state_message(analysis)}
    try:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            async_to_sync(layer.group_send)(group_name(analysis.pk), message)
        else:
            # called from inside an event loop (async code calling sync code in the same thread), where
            # async_to_sync refuses to run: the send goes on that loop instead
            loop.create_task(layer.group_send(group_name(analysis.pk), message))
    except SoftTimeLimitExceeded:      # the job's time limit must end it…
        raise
    except Exception:                  # noqa: BLE001 - …but a lost push must never fail the analysis
        log.warning("could not push the progress of analysis %s", analysis.pk, exc_info=True)
