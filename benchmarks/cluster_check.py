"""The scenario of `scripts/cluster.sh check`, run from this machine's own namespace against a started
cluster (see that script for the hosts and addresses). Its last line of output is one JSON object,
also written to benchmarks/results/cluster.json; it exits 1 when a promise was not kept.

1. Worker host killed: 20 uploads of the shared clip through the balancer; once both worker hosts are
   on a job, every process of worker host 1 is killed (SIGKILL). All 20 must end `done`, each finished
   by exactly one job run (the workers' logs) with exactly one set of result rows, and the jobs that
   were on the killed host must be done again within the bound: the heartbeat's expiry plus one watch
   interval plus the job's own time (FER_JOB_HEARTBEAT_SECONDS 15 and FER_JOB_WATCH_SECONDS 5 here).
2. Throughput: the same 20 uploads with one worker host (host 1 still down), then with two (host 1
   started again), as videos per minute from the first upload to the last `done`.
3. Web host killed: 8 live clients at 10 frames/s, each from an address of its own, through the
   balancer; after 10 s every process of web host 1 is killed; its clients reconnect through the
   balancer (to web host 2) and must get results again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.conftest import CLIP  # noqa: E402

import requests  # noqa: E402

LIVE_FPS = 10
LIVE_BEFORE_S, LIVE_AFTER_S = 10.0, 20.0
DONE_TIMEOUT_S = 600


def log(msg: str) -> None:
    print(f"[cluster check {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cluster(*args: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "cluster.sh"), *args], check=True, env=os.environ)


class Site:
    """The cluster's database (reached from this namespace like any host of the cluster) and its API
    through the balancer."""

    def __init__(self, net: str):
        os.environ.update(DATABASE_URL=f"postgres://postgres@{net}.10:5432/fer", REDIS_URL=f"redis://{net}.10:6379/0",
                          DJANGO_SETTINGS_MODULE="fersite.settings", DJANGO_SECRET_KEY="check-only")
        import django

        django.setup()
        from django.contrib.auth.models import User
        from rest_framework.authtoken.models import Token

        user, _ = User.objects.get_or_create(username="cluster-check")
        token, _ = Token.objects.get_or_create(user=user)
        self.base = f"http://{net}.5"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Token {token.key}"

    def upload(self) -> int:
        """Upload the clip as a well-behaved client does: a 429 or 503 (the per-user upload window, a
        busy probe) is waited out for the Retry-After it gives, however fast the jobs before it ran;
        anything else is retried a few times, then the check fails."""
        failures, deadline = 0, time.monotonic() + 300
        while failures < 5 and time.monotonic() < deadline:
            with open(CLIP, "rb") as fh:
                res = self.http.post(f"{self.base}/api/analyses/", files={"file": (CLIP.name, fh)}, timeout=60)
            if res.status_code == 201:
                return res.json()["id"]
            log(f"upload answered {res.status_code}: {res.text[:200]}")
            if res.status_code in (429, 503):
                time.sleep(min(60.0, max(1.0, float(res.headers.get("Retry-After") or 1))))
            else:
                failures += 1
                time.sleep(1)
        raise RuntimeError("uploads keep failing")

    @staticmethod
    def job_pid(pk: int):
        """The process holding the analysis' job key (emotion/research/analyses/liveness.py), if any."""
        import redis
        from django.conf import settings

        held = redis.Redis.from_url(settings.REDIS_URL).get(f"{settings.CELERY_TASK_DEFAULT_QUEUE}:running:{pk}")
        try:
            return int(held.decode().split("|")[2])
        except (AttributeError, IndexError, ValueError):
            return None

    @staticmethod
    def runs(ids) -> dict:
        from emotion.research.models import Analysis

        return {pk: (status, started) for pk, status, started in
                Analysis.objects.filter(pk__in=ids).values_list("pk", "status", "started_at")}

    def wait_done(self, ids, lost=None, since=0.0) -> tuple:
        """Poll until every analysis has finished. `lost`: {pk: started_at} of the jobs the killed host
        was on; returns (statuses, seconds after `since` until each of them was back (queued again,
        or started anew elsewhere), seconds until they were all done)."""
        deadline, back, done = time.monotonic() + DONE_TIMEOUT_S, {}, None
        while True:
            now = self.runs(ids)
            for pk, started in (lost or {}).items():
                status, started_now = now[pk]
                if pk not in back and (status == "queued" or started_now != started):
                    back[pk] = time.monotonic() - since
            if lost and done is None and all(now[pk][0] == "done" for pk in lost):
                done = time.monotonic() - since
            statuses = {pk: v[0] for pk, v in now.items()}
            if all(s in ("done", "failed") for s in statuses.values()) or time.monotonic() > deadline:
                returned = max(back.values()) if lost and len(back) == len(lost) else None
                return statuses, returned, done
            time.sleep(0.25)

    @staticmethod
    def rows(ids) -> dict:
        from django.db.models import Count

        from emotion.research.models import FrameResult

        return dict(FrameResult.objects.filter(analysis_id__in=ids).values_list("analysis_id")
                    .annotate(n=Count("id")).values_list("analysis_id", "n"))


