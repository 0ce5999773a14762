"""Load benchmark of the live WebSocket: N browsers' worth of frames against a real daphne.

Each simulated client sends frames of the shared clip (downscaled and JPEG-encoded as the page does)
at a fixed rate, with the page's back-pressure: when its previous frame has not been answered yet, the
frame is dropped, not queued. Reported per run: round-trip latency percentiles, frames dropped, and the
CPU use of the daphne process (100 % = one core) and of this client process.

    flock /tmp/fer-bench.lock .venv/bin/python benchmarks/bench_live.py            # the full matrix
    .venv/bin/python benchmarks/bench_live.py --clients 8 --widths 640 --seconds 10 --torch-threads 1
    .venv/bin/python benchmarks/bench_live.py --clients 8 --widths 640 --repeat 5   # a loaded machine

Writes benchmarks/results/live.json (unless --out says elsewhere), with the CPU named, what else was
running, and, with --repeat, the median of the runs of each configuration. Where the time goes inside
one frame: benchmarks/profile_live.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from emotion.live.limits import PAGE_FPS  # noqa: E402
from tests import servers  # noqa: E402
from tests.conftest import CLIP  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
# The simulated clients stand for separate visitors, but all connect from 127.0.0.1: the per-address
# limits (FER_LIVE_*_PER_IP) are lifted so they measure the server, not the limiter.
SEPARATE_VISITORS = {"FER_LIVE_MAX_SOCKETS_PER_IP": "100000", "FER_LIVE_MAX_FPS_PER_IP": "1000000",
                     "FER_LIVE_MAX_BUSY_PER_IP": "100000"}
JPEG_QUALITY = 75          # the page's canvas.toBlob quality


def clip_jpegs(width: int, fps: float) -> list:
    """The clip at the clients' frame rate, as the page would send it."""
    cap = cv2.VideoCapture(str(CLIP))
    src_fps = cap.get(cv2.CAP_PROP_FPS) or 30
    out, index, next_t = [], 0, 0.0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if index / src_fps >= next_t:
            h, w = frame.shape[:2]
            small = cv2.resize(frame, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
            out.append(cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1].tobytes())
            next_t += 1 / fps
        index += 1
    cap.release()
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK         # utime + stime


async def send_paced(ws, frames: list, offset: int, fps: float, seconds: float, warmup: float, stats: dict,
                     encode=lambda frame, t: frame, on_reply=lambda msg: False) -> None:
    """Send the clip's frames at ``fps`` with the page's back-pressure (one frame in flight; a frame due
    meanwhile is dropped, as the camera moves on), for ``warmup`` then ``seconds`` measured seconds.
    ``encode(frame, t)`` is what goes out for a frame due ``t`` seconds after the start; a reply with a
    ``seq`` ends the frame in flight and, while measuring, counts as answered when ``on_reply(msg)`` is
    true (which may count more in ``stats``), else as an error."""
    sent_at, in_flight, measuring = {}, False, False

    async def receive():
        nonlocal in_flight
        async for raw in ws:
            msg = json.loads(raw)
            if msg.get("seq") is None:
                continue
            rtt = (time.perf_counter() - sent_at.pop(msg["seq"])) * 1000
            in_flight = False
            if not measuring:
                continue
            if on_reply(msg):
                stats["answered"] += 1
                stats["rtt"].append(rtt)
                stats["server"].append(msg["server_ms"])
            else:
                stats["errors"] += 1

    reader = asyncio.ensure_future(receive())
    seq, i = 0, offset
    start = next_tick = time.perf_counter()
    while (now := time.perf_counter()) - start < warmup + seconds:
        measuring = now - start >= warmup
        if in_flight:
            stats["dropped"] += measuring
        else:
            in_flight = True
            sent_at[seq] = time.perf_counter()
            await ws.send(encode(frames[i % len(frames)], now - start))
            seq += 1
            stats["sent"] += measuring
        i += 1                                   # the camera moves on whether or not a frame was sent
        next_tick += 1 / fps
        await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))
    await asyncio.sleep(0.5)                     # let the last answer arrive
    reader.cancel()


