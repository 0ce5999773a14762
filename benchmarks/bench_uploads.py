"""Upload benchmark: the shared clip from upload to finished analysis through the real site (daphne,
Redis, a Celery worker), beside the same analysis without the web path, in the same run; then two
videos at once with two workers against one worker taking them in turn.

    flock /tmp/fer-bench.lock .venv/bin/python benchmarks/bench_uploads.py [--runs 5]

Measured per upload: wall time from the POST to the moment the API says "done" (polled every 20 ms),
and the worker's own job time (finished_at - started_at). Baselines: the engine's analysis of the clip
in this process (1 torch thread, as in a worker), and `manage.py analyze` as a command (a new process:
Python, Django and the model load included). Writes benchmarks/results/uploads.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests import servers  # noqa: E402
from tests.conftest import CLIP  # noqa: E402

import requests  # noqa: E402


def api(base: str, token: str):
    s = requests.Session()
    s.headers["Authorization"] = f"Token {token}"
    return s


def upload(session, base: str) -> int:
    with open(CLIP, "rb") as fh:
        res = session.post(f"{base}/api/analyses/", files={"file": (CLIP.name, fh)})
    res.raise_for_status()
    return res.json()["id"]


def wait_done(session, base: str, pk: int) -> dict:
    while True:
        body = session.get(f"{base}/api/analyses/{pk}/").json()
        if body["status"] in ("done", "failed"):
            if body["status"] != "done":
                raise RuntimeError(body["error"])
            return body
        time.sleep(0.02)


def job_seconds(body: dict) -> float:
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(body["finished_at"]) - parse(body["started_at"])).total_seconds()


def engine_baseline(runs: int) -> list:
    """The analysis alone, in this process: decode, detect, track, CNN-LSTM, per-frame rows."""
    import torch

    from emotion.ml import load_engine

    torch.set_num_threads(1)
    engine = load_engine()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        n = sum(1 for _ in engine.analyze_video(CLIP))
        times.append(time.perf_counter() - t)
    return times, n


def cli_baseline(runs: int, env: dict) -> list:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", "analyze", str(CLIP), "--format", "csv", "--out", os.devnull,
                        "--no-progress"], cwd=ROOT, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return times


def site(env: dict, workers: int, log_dir: Path):
    worker = servers.start_worker(env, log_dir / f"worker-{workers}.log", concurrency=workers, name=f"bench{workers}")
    daphne, base = servers.start_daphne(env, log_dir / "daphne.log")
    return worker, daphne, base


def med(xs) -> float:
    return round(statistics.median(xs), 3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "uploads.json")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fer-bench-uploads-"))
    db = work / "db.sqlite3"
    env = servers.child_env({"ENGINE": "sqlite3", "NAME": str(db)}, MEDIA_ROOT=str(work / "media"),
                            FER_UPLOAD_TEMP_DIR=str(work / "tmp"), FER_TORCH_THREADS="1")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    token = subprocess.run([sys.executable, "manage.py", "shell", "-c",
                            "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token;"
                            "u=User.objects.create_user('bench'); print(Token.objects.create(user=u).key)"],
                           cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.split()[-1]

    print("baselines…", flush=True)
    engine_times, rows = engine_baseline(args.runs)
    cli_times = cli_baseline(args.runs, env)

    results = {}
    for workers in (1, 2):
        worker, daphne, base = site(env, workers, work)
        s = api(base, token)
        try:
            wait_done(s, base, upload(s, base))          # warm-up: first request, first job
            if workers == 1:
                walls, jobs = [], []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    body = wait_done(s, base, upload(s, base))
                    walls.append(time.perf_counter() - t)
                    jobs.append(job_seconds(body))
                    assert body["result_count"] == rows, (body["result_count"], rows)
                results["one_upload"] = {"wall_s": walls, "job_s": jobs}
            pairs = []
            for _ in range(max(2, args.runs // 2)):
                t = time.perf_counter()
                ids = [upload(s, base), upload(s, base)]
                for pk in ids:
                    wait_done(s, base, pk)
                pairs.append(time.perf_counter() - t)
            results[f"two_uploads_{workers}_worker{'s' if workers > 1 else ''}"] = {"wall_s": pairs}
        finally:
            servers.stop(daphne)
            servers.stop(worker, timeout=30)

    one = results["one_upload"]
    summary = {
        "engine_in_process_s": med(engine_times),
        "cli_command_s": med(cli_times),
        "upload_to_done_s": med(one["wall_s"]),
        "worker_job_s": med(one["job_s"]),
        "web_overhead_s": round(med(one["wall_s"]) - med(engine_times), 3),
        "two_videos_one_worker_s": med(results["two_uploads_1_worker"]["wall_s"]),
        "two_videos_two_workers_s": med(results["two_uploads_2_workers"]["wall_s"]),
    }
    summary["two_workers_speedup"] = round(summary["two_videos_one_worker_s"] / summary["two_videos_two_workers_s"], 2)
    out = {
        "what": "the shared clip (640x360, 275 frames, 9.2 s) analysed end to end; medians",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": args.runs, "results_per_clip": rows, "summary": summary,
        "raw": {"engine_s": engine_times, "cli_s": cli_times, **results},
    }
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
