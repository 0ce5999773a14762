"""Where a live frame's time goes: the live path (emotion/live/inference.py) run in this process on
the shared clip, as bench_live.py sends it, with every stage timed.

One stream in the live process's own inference pool (its thread settings), frames fed one after
another at their clip times (no socket, no other client): what is left is the cost of each stage for
one frame on one core. The reply's wait for a pool thread (the
queueing under load) is what bench_live.py's server_ms adds on top of these.

    .venv/bin/python benchmarks/profile_live.py                    # 640 px, 10 frames/s
    .venv/bin/python benchmarks/profile_live.py --width 320 --json out.json
    .venv/bin/python benchmarks/profile_live.py --replies before.json      # then, after a change:
    .venv/bin/python benchmarks/profile_live.py --against before.json      # same faces, same readings?

Stages are timed by wrapping the functions the live path calls, so the path itself is unchanged.
The full-frame scan runs on its own thread beside the replies: it is reported apart (per scan and
per frame), and is not part of a reply's time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fersite.settings")

# The reply's stages, in the order a frame meets them; each is (module, attribute, label).
STAGES = [
    ("emotion.live.inference", "check_frame_header", "header"),
    ("emotion.live.inference", "decode_image", "decode"),
    ("emotion.ml.engine", "to_gray", "grey"),
    ("emotion.ml.shots.CutDetector", "is_cut", "cuts"),
    ("emotion.ml.tracking.FaceTracker", "follow", "track (detect near known faces)"),
    ("emotion.ml.engine.EmotionStream", "_merge_scan", "merge scan (confirm new faces)"),
    ("emotion.ml.engine", "crop_faces", "crop 48x48"),
    ("emotion.ml.engine.Engine", "cnn", "cnn"),
    ("emotion.ml.engine.EmotionStream", "_steps", "lstm"),
    ("emotion.ml.engine", "_result", "quality measures"),
    ("emotion.ml.results.FaceResult", "to_dict", "reply dict"),
]
SCAN = "scan (own thread)"


class Clock:
    """Per-thread totals of each stage for the frame being timed."""

    def __init__(self):
        self.local = threading.local()
        self.scans: list = []

    def frame(self) -> dict:
        self.local.spent = defaultdict(float)
        return self.local.spent

    def wrap(self, fn, label):
        clock = self

        def timed(*args, **kwargs):
            spent = getattr(clock.local, "spent", None)     # None on threads not timing a frame
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                if spent is not None:
                    spent[label] += time.perf_counter() - t0
        return timed


class AwaitedScans(ThreadPoolExecutor):
    """The live scanner's single thread, with each scan waited for before the next frame: frames come
    here back to back, where the page sends one every 100 ms, which is longer than a scan takes on an
    idle core; without waiting, a scan's faces would join frames later than on the live page."""

    def __init__(self):
        super().__init__(max_workers=1)
        self.pending: list = []

    def submit(self, *args, **kwargs):
        future = super().submit(*args, **kwargs)
        self.pending.append(future)
        return future

    def settle(self) -> None:
        for future in self.pending:
            future.result()
        self.pending.clear()


def _resolve(dotted: str):
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        with contextlib.suppress(ImportError):
            obj = importlib.import_module(".".join(parts[:i]))
            for name in parts[i:]:
                obj = getattr(obj, name)
            return obj
    raise ImportError(dotted)


def instrument(clock: Clock) -> None:
    for owner, attr, label in STAGES:
        target = _resolve(owner)
        setattr(target, attr, clock.wrap(getattr(target, attr), label))

    from emotion.ml.engine import EmotionStream

    scan = EmotionStream._scan

    def timed_scan(self, gray):
        t0 = time.perf_counter()
        try:
            return scan(self, gray)
        finally:
            clock.scans.append(time.perf_counter() - t0)
    EmotionStream._scan = timed_scan


