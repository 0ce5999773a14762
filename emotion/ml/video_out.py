"""Writing the annotated copy of a video with PyAV (FFmpeg inside the wheel; no system binary).

Browsers play it: H.264 (yuv420p) in MP4 with the index at the front (faststart), or VP9 in WebM when
the file name asks for it. The original's sound comes along: copied as it is when the container
takes that codec, re-encoded to AAC (MP4) or Opus (WebM) otherwise.

Timing follows the original, so a time on the site's chart is the same moment in both videos: a
frame keeps the time it had in the original (its index / fps after the first frame's own start), and
with a frame step N each analysed frame stays on screen for the N frames it stands for, up to the
original's length. All times are shifted by the container's start, as a browser shows them.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

TIME_BASE = Fraction(1, 90000)
# container -> (video encoder, audio codecs it takes as they are, audio encoder otherwise)
FORMATS = {
    "mp4": ("libx264", {"aac", "mp3"}, "aac"),
    "webm": ("libvpx-vp9", {"opus", "vorbis"}, "libopus"),
}
EXTENSIONS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mp4", ".webm": "webm"}
AUDIO_LEAD = 0.5            # seconds of sound written ahead of the video, for interleaving


class VideoOutError(ValueError):
    """The annotated video cannot be written; the message says why."""


def container_for(path) -> str:
    ext = Path(path).suffix.lower()
    if ext not in EXTENSIONS:
        raise VideoOutError(f"{path}: an annotated video is written as .mp4 (H.264) or .webm (VP9)")
    return EXTENSIONS[ext]


def start_offset(source) -> float:
    """Seconds from the start of the video as a browser plays it (the container's first timestamp,
    sound included) to its first picture: where analysis time 0 lies on a player's clock. 0.0 when
    the file cannot be read. ``source`` is a path or an open binary file."""
    try:
        with av.open(source if not isinstance(source, Path) else str(source)) as c:
            return _offsets(c)[1]
    except (av.FFmpegError, OSError, IndexError, ValueError):
        return 0.0


def _offsets(container) -> tuple:
    """(container start, first picture after it) in seconds."""
    video = container.streams.video[0]
    first = float(video.start_time * video.time_base) if video.start_time is not None else 0.0
    start = container.start_time / av.time_base if container.start_time is not None else first
    return start, max(0.0, first - start)


class AnnotatedVideo:
    """``write(index, bgr)`` for each analysed frame, in order, then ``close()``."""

    def __init__(self, path, fps: float, frame_count: int, frame_step: int = 1, source=None):
        self.path = Path(path)
        self.fps, self.frame_count, self.step = fps, frame_count, max(1, frame_step)
        self.kind = container_for(self.path)
        self.out = None
        self.video = None
        self.size = None
        self.last = None                    # (index, the last frame as encoded), to hold it to its end
        self.audio_in = None
        self.audio = None
        self.shift = 0.0                    # seconds: the original's container start
        self.offset = 0.0                   # seconds: the first picture after that start
        self._source = source

    def _open(self, width: int, height: int) -> None:
        encoder, _, _ = FORMATS[self.kind]
        options = {"movflags": "+faststart"} if self.kind == "mp4" else {}
        try:
            self.out = av.open(str(self.path), "w", format=self.kind, options=options)
        except (av.FFmpegError, OSError) as exc:
            raise VideoOutError(f"could not open {self.path} for writing a video: {exc}") from exc
        self.video = self.out.add_stream(encoder, rate=Fraction(self.fps).limit_denominator(10000))
        # yuv420p halves the colour resolution: odd sizes get a last row or column repeated
        self.size = (width + width % 2, height + height % 2)
        self.video.width, self.video.height = self.size
        self.video.pix_fmt = "yuv420p"
        self.video.time_base = self.video.codec_context.time_base = TIME_BASE
        self.video.options = {"crf": "23", "preset": "veryfast"} if encoder == "libx264" else \
            {"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"}
        if self._source is not None:
            self._open_audio()

    def _open_audio(self) -> None:
        try:
            src = av.open(str(self._source))
        except (av.FFmpegError, OSError):
            return                          # no sound then; the pictures matter most
        self.shift, self.offset = _offsets(src) if src.streams.video else (0.0, 0.0)
        if not src.streams.audio:
            src.close()
            return
        stream = src.streams.audio[0]
        _, copyable, encoder = FORMATS[self.kind]
        if stream.codec_context.name in copyable:
            self.audio = self.out.add_stream_from_template(stream)
            self.resampler = None
        else:
            rate = stream.codec_context.sample_rate or 48000
            rate = rate if self.kind == "mp4" or rate == 48000 else 48000        # Opus: 48 kHz only
            layout = "mono" if stream.codec_context.layout.nb_channels == 1 else "stereo"
            self.audio = self.out.add_stream(encoder, rate=rate, layout=layout)
            self.resampler = av.AudioResampler(format=self.audio.codec_context.format.name, layout=layout, rate=rate)
            self.samples = None             # samples written, once the first frame is placed
        self.audio_in, self.audio_src = src, stream
        self.packets = self._audio_packets()

    def _audio_packets(self) -> Iterator:
        for packet in self.audio_in.demux(self.audio_src):
            if packet.dts is None and packet.pts is None:
                continue                    # the demuxer's final empty packet
            yield packet

    def _t(self, index: int) -> float:
        """The time of frame ``index`` in the output, seconds."""
        return self.offset + index / self.fps

    def write(self, index: int, bgr: np.ndarray) -> None:
        if self.out is None:
            self._open(bgr.shape[1], bgr.shape[0])
        if (bgr.shape[1], bgr.shape[0]) != self.size:
            bgr = np.pad(bgr, ((0, self.size[1] - bgr.shape[0]), (0, self.size[0] - bgr.shape[1]), (0, 0)), mode="edge")
        self._encode(index, bgr)
        self.last = (index, bgr)
        self._audio_until(self._t(index) + AUDIO_LEAD)

    def _encode(self, index: int, bgr: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(bgr), format="bgr24")
        frame.pts = round(self._t(index) / TIME_BASE)
        frame.time_base = TIME_BASE
        for packet in self.video.encode(frame):
            self.out.mux(packet)

    def _audio_until(self, t: float) -> None:
        """Write the sound up to output time ``t``."""
        if self.audio is None:
            return
        for packet in self.packets:
            when = float((packet.pts if packet.pts is not None else packet.dts) * packet.time_base) - self.shift
            self._audio_packet(packet)
            if when > t:
                return

    def _audio_packet(self, packet) -> None:
        shift = round(self.shift / packet.time_base)
        if self.resampler is None:
            if packet.pts is not None:
                packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            packet.stream = self.audio
            self.out.mux(packet)
            return
        try:
            frames = packet.decode()
        except av.FFmpegError:
            return                          # a damaged bit of sound is skipped, not fatal
        for frame in frames:
            self._encode_audio(frame)

    def _encode_audio(self, frame) -> None:
        rate = self.audio.codec_context.sample_rate
        if frame is not None and self.samples is None:
            start = float(frame.pts * frame.time_base) - self.shift if frame.pts is not None else 0.0
            self.samples = max(0, round(start * rate))
        for out in self.resampler.resample(frame):
            out.pts, out.time_base = self.samples, Fraction(1, rate)
            self.samples += out.samples
            for packet in self.audio.encode(out):
                self.out.mux(packet)

    def close(self) -> None:
        if self.out is None:
            return
        try:
            if self.last is not None:
                index, bgr = self.last
                # hold the last analysed frame for the frames it stands for, so both videos end together
                end = index + self.step
                if self.frame_count:
                    end = min(end, max(self.frame_count, index + 1))
                if end - 1 > index:
                    self._encode(end - 1, bgr)
                self._audio_until(self._t(end))
            for packet in self.video.encode(None):
                self.out.mux(packet)
            if self.audio is not None and self.resampler is not None and self.samples is not None:
                for out in self.resampler.resample(None) or []:
                    out.pts, out.time_base = self.samples, Fraction(1, self.audio.codec_context.sample_rate)
                    self.samples += out.samples
                    for packet in self.audio.encode(out):
                        self.out.mux(packet)
                for packet in self.audio.encode(None):
                    self.out.mux(packet)
        finally:
            self.out.close()
            if self.audio_in is not None:
                self.audio_in.close()
