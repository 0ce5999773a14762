"""Small files that decode to huge images: what a hostile client sends to make the server allocate
gigabytes. Each is written directly (no huge buffer is ever built here), and each is a valid file that
a decoder would really decode at its full size, so a test that refuses them proves the refusal came
before decoding.
"""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from pathlib import Path


def solid_png(width: int, height: int, level: int = 9) -> bytes:
    """A valid 8-bit greyscale PNG of one colour: about 1 KB per million pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" * (width + 1)                  # filter byte + one byte per pixel
    z = zlib.compressobj(level)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def solid_webp(width: int, height: int) -> bytes:
    """A valid lossless WebP (VP8L) of one colour in about 40 bytes: every prefix code has a single
    symbol, so each pixel takes zero bits, whatever the size (at most 16384 x 16384)."""
    bits, n = 0, 0

    def put(value: int, count: int) -> None:
        nonlocal bits, n
        bits |= value << n
        n += count

    put(width - 1, 14)
    put(height - 1, 14)
    put(0, 1)                      # no alpha
    put(0, 3)                      # version 0
    put(0, 1)                      # no transform
    put(0, 1)                      # no colour cache
    put(0, 1)                      # no meta prefix codes
    for symbol in (0x80, 0x40, 0xC0, 0xFF, 0):   # green, red, blue, alpha, distance
        put(1, 1)                  # simple code
        put(0, 1)                  # one symbol
        put(1, 1)                  # 8-bit symbol
        put(symbol, 8)
    payload = b"\x2f" + bits.to_bytes((n + 7) // 8, "little") + b"\0" * 8
    if len(payload) % 2:
        payload += b"\0"
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def solid_jpeg(width: int, height: int) -> bytes:
    """A valid baseline greyscale JPEG of one colour (mid grey). Its Huffman tables hold one code each
    (DC difference 0, end of block), so a block takes two bits: 7000 x 7000 is 191 KB."""
    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    dqt = segment(0xDB, b"\x00" + b"\x01" * 64)
    sof = segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    one_code = b"\x01" + b"\x00" * 15                  # one code of length 1
    dht = segment(0xC4, b"\x00" + one_code + b"\x00") + segment(0xC4, b"\x10" + one_code + b"\x00")
    sos = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    scan = b"\x00" * ((2 * blocks + 7) // 8)             # code "0" then code "0", for every block
    return b"\xff\xd8" + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00") + dqt + sof + dht + sos + scan + b"\xff\xd9"


def with_stray_byte_before_dqt(jpeg: bytes) -> bytes:
    """One junk byte before the quantisation table: decoders skip it with a warning."""
    i = jpeg.index(b"\xff\xdb")
    return jpeg[:i] + b"\x00" + jpeg[i:]


def one_frame_video(path: Path, width: int, height: int) -> Path:
    """A QuickTime (or MP4, by the name) file holding one Motion-JPEG frame of width x height, muxed
    without encoding (the frame is solid_jpeg's)."""
    import av

    frame = solid_jpeg(width, height)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        stream.time_base = Fraction(1, 1)
        packet = av.Packet(frame)
        packet.stream, packet.pts, packet.dts, packet.time_base = stream, 0, 0, Fraction(1, 1)
        packet.duration = 1
        packet.is_keyframe = True
        out.mux(packet)
    return path


def mixed_size_avi(path: Path, sizes, rate: int = 5) -> Path:
    """An AVI of Motion-JPEG frames, one solid_jpeg per entry of ``sizes`` ((width, height) each),
    muxed without encoding. The container's header says the first frame's size: an AVI does not
    promise that the frames after it keep it (issue 18: 320x400 frames and one 12000x12000, 2 MB)."""
    import av

    width, height = sizes[0]
    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("mjpeg", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        for i, (w, h) in enumerate(sizes):
            packet = av.Packet(solid_jpeg(w, h))
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, i, i, Fraction(1, rate)
            packet.duration = 1
            packet.is_keyframe = True
            out.mux(packet)
    return path
