"""Cheap checks run on every incoming frame before any decoding: rate and declared image size."""

from __future__ import annotations

import time
from typing import Dict, Optional, Tuple

from emotion.ml.media import MediaError, image_header


class TokenBucket:
    """Allows ``rate`` events a second sustained and bursts of up to ``capacity``."""

    def __init__(self, rate: float, capacity: float, clock=time.monotonic):
        self.rate = rate
        self.capacity = capacity
        self.clock = clock
        self.tokens = capacity
        self.stamp = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1 - 1e-9:         # a client at exactly the rate must not lose to rounding
            self.tokens -= 1
            return True
        return False


class ClientLimits:
    """Caps per client (an address, or a signed-in user) over all of this process's live sockets:
    sockets open, frames a second, frames waiting or being analysed. They guard this process's event
    loop and inference pool, so they are counted here, in memory, with no I/O on a frame's path (with
    several daphne processes a client gets each cap once per process, which is the share of each
    process it may use). Only the event loop's thread calls these: no locks."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.sockets: Dict[str, int] = {}
        self.busy: Dict[str, int] = {}
        self.buckets: Dict[str, TokenBucket] = {}

    def open(self, client: str, max_sockets: int, fps: float) -> bool:
        """Take a socket slot; False when the client already holds ``max_sockets``."""
        if self.sockets.get(client, 0) >= max_sockets:
            return False
        self.sockets[client] = self.sockets.get(client, 0) + 1
        if client not in self.buckets:
            self.buckets[client] = TokenBucket(fps, max(1.0, fps), self.clock)   # one second of burst
        return True

    def close(self, client: str, busy_left: int = 0) -> None:
        """Give the slot back, with the frames the socket still held that will never be analysed."""
        self.end_frame(client, busy_left)
        left = self.sockets.get(client, 0) - 1
        if left > 0:
            self.sockets[client] = left
        else:
            self.sockets.pop(client, None)
            self.buckets.pop(client, None)
            self.busy.pop(client, None)

    def take_frame(self, client: str) -> bool:
        """One frame of the client's rate; False past it."""
        bucket = self.buckets.get(client)
        return bucket is None or bucket.take()

    def start_frame(self, client: str, max_busy: int) -> bool:
        if self.busy.get(client, 0) >= max_busy:
            return False
        self.busy[client] = self.busy.get(client, 0) + 1
        return True

    def end_frame(self, client: str, n: int = 1) -> None:
        if n and client in self.busy:
            self.busy[client] = max(0, self.busy[client] - n)


def declared_size(data: bytes) -> Optional[Tuple[int, int]]:
    """(width, height) from the header of a JPEG (its segments in any order, junk bytes between them
    skipped as libjpeg skips them), PNG or WebP frame, read by Pillow without decoding a pixel; None
    for any other content or a header that cannot be read (such a frame is refused: only these three
    formats are decoded)."""
    try:
        header = image_header(data, "frame")
    except MediaError:
        return None
    return header.width, header.height
