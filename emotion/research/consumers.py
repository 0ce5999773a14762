"""Pushes an analysis' state to the page watching it. Only those who see it may listen (emotion/access.py)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from emotion.access import visible_analyses

from .progress import group_name, state_message


class AnalysisProgressConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.group = None
        pk = self.scope["url_route"]["kwargs"]["pk"]
        state = await self._state_if_visible(pk)
        if state is None:
            await self.close(code=4403)
            return
        self.group = group_name(pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # The state as of now, so the page is right even if it missed pushes before connecting.
        await self.send_json({"type": "state", **state})

    @database_sync_to_async
    def _state_if_visible(self, pk: int):
        analysis = visible_analyses(self.scope["user"]).filter(pk=pk).first()
        if analysis is None:
            return None
        return state_message(analysis)

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        await self.send_json({"type": "error", "message": "this socket only sends; it takes no commands"})

    async def analysis_state(self, event):
        await self.send_json({"type": "state", **event["state"]})
