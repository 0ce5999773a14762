"""Load benchmark of remote stimulus sessions: N participants' worth of frames against a real daphne.

Each simulated participant has its own invitation link, starts the stimulus over the session socket
(/ws/stimuli/take/<key>/) and sends frames of the shared clip at a fixed rate, each tagged with the
stimulus time, with the page's back-pressure (one frame in flight; a frame due meanwhile is dropped).
Unlike the live page, every analysed frame with a face is written to the database (RecordingFrame).
Reported: round trip (send to reply) percentiles, frames dropped, rows stored, the CPU of daphne.

    flock /tmp/fer-bench.lock .venv/bin/python benchmarks/bench_remote.py            # 20 participants
    .venv/bin/python benchmarks/bench_remote.py --participants 4 --seconds 10

Writes benchmarks/results/remote.json (unless --out says elsewhere). The clip, the frame encoding, the
CPU sampling and the summary are bench_live.py's, so the two results compare directly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.bench_live import (SEPARATE_VISITORS, clip_jpegs, cpu_seconds, machine, new_stats,  # noqa: E402
                                    send_paced, summarize)
from tests import servers  # noqa: E402
from tests.conftest import MEDIA  # noqa: E402

TIME = struct.Struct(">d")


def prepare(db: Path, participants: int, seconds: float) -> list:
    """A fresh database with a study, an image stimulus long enough for the run and one link per
    participant; returns the links' keys."""
    os.environ.update(DJANGO_SETTINGS_MODULE="fersite.settings", DATABASE_URL=f"sqlite:///{db}",
                      MEDIA_ROOT=str(db.parent / "media"))
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from emotion.research.models import Study
    from emotion.stimuli.sessions import links
    from emotion.stimuli.models import Stimulus

    call_command("migrate", verbosity=0)
    owner = User.objects.create_user("bench")
    study = Study.objects.create(owner=owner, name="bench")
    picture = (MEDIA / "obama.jpg").read_bytes()
    stimulus = Stimulus.objects.create(study=study, title="bench", kind="image", file=ContentFile(picture, "s.jpg"),
                                       original_name="s.jpg", size_bytes=len(picture), media_format="jpg",
                                       duration=seconds + 60)
    codes = [f"B{i:03d}" for i in range(participants)]
    return [m.key for m in links.create(stimulus, owner, codes)]


async def participant(url: str, origin: str, frames: list, offset: int, fps: float, seconds: float, warmup: float):
    from websockets.asyncio.client import connect

    stats = new_stats(stored=0)

    def on_reply(msg) -> bool:
        if msg["type"] != "frame":
            return False
        stats["faces"] += bool(msg["face"])
        stats["stored"] += bool(msg["stored"])
        return True

    async with connect(url, origin=origin, max_size=2 ** 20, compression=None) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        await ws.send(json.dumps({"type": "play"}))
        assert json.loads(await ws.recv())["type"] == "playing"
        start = time.perf_counter()
        await send_paced(ws, frames, offset, fps, seconds, warmup, stats,
                         encode=lambda frame, t: TIME.pack(t) + frame, on_reply=on_reply)
        await ws.send(json.dumps({"type": "end", "t": time.perf_counter() - start}))
    return stats


async def run(url_of, origin, keys, frames, fps, seconds, warmup, pid):
    offsets = [k * len(frames) // len(keys) for k in range(len(keys))]
    tasks = [participant(url_of(key), origin, frames, off, fps, seconds, warmup) for key, off in zip(keys, offsets)]

    async def sample():
        await asyncio.sleep(warmup + 0.5)            # after the plays and the warm-up
        return cpu_seconds(pid), os.times(), time.perf_counter()

    results, (cpu0, me0, t0) = await asyncio.gather(asyncio.gather(*tasks), sample())
    wall = time.perf_counter() - t0
    cpu1, me1 = cpu_seconds(pid), os.times()
    return results, 100 * (cpu1 - cpu0) / wall, 100 * ((me1.user + me1.system) - (me0.user + me0.system)) / wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--participants", default="20", help="participants at once, comma-separated for several runs")
    ap.add_argument("--fps", type=float, default=10)
    ap.add_argument("--width", type=int, default=640, help="frame width in pixels (the page sends 640)")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "remote.json"))
    args = ap.parse_args()
    runs = [int(v) for v in args.participants.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="fer-bench-remote-"))
    keys = prepare(tmp / "db.sqlite3", sum(runs) + 1, (args.seconds + args.warmup) * len(runs))
    env = servers.child_env({"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp / "db.sqlite3")},
                            FER_CHANNEL_PREFIX=f"fer-bench-{os.getpid()}", MEDIA_ROOT=str(tmp / "media"),
                            **SEPARATE_VISITORS)
    proc, http = servers.start_daphne(env, servers.ARTIFACTS / "daphne-bench-remote.log")
    frames = clip_jpegs(args.width, args.fps)
    rows = []
    try:
        url_of = lambda key: http.replace("http://", "ws://") + f"/ws/stimuli/take/{key}/"  # noqa: E731
        asyncio.run(run(url_of, http, [keys.pop()], frames, args.fps, 2, 0.5, proc.pid))   # loads the engine
        for n in runs:                               # each participant a link of their own, used once
            batch, keys = keys[:n], keys[n:]
            results, daphne_cpu, client_cpu = asyncio.run(
                run(url_of, http, batch, frames, args.fps, args.seconds, args.warmup, proc.pid))
            rows.append({"width": args.width, **summarize(results, n, args.fps, args.seconds, daphne_cpu, client_cpu),
                         "stored": sum(r["stored"] for r in results), "loadavg_1m": os.getloadavg()[0]})
            print(json.dumps(rows[-1]), flush=True)
    finally:
        servers.stop(proc)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "what": "round trip of one frame (send to reply) seen by remote-session clients of a real daphne, each "
                "sending the shared clip tagged with stimulus times at fps_per_client with one frame in flight "
                "(later frames dropped meanwhile); every analysed frame with a face stored as a RecordingFrame "
                "(SQLite)",
        "machine": machine(),
        "command": "python " + " ".join(sys.argv), "runs": rows,
    }, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