def profile(width: int, fps: float, rounds: int) -> dict:
    import django

    django.setup()
    from django.conf import settings

    from benchmarks.bench_live import clip_jpegs
    from emotion.live import inference
    from emotion.runtime import get_engine

    clock = Clock()
    instrument(clock)
    frames = clip_jpegs(width, fps)
    pool = inference.executor()             # the live process's own setup: its threads and their settings
    engine = pool.submit(get_engine).result()
    scanner = AwaitedScans()

    def one(stream, data, t):
        spent = clock.frame()
        cpu0, t0 = time.thread_time(), time.perf_counter()
        faces = inference.analyse(stream, data, t)
        t1 = time.perf_counter()
        json.dumps({"type": "result", "seq": 0, "faces": faces, "server_ms": 0.0})
        spent["reply json"] = time.perf_counter() - t1
        spent["total"] = time.perf_counter() - t0
        spent["other"] = spent["total"] - sum(v for k, v in spent.items() if k != "total")
        spent["cpu"] = time.thread_time() - cpu0
        return faces, dict(spent)

    rows, outputs = [], []
    cpu0 = _process_cpu()
    for r in range(rounds):
        stream = engine.stream(settings.FER_LIVE_SCAN_SECONDS, scan_executor=scanner)
        for i, data in enumerate(frames):
            faces, spent = pool.submit(one, stream, data, i / fps).result()
            scanner.settle()
            rows.append(spent)
            if r == 0:
                outputs.append(faces)
    process_ms = (_process_cpu() - cpu0) * 1000 / len(rows)
    scanner.shutdown(wait=True)
    labels = [label for _, _, label in STAGES] + ["reply json", "other", "total"]
    table = {}
    for label in labels:
        ms = np.array([r.get(label, 0.0) for r in rows]) * 1000
        table[label] = {"mean_ms": round(float(ms.mean()), 2), "p50_ms": round(float(np.percentile(ms, 50)), 2),
                        "p95_ms": round(float(np.percentile(ms, 95)), 2)}
    scans = np.array(clock.scans) * 1000
    table[SCAN] = {"per_scan_ms": round(float(scans.mean()), 1) if len(scans) else None,
                   "per_frame_ms": round(float(scans.sum() / len(rows)), 2)}
    return {"width": width, "fps": fps, "frames": len(rows),
            "faces_per_frame": round(sum(map(len, outputs)) / len(outputs), 2),
            "torch_threads": settings.FER_LIVE_TORCH_THREADS, "bf16": engine.bf16,
            "reply_cpu_ms_per_frame": round(1000 * float(np.mean([r["cpu"] for r in rows])), 2),
            "process_cpu_ms_per_frame": round(process_ms, 2), "stages": table}, outputs


def _process_cpu() -> float:
    """CPU seconds of every thread of this process (OpenCV's and torch's own pools included)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def agreement(mine: list, theirs: list) -> dict:
    """Two runs' replies to the same frames: faces found alike (same id and box), their readings."""
    same_faces = same_labels = 0
    diffs = []
    for a, b in zip(mine, theirs):
        by_id = {f["id"]: f for f in b}
        for face in a:
            other = by_id.get(face["id"])
            if other is None or other["box"] != face["box"]:
                continue
            same_faces += 1
            same_labels += other["dominant"] == face["dominant"]
            diffs.append(max(abs(face["probs"][e] - other["probs"][e]) for e in face["probs"]))
    return {"frames": len(mine), "faces": sum(map(len, mine)), "faces_before": sum(map(len, theirs)),
            "same_faces": same_faces, "same_labels": same_labels,
            "max_prob_difference": round(max(diffs), 5) if diffs else None,
            "identical": mine == theirs}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--fps", type=float, default=10, help="the clip sampled at this rate (the page's default)")
    ap.add_argument("--rounds", type=int, default=3, help="times through the clip (a fresh stream each time)")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--replies", help="write the replies to the clip's frames (first round) to this file")
    ap.add_argument("--against", help="compare the replies with those of an earlier run (its --replies file)")
    args = ap.parse_args()
    result, outputs = profile(args.width, args.fps, args.rounds)
    if args.replies:
        Path(args.replies).write_text(json.dumps(outputs) + "\n")
    if args.against:
        result["agreement"] = agreement(outputs, json.loads(Path(args.against).read_text()))
    print(f"{result['frames']} frames of {args.width} px, {result['faces_per_frame']} faces a frame, "
          f"bf16 {result['bf16']}, load {os.getloadavg()[0]:.1f}; CPU per frame: reply "
          f"{result['reply_cpu_ms_per_frame']} ms, process {result['process_cpu_ms_per_frame']} ms (scans included)")
    if "agreement" in result:
        print("  against the earlier replies:", result["agreement"])
    for label, row in result["stages"].items():
        print(f"  {label:34s} " + "  ".join(f"{k} {v}" for k, v in row.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