def new_stats(**more) -> dict:
    return {"sent": 0, "answered": 0, "dropped": 0, "errors": 0, "faces": 0, "rtt": [], "server": [], **more}


async def client(url: str, origin: str, frames: list, offset: int, fps: float, seconds: float, warmup: float):
    from websockets.asyncio.client import connect

    stats = new_stats()

    def on_reply(msg) -> bool:
        if msg["type"] != "result":
            return False
        stats["faces"] += bool(msg["faces"])
        return True

    async with connect(url, origin=origin, max_size=2 ** 20, compression=None) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        await ws.send(json.dumps({"type": "start", "store": False}))
        assert json.loads(await ws.recv())["type"] == "started"
        await send_paced(ws, frames, offset, fps, seconds, warmup, stats, on_reply=on_reply)
    return stats


async def run_clients(url, origin, frames, n, fps, seconds, warmup, pid):
    offsets = [k * len(frames) // n for k in range(n)]          # clients at different points of the clip
    tasks = [client(url, origin, frames, off, fps, seconds, warmup) for off in offsets]

    async def sample():
        await asyncio.sleep(warmup)
        return cpu_seconds(pid), os.times(), time.perf_counter()

    results, (cpu0, me0, t0) = await asyncio.gather(asyncio.gather(*tasks), sample())
    t1 = time.perf_counter()
    cpu1, me1 = cpu_seconds(pid), os.times()
    wall = t1 - t0
    return results, 100 * (cpu1 - cpu0) / wall, 100 * ((me1.user + me1.system) - (me0.user + me0.system)) / wall


def summarize(results, n, fps, seconds, daphne_cpu, client_cpu):
    rtt = np.array([v for r in results for v in r["rtt"]])
    server = np.array([v for r in results for v in r["server"]])
    total = {k: sum(r[k] for r in results) for k in ("sent", "answered", "dropped", "errors", "faces")}
    pct = lambda a, q: round(float(np.percentile(a, q)), 1) if len(a) else None  # noqa: E731
    return {
        "clients": n, "fps_per_client": fps, "seconds": seconds, **total,
        "drop_share": round(total["dropped"] / max(1, total["sent"] + total["dropped"]), 3),
        "answered_fps": round(total["answered"] / seconds, 1),
        "frames_with_faces_share": round(total["faces"] / max(1, total["answered"]), 2),
        "rtt_p50_ms": pct(rtt, 50), "rtt_p95_ms": pct(rtt, 95), "rtt_p99_ms": pct(rtt, 99),
        "rtt_max_ms": round(float(rtt.max()), 1) if len(rtt) else None,
        "server_p50_ms": pct(server, 50), "server_p95_ms": pct(server, 95),
        "daphne_cpu_percent": round(daphne_cpu, 1), "client_cpu_percent": round(client_cpu, 1),
    }


ISA_CAPS = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "OPENCV_CPU_DISABLE", "FER_BF16")