def finishes(state: Path, ids) -> Counter:
    """Job runs that finished each analysis, from every worker host's log."""
    done = Counter()
    pattern = re.compile(r"analysis (\d+) run \S+: done")
    for name in ("wk1", "wk2"):
        for line in (state / "logs" / f"{name}.log").read_text(errors="replace").splitlines():
            m = pattern.search(line)
            if m and int(m.group(1)) in ids:
                done[int(m.group(1))] += 1
    return done


def upload_batch(site: Site, n: int) -> tuple:
    start = time.monotonic()
    ids = [site.upload() for _ in range(n)]
    return ids, start


def host_pids(prefix: str, host: str) -> list:
    out = subprocess.run(["ip", "netns", "pids", f"{prefix}-{host}"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def worker_killed(site: Site, state: Path, prefix: str, n: int) -> dict:
    log(f"{n} uploads, then worker host 1 killed while both worker hosts are on a job")
    ids, _ = upload_batch(site, n)
    # Kill worker host 1 while it is on a job (its job's heartbeat key names the process running it).
    deadline, lost = time.monotonic() + 180, {}
    while time.monotonic() < deadline and not lost:
        running = {pk: v[1] for pk, v in site.runs(ids).items() if v[0] == "running"}
        on_wk1 = set(host_pids(prefix, "wk1"))
        lost = {pk: started for pk, started in running.items() if site.job_pid(pk) in on_wk1}
        if not lost:
            time.sleep(0.1)
    if not lost:
        raise RuntimeError("worker host 1 never took a job")
    cluster("kill-host", "wk1")
    killed_at = time.monotonic()
    log(f"worker host 1 killed while on analysis {sorted(lost)} (running then: {sorted(running)})")
    statuses, recovered, lost_done = site.wait_done(ids, lost=lost, since=killed_at)
    rows = site.rows(ids)
    expected = Counter(rows.values()).most_common(1)[0][0] if rows else 0
    duplicates = sum(max(0, r - expected) for r in rows.values())
    runs = finishes(state, set(ids))
    return {"ids": ids, "done": sum(s == "done" for s in statuses.values()), "recovered": recovered,
            "lost_done": lost_done, "lost": sorted(lost),
            "duplicate_rows": duplicates, "rows_per_analysis": sorted(set(rows.values())),
            "finished_more_than_once": sorted(pk for pk, k in runs.items() if k > 1),
            "finished_by_no_logged_run": sorted(set(ids) - set(runs))}


def throughput(site: Site, n: int) -> float:
    ids, start = upload_batch(site, n)
    statuses, _, _ = site.wait_done(ids)
    took = time.monotonic() - start
    if any(s != "done" for s in statuses.values()):
        raise RuntimeError(f"not every analysis ended done: {Counter(statuses.values())}")
    return round(n / took * 60, 2)


def wait_worker_ready(state: Path, name: str, timeout: float = 120) -> None:
    log_file, deadline = state / "logs" / f"{name}.log", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_file.exists() and " ready." in log_file.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise RuntimeError(f"worker {name} did not come up: see {log_file}")


# --- live clients ------------------------------------------------------------------------------------
async def live_client(url: str, origin: str, source: str, frames: list, offset: int, until: float,
                      record: dict) -> None:
    """One visitor: sends a frame whenever the previous one was answered (at most LIVE_FPS a second),
    reconnecting through the balancer whenever its connection drops."""
    from websockets.asyncio.client import connect

    i = offset
    while time.monotonic() < until:
        try:
            async with connect(url, origin=origin, max_size=2 ** 20, compression=None, open_timeout=5,
                               local_addr=(source, 0)) as ws:
                hello = json.loads(await ws.recv())
                record["servers"].append((time.monotonic(), hello.get("server")))
                await ws.send(json.dumps({"type": "start", "store": False}))
                json.loads(await ws.recv())
                while time.monotonic() < until:
                    tick = time.monotonic()
                    await ws.send(frames[i % len(frames)])
                    i += 1
                    while True:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                        if msg.get("seq") is not None:
                            break
                    if msg["type"] == "result":
                        record["results"].append(time.monotonic())
                    await asyncio.sleep(max(0.0, 1 / LIVE_FPS - (time.monotonic() - tick)))
        except Exception as exc:               # noqa: BLE001 - a dropped host shows up as any of several errors
            record["drops"].append((time.monotonic(), type(exc).__name__))
            await asyncio.sleep(0.5)


async def live_phase(net: str, clients: int) -> dict:
    from benchmarks.bench_live import clip_jpegs

    frames = clip_jpegs(640, LIVE_FPS)
    start = time.monotonic()
    until = start + LIVE_BEFORE_S + LIVE_AFTER_S
    records = [{"servers": [], "results": [], "drops": []} for _ in range(clients)]
    tasks = [asyncio.ensure_future(live_client(f"ws://{net}.5/ws/live/", f"http://{net}.5", f"{net}.{101 + k}",
                                               frames, k * len(frames) // clients, until, records[k]))
             for k in range(clients)]
    await asyncio.sleep(LIVE_BEFORE_S)
    before = Counter(r["servers"][-1][1] for r in records if r["servers"])
    log(f"live clients per web host before the kill: {dict(before)}")
    await asyncio.to_thread(cluster, "kill-host", "web1")
    killed_at = time.monotonic()
    log("web host 1 killed")
    await asyncio.gather(*tasks)
    on_killed = [r for r in records if r["servers"] and any(s == "web1" for t, s in r["servers"] if t < killed_at)]
    # Recovered: results again in the last 5 s, from a connection opened on the surviving host.
    recovered = [r for r in records
                 if any(t > until - 5 for t in r["results"]) and r["servers"][-1][1] == "web2"]
    back_after = [min((t for t in r["results"] if t > killed_at), default=None) for r in on_killed]
    return {
        "clients_per_web_host_before": dict(before),
        "clients_on_killed_host": len(on_killed),
        "recovered": len(recovered),
        "max_gap_s": round(max((b - killed_at for b in back_after if b is not None), default=0.0), 2),
        "results_per_client_s": round(sum(len(r["results"]) for r in records) / clients / (until - start), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--net", default="10.231.7")
    ap.add_argument("--prefix", default="fercl")
    ap.add_argument("--state", type=Path, default=ROOT / "var" / "cluster")
    ap.add_argument("--uploads", type=int, default=20)
    ap.add_argument("--live-clients", type=int, default=8)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cluster.json")
    args = ap.parse_args()
    site = Site(args.net)
    heartbeat = float(os.environ.get("FER_JOB_HEARTBEAT_SECONDS", 15))
    watch = float(os.environ.get("FER_JOB_WATCH_SECONDS", 5))

    killed = worker_killed(site, args.state, args.prefix, args.uploads)
    log(f"all finished: {killed['done']} done; the killed host's job came back {killed['recovered']} s after the "
        f"kill and was done {killed['lost_done']} s after")
    log("throughput with one worker host")
    one = throughput(site, args.uploads)
    cluster("restart-worker", "wk1")
    wait_worker_ready(args.state, "wk1")
    log("throughput with two worker hosts")
    two = throughput(site, args.uploads)
    live = asyncio.run(live_phase(args.net, args.live_clients))

    # The bound: the job's key expires (heartbeat), the next watch of a surviving worker sees it (watch
    # interval), plus 5 s for that worker's database round trips on a loaded machine.
    bound = heartbeat + watch + 5
    result = {
        "hosts": {"data": f"{args.net}.10", "web": [f"{args.net}.21", f"{args.net}.22"],
                  "worker": [f"{args.net}.31", f"{args.net}.32"], "balancer": f"{args.net}.5"},
        "analyses_submitted": args.uploads,
        "analyses_done": killed["done"],
        "duplicate_rows": killed["duplicate_rows"],
        "finished_more_than_once": killed["finished_more_than_once"],
        "rows_per_analysis": killed["rows_per_analysis"],
        "worker_host_killed": "wk1",
        "recovered_within_s": None if killed["recovered"] is None else round(killed["recovered"], 1),
        "recovery_bound_s": bound,
        "lost_job_done_after_s": None if killed["lost_done"] is None else round(killed["lost_done"], 1),
        "live_clients": args.live_clients,
        "live_clients_recovered": live["recovered"],
        "live_clients_on_killed_host": live["clients_on_killed_host"],
        "live_clients_per_web_host": live["clients_per_web_host_before"],
        "live_longest_gap_s": live["max_gap_s"],
        "web_host_killed": "web1",
        "videos_per_min_1_worker_host": one,
        "videos_per_min_2_worker_hosts": two,
        "cores": os.cpu_count(),
    }
    ok = (result["analyses_done"] == args.uploads and result["duplicate_rows"] == 0
          and not killed["finished_more_than_once"] and not killed["finished_by_no_logged_run"]
          and killed["recovered"] is not None and killed["recovered"] <= bound
          and live["recovered"] == args.live_clients and len(live["clients_per_web_host_before"]) == 2)
    result["passed"] = ok
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    if killed["finished_by_no_logged_run"]:
        log(f"analyses with no logged finishing run: {killed['finished_by_no_logged_run']}")
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
