"""Engine benchmark on the shared clip: speed beside plain Haar, trust against the clip's ground truth.

    .venv/bin/python benchmarks/bench_engine.py [--runs 5] [--out benchmarks/results/engine.json]

Measured in one run, with the thread counts a user gets by default (torch's and OpenCV's):
- classification cost per face, batch 1 and batch 64, as ``classify_faces`` (mirror-averaged);
- the baseline: decode + OpenCV's Haar cascade on every full frame (scale 1.1, 5 neighbours, 40 px);
- the engine's whole video path (``iter_video``: decode, shot cuts, scans, local re-detection,
  tracking, CNN, LSTM) at frame step 1 and 3, its speed-up over the baseline, and where its time goes
  (each stage timed alone, in one thread, per analysed frame);
- both scored against tests/data/hamilton_truth.json (emotion/training/trackeval.py): face recall, false
  boxes, identity switches, cuts found; and whether steps 1 and 3 report the same faces on the frames
  they share.
Every speed is the median of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from emotion.ml import load_engine  # noqa: E402
from emotion.ml.engine import STREAM_MIRROR  # noqa: E402
from emotion.ml.faces import DetectorConfig, FaceDetector, to_gray  # noqa: E402
from emotion.ml.media import iter_frames  # noqa: E402
from emotion.training.trackeval import load_truth, score_tracks  # noqa: E402
from emotion.ml.tracking import iou  # noqa: E402

CLIP = ROOT.parent / "shared" / "media" / "short_hamilton_clip.mp4"
TRUTH = ROOT / "tests" / "data" / "hamilton_truth.json"
TRUST_KEYS = ("scored_faces", "recalled", "recall", "reported_boxes", "false_boxes", "false_box_rate",
              "id_switches", "fragmentations", "cuts_true", "cuts_found", "cuts_missed", "false_cuts")


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
    return [(i, det.detect(to_gray(frame))) for i, frame in iter_frames(path)]


def pipeline(engine, path, step: int):
    stream = engine.stream()
    out = [(i, faces) for i, _, _, faces in engine.iter_video(path, frame_step=step, stream=stream)]
    return out, stream.cut_frames


def trust(truth, frames, cuts=None) -> dict:
    """frames: [(index, faces)] where a face is an engine result or a bare box."""
    reported = [(i, getattr(f, "face_id", 0), getattr(f, "box", f)) for i, faces in frames for f in faces]
    res = score_tracks(truth, reported, [i for i, _ in frames], cuts)
    return {k: res[k] for k in TRUST_KEYS if k in res}


def agreement(step1, step3) -> dict:
    """Faces reported on the frames both steps analyse, matched at IoU >= 0.5."""
    one = dict(step1)
    pairs = [(one[i], faces) for i, faces in step3]
    n1, n3 = sum(len(a) for a, _ in pairs), sum(len(b) for _, b in pairs)
    in3 = sum(any(iou(x.box, y.box) >= 0.5 for y in b) for a, b in pairs for x in a)
    in1 = sum(any(iou(x.box, y.box) >= 0.5 for x in a) for a, b in pairs for y in b)
    return {"shared_frames": len(pairs), "step1_faces": n1, "also_at_step3": in3, "step3_faces": n3,
            "also_at_step1": in1, "agreement": (in3 + in1) / max(n1 + n3, 1), **label_agreement(pairs)}


def label_agreement(pairs) -> dict:
    """Of the faces both steps report (each step-1 face with its best step-3 match at IoU >= 0.5), the
    share whose shown labels agree, and whose reliable flags agree."""
    matched = []
    for a, b in pairs:
        for x in a:
            best = max(b, key=lambda y: iou(x.box, y.box), default=None)
            if best is not None and iou(x.box, best.box) >= 0.5:
                matched.append((x, best))
    n = max(len(matched), 1)
    return {"matched_faces": len(matched),
            "shown_labels_agree": sum(x.dominant == y.dominant for x, y in matched) / n,
            "reliable_flags_agree": sum(x.reliable == y.reliable for x, y in matched) / n}


def stage_costs(engine, path) -> dict:
    """Where the time goes: every stage of the step-1 path run alone, one after the other in one
    thread (OpenCV and torch with their default threads), in ms per frame; the pipeline overlaps
    them on two cores."""
    det = engine.detector
    spent, calls = Counter(), Counter()

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.perf_counter() - t
                calls[name] += 1
        return wrapper

    stream = engine.stream()
    det.detect, det.detect_near = timed("scan", det.detect), timed("local_redetection", det.detect_near)
    stream.cuts.is_cut = timed("cut_check", stream.cuts.is_cut)
    stream.tracker._search = timed("template", stream.tracker._search)
    try:
        t = time.perf_counter()
        frames = [f for _, f in iter_frames(path)]
        spent["decode"] = time.perf_counter() - t
        t = time.perf_counter()
        located = [stream.locate(f, i, i / 29.97) for i, f in enumerate(frames)]
        locate_total = time.perf_counter() - t
    finally:
        del det.detect, det.detect_near         # back to the class's methods
    crops = np.concatenate([loc.crops for loc in located])
    t = time.perf_counter()
    feats, logits = engine.cnn(crops, mirror=STREAM_MIRROR)
    spent["cnn"] = time.perf_counter() - t
    t, start = time.perf_counter(), 0
    for loc in located:
        n = len(loc.crops)
        stream.classify(loc, feats[start:start + n], logits[start:start + n]) if n else stream.classify(loc)
        start += n
    spent["lstm_label_quality"] = time.perf_counter() - t
    spent["crop_and_rest_of_locate"] = locate_total - sum(spent[k] for k in ("scan", "local_redetection",
                                                                              "cut_check", "template"))
    n = len(frames)
    return {"ms_per_frame": {k: round(v * 1000 / n, 3) for k, v in spent.items()},
            "calls": dict(calls), "faces": int(len(crops)), "frames": n,
            "total_ms_per_frame": round(sum(spent.values()) * 1000 / n, 3)}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "engine.json")
    p.add_argument("--baseline", type=Path, help="another checkpoint whose classify_faces is timed beside, "
                                                 "call for call (e.g. the previous model)")
    args = p.parse_args(argv)
    engine = load_engine()
    truth = load_truth(TRUTH)
    res = {"command": "python benchmarks/bench_engine.py --runs %d%s" % (args.runs, f" --baseline {args.baseline}" if args.baseline else ""),
           "machine": f"{platform.machine()}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
                      f"OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads)",
           "runs": args.runs, "bf16": engine.bf16, "model_version": engine.version}

    rng = np.random.default_rng(0)
    faces64 = rng.integers(0, 255, (64, 48, 48), dtype=np.uint8)
    engines = {"classify_ms_per_face": engine}
    if args.baseline:
        other = load_engine(args.baseline)
        engines["baseline_classify_ms_per_face"] = other
        res["baseline_model_version"] = other.version
    for e in engines.values():
        e.classify_faces(faces64)                                      # warm-up
    times = {k: ([], []) for k in engines}
    for _ in range(args.runs):            # the two models take turns, so both see the same machine state
        for key, e in engines.items():
            times[key][0].append(median_time(lambda: e.classify_faces(faces64[:1]), 20))
            times[key][1].append(median_time(lambda: e.classify_faces(faces64), 3))
    for key, (one, batch) in times.items():
        res[key] = {"batch_1": statistics.median(one) * 1000, "batch_64": statistics.median(batch) * 1000 / 64}

    base = baseline(CLIP)
    frames = len(base)
    t_base = median_time(lambda: baseline(CLIP), args.runs)
    video = res["video"] = {"clip": CLIP.name, "frames": frames, "baseline_haar_every_full_frame": {
        "fps": frames / t_base, "trust": trust(truth, base)}}
    found = {}
    for step in (1, 3):
        found[step], cuts = pipeline(engine, CLIP, step)
        t_pipe = median_time(lambda: pipeline(engine, CLIP, step), args.runs)
        video[f"pipeline_step_{step}"] = {
            "analysed_frames": len(found[step]), "fps_of_the_clip": frames / t_pipe,
            "speedup_vs_baseline": t_base / t_pipe, "trust": trust(truth, found[step], cuts),
            "sources": dict(Counter(f.source for _, fs in found[step] for f in fs)),
            "reliable": sum(f.reliable for _, fs in found[step] for f in fs)}
    video["step_1_vs_3"] = agreement(found[1], found[3])
    video["stages_step_1"] = stage_costs(engine, CLIP)
    res["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
