"""Log lines that say what they are about: the analysis or live session, and the host.

`about(analysis=12)` marks everything logged inside it (this thread or task, and the threads it hands
work to through asgiref, which copy the context) with ``analysis=12``; the LOGGING formatter in settings
prints it beside the host name (FER_SERVER_NAME). With several hosts behind a balancer, one grep over
their logs follows one analysis or one visitor's session."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar

_about: ContextVar[str] = ContextVar("fer_log_about", default="")


def _words(names: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in names.items() if v is not None)


@contextmanager
def about(**names):
    token = _about.set(_words(names))
    try:
        yield
    finally:
        _about.reset(token)


def set_about(**names) -> None:
    """For a consumer whose whole task is about one thing (a live socket): no block to wrap."""
    _about.set(_words(names))


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from django.conf import settings

        record.server = getattr(settings, "FER_SERVER_NAME", "")
        about = _about.get()
        record.about = f" {about}" if about else ""
        return True
