"""The live limits, stated once: read from the FER_LIVE_* settings here, enforced by admission.py and
sent to every client in the socket's "hello" message, from which the page (static/live/live.js)
reads them.

They go out on the socket rather than in the page's template because the socket is what enforces
them: with several web hosts behind a balancer the host that renders the page need not be the one
whose socket answers, and a client other than the page (a script, a benchmark, a remote session)
gets the limits it will meet without scraping a page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

# The page's frame rate unless the visitor picks another (at most max_fps); bench_live.py samples the
# shared clip at it, as the page would send it.
PAGE_FPS = 10


@dataclass(frozen=True)
class LiveLimits:
    max_frame_bytes: int            # one binary message
    max_frame_pixels: int           # as its image header declares them
    max_fps: float                  # per connection, sustained...
    burst: int                      # ...with bursts of up to this many frames
    queue: int                      # frames of a connection waiting or being analysed
    sockets_per_client: int         # per client (an address or a signed-in user), all connections
    fps_per_client: float
    busy_per_client: int
    stored_per_hour: int            # stored sessions per client an hour

    @classmethod
    def from_settings(cls) -> "LiveLimits":
        """Read at each connection, so a changed setting (a test's, say) holds from the next one."""
        return cls(max_frame_bytes=settings.FER_LIVE_MAX_FRAME_BYTES,
                   max_frame_pixels=settings.FER_LIVE_MAX_FRAME_PIXELS,
                   max_fps=settings.FER_LIVE_MAX_FPS, burst=settings.FER_LIVE_BURST, queue=settings.FER_LIVE_QUEUE,
                   sockets_per_client=settings.FER_LIVE_MAX_SOCKETS_PER_IP,
                   fps_per_client=settings.FER_LIVE_MAX_FPS_PER_IP, busy_per_client=settings.FER_LIVE_MAX_BUSY_PER_IP,
                   stored_per_hour=settings.FER_LIVE_MAX_STORED_PER_IP_HOUR)

    def for_clients(self) -> dict:
        """The "limits" of the hello message (the protocol: consumers.py)."""
        return {"max_frame_bytes": self.max_frame_bytes, "max_frame_pixels": self.max_frame_pixels,
                "max_fps": self.max_fps, "queue": self.queue,
                "per_address": {"sockets": self.sockets_per_client, "max_fps": self.fps_per_client,
                                "busy": self.busy_per_client, "stored_per_hour": self.stored_per_hour}}
