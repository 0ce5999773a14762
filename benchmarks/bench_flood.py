"""Flood benchmark of the live WebSocket: one address floods it, another visitor's latency is measured.

The flood: FLOOD_SOCKETS (50) anonymous sockets from 127.0.0.1, each sending the shared clip's frames
(640 px JPEGs, as the page sends them) at FLOOD_FPS (30, the per-connection limit) with no
back-pressure at all, ignoring every error, and connecting again a second after any refusal or close.
It runs in a process of its own, so its own work does not slow the measuring client's event loop.
The visitor: one normal client from 127.0.0.2 (another address on the loopback; daphne listens on
127.0.0.1, and Linux routes all of 127/8 locally) sending at 10 frames/s with one frame in flight:
benchmarks/bench_live.py's client, whose round trips are what is reported.

Scenarios, each on a fresh daphne: the visitor alone; the flood with the per-client limits lifted
(what the review measured); the flood with the default limits (fersite/settings.py, "LIMITS PER
CLIENT"). The bar: the visitor's p95 under 150 ms during the flood, limits on. Run it on a quiet
machine (the load average before each scenario is recorded):

    flock /tmp/fer-bench.lock .venv/bin/python benchmarks/bench_flood.py
    .venv/bin/python benchmarks/bench_flood.py --seconds 10 --scenarios flood_limited

Writes benchmarks/results/flood.json (unless --out says elsewhere).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_live import SEPARATE_VISITORS as UNLIMITED  # noqa: E402
from bench_live import clip_jpegs, run_clients, summarize  # noqa: E402
from tests import servers  # noqa: E402

FLOOD_ADDRESS, VISITOR_ADDRESS = "127.0.0.1", "127.0.0.2"
SCENARIOS = {
    "alone": {"flood": False, "env": {}},
    "flood_unlimited": {"flood": True, "env": UNLIMITED},
    "flood_limited": {"flood": True, "env": {}},
}


# --- the flood, in its own process ----------------------------------------------------------------
def flood(url: str, origin: str, frames: list, sockets: int, fps: float, seconds: float, out) -> None:
    out.send(asyncio.run(_flood(url, origin, frames, sockets, fps, seconds)))


async def _flood(url, origin, frames, sockets, fps, seconds) -> dict:
    from websockets.asyncio.client import connect
    from websockets.exceptions import WebSocketException

    stats = {"connects": 0, "accepted": 0, "refused": 0, "sent": 0, "results": 0, "errors": collections.Counter(),
             "max_open": 0}
    open_now = 0
    end = time.monotonic() + seconds

    async def one(k: int):
        nonlocal open_now
        i = k * 7
        while time.monotonic() < end:
            stats["connects"] += 1
            try:
                async with connect(url, origin=origin, max_size=2 ** 20, compression=None, open_timeout=30,
                                   local_addr=(FLOOD_ADDRESS, 0)) as ws:
                    first = json.loads(await ws.recv())
                    if first["type"] != "hello":
                        stats["refused"] += 1
                        stats["errors"][first.get("code", first["type"])] += 1
                        await ws.wait_closed()
                        await asyncio.sleep(1)
                        continue
                    stats["accepted"] += 1
                    open_now += 1
                    stats["max_open"] = max(stats["max_open"], open_now)

                    async def read():
                        async for raw in ws:
                            msg = json.loads(raw)
                            if msg["type"] == "result":
                                stats["results"] += 1
                            elif msg["type"] == "error":
                                stats["errors"][msg["code"]] += 1

                    reader = asyncio.ensure_future(read())
                    try:
                        tick = time.monotonic()
                        while time.monotonic() < end:
                            await ws.send(frames[i % len(frames)])
                            stats["sent"] += 1
                            i += 1
                            tick += 1 / fps
                            await asyncio.sleep(max(0.0, tick - time.monotonic()))
                    finally:
                        reader.cancel()
                        open_now -= 1
            except (OSError, WebSocketException, asyncio.TimeoutError):
                await asyncio.sleep(1)

    await asyncio.gather(*(one(k) for k in range(sockets)))
    stats["errors"] = dict(stats["errors"])
    return stats


# --- one scenario ---------------------------------------------------------------------------------
def scenario(name: str, spec: dict, frames: dict, args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="fer-bench-flood-"))
    env = servers.child_env({"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp / "db.sqlite3")},
                            FER_CHANNEL_PREFIX=f"fer-bench-flood-{os.getpid()}-{name}", **spec["env"])
    proc, http = servers.start_daphne(env, servers.ARTIFACTS / f"daphne-bench-flood-{name}.log")
    url, origin = http.replace("http://", "ws://") + "/ws/live/", http
    try:
        asyncio.run(run_clients(url, origin, frames["visitor"], 1, args.fps, 2, 0.5, proc.pid))   # loads the engine
        load_before = os.getloadavg()
        attacker, attack_stats = None, None
        if spec["flood"]:
            ctx = multiprocessing.get_context("spawn")
            receive, send = ctx.Pipe(duplex=False)
            attacker = ctx.Process(target=flood, args=(url, origin, frames["flood"], args.flood_sockets, args.flood_fps,
                                                       args.flood_ramp + args.warmup + args.seconds + 1, send))
            attacker.start()
            time.sleep(args.flood_ramp)          # every socket has tried to connect by now
        results, daphne_cpu, client_cpu = asyncio.run(
            run_clients(url, origin, frames["visitor"], 1, args.fps, args.seconds, args.warmup, proc.pid))
        if attacker is not None:
            attack_stats = receive.recv()
            attacker.join(30)
        row = {"scenario": name, "limits": "lifted" if spec["env"] == UNLIMITED else
               ("default" if spec["flood"] else "default (no flood)"),
               "visitor": summarize(results, 1, args.fps, args.seconds, daphne_cpu, client_cpu),
               "flood": attack_stats, "loadavg_before": [round(v, 2) for v in load_before],
               "loadavg_after": [round(v, 2) for v in os.getloadavg()]}
        print(json.dumps(row), flush=True)
        return row
    finally:
        servers.stop(proc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--flood-sockets", type=int, default=50)
    ap.add_argument("--flood-fps", type=float, default=30, help="frames a second each flooding socket sends")
    ap.add_argument("--flood-ramp", type=float, default=3, help="seconds the flood runs before measuring")
    ap.add_argument("--fps", type=float, default=10, help="the visitor's frame rate")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "flood.json"))
    args = ap.parse_args()

    # The visitor connects from its own address: bench_live's client imports connect when it runs.
    import websockets.asyncio.client as ws_client

    ws_client.connect = functools.partial(ws_client.connect, local_addr=(VISITOR_ADDRESS, 0))
    frames = {"visitor": clip_jpegs(args.width, args.fps), "flood": clip_jpegs(args.width, args.flood_fps)}
    rows = [scenario(name, SCENARIOS[name], frames, args) for name in args.scenarios.split(",")]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "what": "round trip of one visitor's frames (send to reply; 10 frames/s, one in flight, from 127.0.0.2) "
                "while 50 anonymous sockets from 127.0.0.1 flood the same daphne with the same frames at 30 "
                "frames/s each, no back-pressure, reconnecting after any refusal",
        "bar": "visitor rtt_p95_ms < 150 during the flood with the default limits",
        "passed": all(r["visitor"]["rtt_p95_ms"] is not None and r["visitor"]["rtt_p95_ms"] < 150
                      for r in rows if r["scenario"] == "flood_limited") or None,
        "default_limits": _default_limits(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "note": "the flood, the visitor and daphne share this machine's CPUs; loadavg_before is the 1, 5 and "
                "15 minute load just before each scenario (other work on the machine included)",
        "command": "python " + " ".join(sys.argv), "runs": rows,
    }, indent=1) + "\n")
    print(f"wrote {out}")


def _default_limits() -> dict:
    import re

    text = (ROOT / "fersite" / "settings.py").read_text()
    names = ["FER_LIVE_MAX_SOCKETS_PER_IP", "FER_LIVE_MAX_FPS_PER_IP", "FER_LIVE_MAX_BUSY_PER_IP", "FER_LIVE_MAX_FPS",
             "FER_LIVE_QUEUE", "FER_LIVE_WORKERS"]
    out = {}
    for name in names:
        m = re.search(rf'^{name} = \w+\(os\.environ\.get\("{name}", ([^)]+)\)\)', text, re.M)
        out[name] = os.environ.get(name) or (m.group(1) if m else None)
    return out


if __name__ == "__main__":
    main()
