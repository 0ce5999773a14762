"""python manage.py analyze PATH: per-frame, per-face emotions of an image or a video."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from emotion.ml import MediaError, load_engine
from emotion.ml.driver import AnnotatedSink, RowSink, run_media
from emotion.ml.export import rows_to_csv, rows_to_table


class Command(BaseCommand):
    help = "Find the faces in an image or a video and tell their emotions, frame by frame."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
        parser.add_argument("--out", type=Path, help="write the results here instead of standard output")
        parser.add_argument("--annotate", type=Path, metavar="FILE",
                            help="also write the media with boxes, labels and probabilities drawn: an image, or "
                                 "a video as .mp4 (H.264) or .webm (VP9), with the original's sound")
        parser.add_argument("--blur", action="store_true", default=None,
                            help="blur every face beyond recognition in the --annotate copy, keeping its box and "
                                 "labels (default: the FER_BLUR_FACES setting)")
        parser.add_argument("--frame-step", type=int, default=1, help="analyse every N-th frame of a video")
        parser.add_argument("--checkpoint", type=Path, help="model checkpoint (default: the shipped one)")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        path: Path = opts["path"]
        if opts["frame_step"] < 1:
            raise CommandError("--frame-step must be at least 1")
        checkpoint = opts["checkpoint"] or settings.EMOTION_CHECKPOINT or None
        try:
            engine = load_engine(checkpoint)
        except Exception as exc:      # a missing, truncated or foreign file: say so, no traceback
            raise CommandError(f"cannot load the model checkpoint {checkpoint or '(shipped)'}: {exc}")
        rows = RowSink(engine.version)
        sinks = [rows]
        blur = settings.FER_BLUR_FACES if opts["blur"] is None else opts["blur"]
        annotated = AnnotatedSink(opts["annotate"], source=path, blur=blur) if opts["annotate"] else None
        if annotated is not None:
            sinks.append(annotated)
        bar = tqdm(unit="frame", desc=path.name, file=sys.stderr, disable=opts["no_progress"])

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            outcome = run_media(engine, path, sinks, frame_step=opts["frame_step"], progress=progress)
        except MediaError as exc:
            raise CommandError(str(exc))
        finally:
            bar.close()
        if annotated is not None and annotated.error:
            raise CommandError(annotated.error)
        if rows.rows:
            self._write(rows.rows, opts, engine.version, path, outcome.kind)
        if outcome.truncated:
            kept = (f"; the results of the {outcome.truncated.frames_read} frames decoded before that were written"
                    if rows.rows else "")
            raise CommandError(f"{outcome.truncated}{kept}")
        if not rows.rows:
            raise CommandError(f"{path}: no faces found in this {outcome.kind}")

    def _write(self, rows, opts, version, path, kind):
        fmt = opts["format"]
        if fmt == "csv":
            text = rows_to_csv(rows)
        elif fmt == "json":
            text = json.dumps({"source": str(path), "kind": kind, "model_version": version, "results": rows}, indent=1)
        else:
            text = rows_to_table(rows)
        if opts["out"]:
            try:
                opts["out"].write_text(text if text.endswith("\n") else text + "\n")
            except OSError as exc:
                raise CommandError(f"could not write {opts['out']}: {exc.strerror}")
            self.stderr.write(f"wrote {len(rows)} results to {opts['out']}")
        else:
            self.stdout.write(text)
