"""python manage.py analyze PATH: per-frame, per-face emotions of an image or a video."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from emotion.ml import MediaError, TruncatedVideoError, load_engine
from emotion.ml.annotate import draw_faces
from emotion.ml.engine import DETECT_EVERY, FrameRecord
from emotion.ml.export import record_row, rows_to_csv, rows_to_table
from emotion.ml.media import open_media


class Command(BaseCommand):
    help = "Find the faces in an image or a video and tell their emotions, frame by frame."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
        parser.add_argument("--out", type=Path, help="write the results here instead of standard output")
        parser.add_argument("--annotate", type=Path, metavar="FILE",
                            help="also write the media with boxes, labels and probabilities drawn (.mp4 or image)")
        parser.add_argument("--frame-step", type=int, default=1, help="analyse every N-th frame of a video")
        parser.add_argument("--detect-every", type=int, default=DETECT_EVERY,
                            help="run face detection every N analysed frames, follow faces in between")
        parser.add_argument("--checkpoint", type=Path, help="model checkpoint (default: the shipped one)")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        path: Path = opts["path"]
        if opts["frame_step"] < 1 or opts["detect_every"] < 1:
            raise CommandError("--frame-step and --detect-every must be at least 1")
        checkpoint = opts["checkpoint"] or settings.EMOTION_CHECKPOINT or None
        try:
            engine = load_engine(checkpoint)
        except Exception as exc:      # a missing, truncated or foreign file: say so, no traceback
            raise CommandError(f"cannot load the model checkpoint {checkpoint or '(shipped)'}: {exc}")
        error = None
        try:
            kind, media = open_media(path)
            if kind == "image":
                rows = self._image(engine, media, opts)
            else:
                rows, error = self._video(engine, path, media, opts)
        except MediaError as exc:
            raise CommandError(str(exc))
        if rows:
            self._write(rows, opts, engine.version, path, kind)
        if error:
            kept = f"; the results of the {error.frames_read} frames decoded before that were written" if rows else ""
            raise CommandError(f"{error}{kept}")
        if not rows:
            raise CommandError(f"{path}: no faces found in this {kind}")

    def _image(self, engine, bgr, opts):
        faces = engine.analyze_image(bgr)
        if opts["annotate"] and faces:
            try:
                written = cv2.imwrite(str(opts["annotate"]), draw_faces(bgr, faces))
            except cv2.error:
                written = False
            if not written:
                raise CommandError(f"could not write the image {opts['annotate']} (is the extension an image "
                                   "format, and the folder writable?)")
        return [record_row(FrameRecord(0, 0.0, f), engine.version) for f in faces]

    def _video(self, engine, path, info, opts):
        """(rows, None), or (the rows decoded so far, TruncatedVideoError) for a damaged video."""
        writer = None
        if opts["annotate"]:
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            fps = info.fps / opts["frame_step"]
            writer = cv2.VideoWriter(str(opts["annotate"]), fourcc, fps, (info.width, info.height))
            if not writer.isOpened():
                raise CommandError(f"could not open {opts['annotate']} for writing a video")
        bar = tqdm(total=info.frame_count, unit="frame", desc=path.name, file=sys.stderr,
                   disable=opts["no_progress"])
        rows, error = [], None
        try:
            for index, t, frame, faces in engine.iter_video(path, opts["frame_step"], opts["detect_every"],
                                                            progress=lambda done, _: bar.update(done - bar.n),
                                                            info=info):
                rows.extend(record_row(FrameRecord(index, t, f), engine.version) for f in faces)
                if writer is not None:
                    writer.write(draw_faces(frame, faces))
        except TruncatedVideoError as exc:
            error = exc
        finally:
            bar.close()
            if writer is not None:
                writer.release()
        return rows, error

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
