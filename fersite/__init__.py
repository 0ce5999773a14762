"""The project's configuration: settings, URLs, the ASGI and Celery apps, and the middleware they wire in."""

from .celery import app as celery_app

__all__ = ("celery_app",)
