"""One engine per process, loaded on first use: Celery workers and the Channels consumers share it."""

from __future__ import annotations

import threading

from django.conf import settings

from emotion.ml import Engine, load_engine

_lock = threading.Lock()
_engine = None


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = load_engine(settings.EMOTION_CHECKPOINT or None)
    return _engine
