"""Pushes an analysis' state to the page watching it. Only those who see it may listen (emotion/access.py),
checked when the socket opens and again before each push: a member removed from the study, or a user who
signed out (or whose session ended otherwise), stops receiving at the next push, the socket closed 4403."""

from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser

from emotion.access import visible_analyses

from .progress import group_name, state_message

NOT_ALLOWED = 4403


class AnalysisProgressConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.group = None
        self.pk = self.scope["url_route"]["kwargs"]["pk"]
        state = await self._state_if_visible()
        if state is None:
            await self.close(code=NOT_ALLOWED)
            return
        self.group = group_name(self.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # The state as of now, so the page is right even if it missed pushes before connecting.
        await self.send_json({"type": "state", **state})

    @database_sync_to_async
    def _state_if_visible(self):
        analysis = visible_analyses(self.scope["user"]).filter(pk=self.pk).first()
        if analysis is None:
            return None
        return state_message(analysis)

    @database_sync_to_async
    def _still_visible(self) -> bool:
        return visible_analyses(current_user(self.scope)).filter(pk=self.pk).exists()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        await self.send_json({"type": "error", "message": "this socket only sends; it takes no commands"})

    async def analysis_state(self, event):
        if not await self._still_visible():
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
            await self.close(code=NOT_ALLOWED)
            return
        await self.send_json({"type": "state", **event["state"]})


def current_user(scope):
    """The user the socket's session names now, read again from the session store: the scope's user was
    read once, when the socket opened, and outlives a sign-out (which deletes the session) or a password
    change (which the session hash check catches). A scope without a session (a test's communicator)
    keeps its user."""
    session = scope.get("session")
    if session is None:
        return scope["user"]
    if not session.session_key:
        return AnonymousUser()
    fresh = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
    return auth.get_user(SimpleNamespace(session=fresh))