def machine() -> dict:
    """The CPU (its model, and whether it has AVX-512 BF16, which the engine's bf16 path needs)."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor())
    # instruction sets capped for the run (ISA_CAPS): how a CPU without AVX-512 is stood in for on one with it
    caps = {name: os.environ[name] for name in ISA_CAPS if name in os.environ}
    return {"cpus": os.cpu_count(), "cpu": model, "avx512_bf16": "avx512_bf16" in cpuinfo,
            "python": platform.python_version(), "platform": platform.platform(), **({"isa_caps": caps} if caps else {})}


def also_running(skip: set, n: int = 4) -> list:
    """The busiest other processes now (percent of one core over their lifetime so far, as ps shows)."""
    import subprocess

    out = subprocess.run(["ps", "-eo", "pid,pcpu,args", "--sort=-pcpu", "--no-headers"], capture_output=True,
                         text=True).stdout
    busy = []
    for line in out.splitlines():
        pid, cpu, args = line.split(None, 2)
        if int(pid) not in skip and float(cpu) >= 5:
            busy.append(f"{float(cpu):.0f}% {args[:80]}")
    return busy[:n]


MEDIAN_OF = ("drop_share", "answered_fps", "frames_with_faces_share", "rtt_p50_ms", "rtt_p95_ms", "rtt_p99_ms",
             "server_p50_ms", "server_p95_ms", "daphne_cpu_percent", "loadavg_1m")


def medians(rows: list) -> list:
    """Per configuration (width, torch threads, clients), the median of each figure over its runs."""
    groups: dict = {}
    for row in rows:
        groups.setdefault((row["width"], row["torch_threads"], row["clients"]), []).append(row)
    return [{"width": w, "torch_threads": t, "clients": n, "runs": len(group),
             **{k: round(float(np.median([r[k] for r in group if r[k] is not None])), 3) for k in MEDIAN_OF}}
            for (w, t, n), group in groups.items()]


def bench_config(width: int, torch_threads: int, workers: int, scan_seconds: float, clients: list, fps: float,
                 seconds: float, warmup: float, log_dir: Path) -> list:
    frames = clip_jpegs(width, fps)
    tmp = Path(tempfile.mkdtemp(prefix="fer-bench-live-"))
    env = servers.child_env({"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp / "db.sqlite3")},
                            FER_CHANNEL_PREFIX=f"fer-bench-{os.getpid()}", FER_LIVE_TORCH_THREADS=str(torch_threads),
                            FER_LIVE_WORKERS=str(workers), FER_LIVE_SCAN_SECONDS=str(scan_seconds),
                            **SEPARATE_VISITORS)
    proc, http = servers.start_daphne(env, log_dir / f"daphne-bench-live-{width}-{torch_threads}.log")
    url, origin = http.replace("http://", "ws://") + "/ws/live/", http
    rows = []
    try:
        asyncio.run(run_clients(url, origin, frames, 1, fps, 2, 0.5, proc.pid))   # loads the engine
        for n in clients:
            results, daphne_cpu, client_cpu = asyncio.run(
                run_clients(url, origin, frames, n, fps, seconds, warmup, proc.pid))
            row = {"width": width, "frame_kb": round(float(np.mean([len(f) for f in frames])) / 1024, 1),
                   "torch_threads": torch_threads or "default", "workers": workers, "scan_seconds": scan_seconds,
                   **summarize(results, n, fps, seconds, daphne_cpu, client_cpu), "loadavg_1m": os.getloadavg()[0],
                   "also_running": also_running({os.getpid(), proc.pid})}
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        servers.stop(proc)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", default="1,4,8")
    ap.add_argument("--widths", default="320,480,640", help="frame widths in pixels, comma-separated")
    ap.add_argument("--torch-threads", default="1", help="torch threads per inference thread (0: torch's default)")
    ap.add_argument("--workers", type=int, default=2, help="inference threads in daphne")
    ap.add_argument("--scan-seconds", type=float, default=1.0, help="seconds between full-frame scans (beside replies)")
    ap.add_argument("--fps", type=float, default=PAGE_FPS, help="frames a second per client (the page's rate)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each configuration, each on a fresh daphne")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "live.json"))
    args = ap.parse_args()
    clients = [int(v) for v in args.clients.split(",")]
    log_dir = servers.ARTIFACTS
    rows = []
    for width in (int(v) for v in args.widths.split(",")):
        for threads in (int(v) for v in args.torch_threads.split(",")):
            for _ in range(args.repeat):
                rows += bench_config(width, threads, args.workers, args.scan_seconds, clients, args.fps,
                                     args.seconds, args.warmup, log_dir)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "what": "round trip of one frame (send to reply) seen by WebSocket clients of a real daphne, each sending the "
                "shared clip at fps_per_client with one frame in flight (later frames dropped meanwhile)",
        "machine": machine(), "command": "python " + " ".join(sys.argv), "jpeg_quality": JPEG_QUALITY,
        "medians": medians(rows), "runs": rows,
    }, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
