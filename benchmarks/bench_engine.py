"""Engine benchmark: classification latency per face, the video pipeline's speed on the shared clip
beside plain Haar detection on every full frame (the baseline, measured in the same run), how many
of the baseline's face frames the pipeline also covers, and peak memory.

    .venv/bin/python benchmarks/bench_engine.py [--runs 5] [--threads 1] [--out benchmarks/results/engine.json]

Every figure is the median of ``--runs`` runs. Both the pipeline and the baseline run with the same
thread settings (one thread by default: the figures then compare like with like on one core).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from emotion.ml import load_engine  # noqa: E402
from emotion.ml.faces import DetectorConfig, FaceDetector, to_gray  # noqa: E402
from emotion.ml.media import iter_frames  # noqa: E402
from emotion.ml.tracking import iou  # noqa: E402

CLIP = ROOT.parent / "shared" / "media" / "short_hamilton_clip.mp4"
FACES = ROOT.parent / "shared" / "datasets" / "fer2013.zip"


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def baseline(path) -> list:
    """Plain Haar on every full frame: decode + detect, the settings of shared/media/README.md."""
    det = FaceDetector(DetectorConfig(scale_factor=1.1, min_neighbors=5, min_size=40, max_side=0))
    return [det.detect(to_gray(frame)) for _, frame in iter_frames(path)]


def pipeline(engine, path, detect_every: int) -> list:
    """The whole engine path: decode, detect, track, CNN, LSTM."""
    return [faces for _, _, _, faces in engine.iter_video(path, detect_every=detect_every)]


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--detect-every", type=int, nargs="+", default=[10])
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "engine.json")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    engine = load_engine()
    res = {"machine": f"{platform.machine()}, {torch.get_num_threads()} thread(s), torch {torch.__version__}, "
                      f"OpenCV {cv2.__version__}", "runs": args.runs, "bf16": engine.bf16,
           "model_version": engine.version}

    rng = np.random.default_rng(0)
    faces64 = rng.integers(0, 255, (64, 48, 48), dtype=np.uint8)
    engine.classify_faces(faces64)                                     # warm-up
    one = median_time(lambda: engine.classify_faces(faces64[:1]), args.runs * 20)
    batch = median_time(lambda: engine.classify_faces(faces64), args.runs * 3)
    res["classify_ms_per_face"] = {"batch_1": one * 1000, "batch_64": batch * 1000 / 64}

    frames = sum(1 for _ in iter_frames(CLIP))
    base_boxes = baseline(CLIP)
    t_base = median_time(lambda: baseline(CLIP), args.runs)
    res["video"] = {"clip": CLIP.name, "frames": frames,
                    "baseline_haar_every_full_frame": {"fps": frames / t_base,
                                                       "frames_with_face": sum(bool(b) for b in base_boxes)}}
    for k in args.detect_every:
        found = pipeline(engine, CLIP, k)
        t_pipe = median_time(lambda: pipeline(engine, CLIP, k), args.runs)
        with_face = [i for i, b in enumerate(base_boxes) if b]
        covered = sum(any(iou(f.box, b) > 0.3 for f in found[i] for b in base_boxes[i]) for i in with_face)
        res["video"][f"pipeline_detect_every_{k}"] = {
            "fps": frames / t_pipe, "speedup_vs_baseline": t_base / t_pipe,
            "frames_with_face": sum(bool(f) for f in found),
            "baseline_face_frames_covered": covered, "baseline_face_frames": len(with_face),
            "track_ids": len({f.face_id for fs in found for f in fs})}
    res["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
