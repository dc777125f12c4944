"""Frames kept as YUV 4:2:0 planes, and the colour conversions around them.

Where a video is decoded only to be drawn on and encoded again, converting every whole
frame to RGB and back costs more CPU than the model. Frames of planar YUV sources with even
sizes (the common case: phones, cameras, web video) therefore travel as three planes
(:class:`Yuv420`) in the layout the MP4 is written in: 8-bit 4:2:0, BT.709, limited range.
Sources in that layout are handed over as they are; others (10-bit, 4:2:2, 4:4:4, BT.601 or
BT.2020 matrices, full range, no stated matrix) are converted once, in the decoder
(:func:`plane_filter`). The drawing goes straight onto the planes, and the encoder takes them
as they are.

Only the pixels the model reads are converted to RGB, through a :class:`ColourTable`: the
decoder's own YUV->RGB conversion, captured once from the ffmpeg in use by converting a
frame that holds every (Y, U, V) value, so the model sees bit for bit the RGB it sees when
ffmpeg converts the whole frame. Its red depends on (Y, V), its blue on (Y, U), its green on
all three; but only a few hundred of the 65536 (U, V) pairs give distinct greens over Y, so
green is a column number per (U, V) and those columns: about 0.3 MB in all, which stays in the
CPU's cache between frames (a whole 256x256x256 table, 16 MB, does not). Y varies fastest
everywhere, since neighbouring pixels share their chroma and differ in luma.

Example::

    from movenet_cli.media import iter_frames, probe_video
    from movenet_cli.media.yuv import colour_table, plane_filter

    info = probe_video("sample_media/demo_clip.mp4")
    print(repr(plane_filter(info)))                 # '': already the planes' layout (None: the RGB way)
    table = colour_table()
    frame = next(iter(iter_frames("sample_media/demo_clip.mp4", end=0.1, yuv=True, table=table))).image
    rgb = table.to_rgb(frame)                       # as ffmpeg would have converted it
    crop = frame.take(range(100, 110), range(200, 220))   # RGB of those pixels only
    print(frame.y.shape, rgb.shape, crop.shape)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MediaError, safe_name
from .ffmpeg import ffmpeg_exe, popen_kwargs

# The planes' colour layout: what the MP4 is written in (yuv420p, BT.709, limited range).
YUV_COLOURS = ("bt709", "tv")
# The capture frame: chroma samples for every (U, V) pair, 64 per pair, each covering 2x2 luma
# samples that take the 256 Y values.
_CAPTURE_W = 4096
_CAPTURE_H = 256 * 256 * 64 * 4 // _CAPTURE_W
# Planar YUV layouts the decoder converts to the planes' (ffmpeg's colorspace filter takes them).
_CONVERTIBLE = frozenset(
    f"yuv{j}{sub}p{depth}" for j in ("", "j") for sub in ("420", "422", "444") for depth in ("", "10le", "12le")
    if not (j and depth)
)
# Colour matrices as the probe names them -> as the colorspace filter does; an unstated matrix is
# BT.601, as ffmpeg assumes when it converts such frames to RGB.
_MATRICES = {"bt709": "bt709", "bt470bg": "bt470bg", "smpte170m": "smpte170m", "bt2020nc": "bt2020ncl",
             None: "bt470bg"}  # fmt: skip


def plane_filter(info) -> str | None:
    """The decoder filter that makes ``info``'s frames 8-bit 4:2:0 BT.709 limited-range planes:
    ``""`` where they already are; a conversion for other planar YUV layouts (depth, chroma
    subsampling, matrix and range; converted once in the decoder, as the MP4 is written anyway,
    and cheaper there than converting whole frames to RGB: 6-8 against 14-16 ms of CPU per
    1768x994 10-bit or 4:4:4 frame); ``None`` where frames must go the RGB way (odd sizes, RGB
    or grey sources, other matrices)."""
    fmt = getattr(info, "pix_fmt", None)
    matrix = getattr(info, "color_space", None)
    if fmt not in _CONVERTIBLE or matrix not in _MATRICES or info.width % 2 or info.height % 2:
        return None
    levels = getattr(info, "color_range", None) or ("pc" if fmt.startswith("yuvj") else "tv")
    if levels not in ("tv", "pc"):
        return None
    if (matrix, levels) == YUV_COLOURS:
        return "" if fmt == "yuv420p" else "format=yuv420p"
    # Only the matrix and range change: primaries and transfer stay, as in a conversion to RGB.
    same = ":".join(f"{side}{key}=bt709" for key in ("primaries", "trc") for side in ("i", ""))
    return f"colorspace=ispace={_MATRICES[matrix]}:space=bt709:irange={levels}:range=tv:{same}:format=yuv420p"


@dataclass(frozen=True, eq=False)
class Yuv420:
    """One upright frame as yuv420p planes in one buffer: ``y`` (H, W), ``u`` and ``v`` (H/2, W/2).

    ``width`` and ``height`` are even. The planes are writable views of ``data``. With a
    ``table`` (a :class:`ColourTable`), :meth:`take` gives any of its pixels in RGB, as the
    decoder would have converted them: crops and model inputs come from the planes, and no
    whole RGB frame is made.
    """

    data: np.ndarray
    width: int
    height: int
    table: "ColourTable | None" = None

    @property
    def shape(self) -> tuple[int, int, int]:
        """(height, width, 3): the shape of the RGB frame it stands for."""
        return self.height, self.width, 3

    def take(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The RGB pixels ``rgb[rows][:, cols]`` (uint8 [len(rows), len(cols), 3]), converted
        through ``table``; only those pixels are converted."""
        return np.stack(self.take_planes(rows, cols), axis=-1)

    def take_planes(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`take` as three uint8 planes, R, G and B."""
        if self.table is None:
            raise ValueError("a Yuv420 frame without a colour table has no RGB pixels")
        rows, cols = np.asarray(rows, np.intp), np.asarray(cols, np.intp)
        luma = np.take(np.take(self.y, rows, axis=0), cols, axis=1)
        cb, cr = np.take(np.take(self.uv, rows >> 1, axis=1), cols >> 1, axis=2)
        return self.table.planes(luma, cb, cr)

    @classmethod
    def blank(cls, width: int, height: int) -> "Yuv420":
        """A black frame (limited range)."""
        frame = cls(np.empty(frame_bytes(width, height), np.uint8), width, height)
        frame.y[...] = 16
        frame.data[width * height :] = 128
        return frame

    @property
    def y(self) -> np.ndarray:
        return self.data[: self.width * self.height].reshape(self.height, self.width)

    @property
    def u(self) -> np.ndarray:
        n, q = self.width * self.height, self.width * self.height // 4
        return self.data[n : n + q].reshape(self.height // 2, self.width // 2)

    @property
    def uv(self) -> np.ndarray:
        """Both chroma planes as one (2, H/2, W/2) view."""
        n = self.width * self.height
        return self.data[n:].reshape(2, self.height // 2, self.width // 2)

    @property
    def v(self) -> np.ndarray:
        n, q = self.width * self.height, self.width * self.height // 4
        return self.data[n + q : n + 2 * q].reshape(self.height // 2, self.width // 2)


def frame_bytes(width: int, height: int) -> int:
    """Bytes of one yuv420p frame of even ``width`` x ``height``."""
    return width * height * 3 // 2


@dataclass(frozen=True, eq=False)
class ColourTable:
    """ffmpeg's YUV->RGB conversion for one matrix and range: ``r[V*256+Y]``, ``b[U*256+Y]``, and
    green ``g_columns[g_index[U*256+V]*256+Y]``."""

    r: np.ndarray
    b: np.ndarray
    g_index: np.ndarray  # uint16, one column number per (U, V)
    g_columns: np.ndarray  # uint8, 256 greens (over Y) per column

    def planes(self, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """uint8 R, G and B of same-shaped Y, U and V samples (chroma already at luma positions)."""
        # ``take`` with 32-bit indices: several times faster than fancy indexing with 64-bit ones.
        vy = v.astype(np.uint32)
        vy <<= 8
        vy |= y
        uy = u.astype(np.uint32)
        uy <<= 8
        uv = uy | v
        uy |= y
        column = self.g_index.take(uv).astype(np.uint32)
        column <<= 8
        column |= y
        return self.r.take(vy), self.g_columns.take(column), self.b.take(uy)

    def rgb(self, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """:meth:`planes` as one uint8 RGB array."""
        return np.stack(self.planes(y, u, v), axis=-1)

    def to_rgb(self, frame: Yuv420) -> np.ndarray:
        """A whole frame in RGB, as ffmpeg converts it (chroma repeated over each 2x2 block)."""
        up = lambda plane: np.repeat(np.repeat(plane, 2, axis=0), 2, axis=1)  # noqa: E731
        return self.rgb(frame.y, up(frame.u), up(frame.v))


_TABLES: dict[tuple, ColourTable] = {}
_LOCK = threading.Lock()


def colour_table(colours: tuple[str, str] = YUV_COLOURS, cache: Path | None = None) -> ColourTable:
    """The :class:`ColourTable` of ``colours`` (matrix, range) for the ffmpeg in use: kept for
    the process, stored under ``cache`` when given (about 1 s to capture; 0.3 MB). A stored
    table is used only when its SHA-256 matches and it converts known colours as the matrix
    says (:func:`check_table`); otherwise it is captured again, with one warning line."""
    exe = ffmpeg_exe()
    key = (exe, os.path.getsize(exe), *colours)
    with _LOCK:
        if key not in _TABLES:
            name = f"yuv2rgb4-{os.path.basename(exe)}-{key[1]}-{'-'.join(colours)}.bin"
            _TABLES[key] = _stored(cache / name, colours) if cache is not None else _capture(colours)
        return _TABLES[key]


# BT.601 and BT.709 luma weights (Kr, Kb): what a table must roughly agree with.
_WEIGHTS = {"bt709": (0.2126, 0.0722), "bt470bg": (0.299, 0.114), "smpte170m": (0.299, 0.114)}
_DIGEST = 32  # bytes of the SHA-256 stored after the table


def check_table(table: ColourTable, colours: tuple[str, str] = YUV_COLOURS) -> str | None:
    """What is wrong with ``table`` as the YUV->RGB conversion of ``colours``, or None: every red
    and blue, and the greens of a grid of (U, V), within 3 levels of the matrix's own arithmetic
    (ffmpeg's fixed-point conversion differs from it by 1 or 2). A zero-filled or shifted table fails.

    Example::

        from movenet_cli.media.yuv import colour_table, check_table
        print(check_table(colour_table()))   # None
    """
    matrix, levels = colours
    if matrix not in _WEIGHTS or levels not in ("tv", "pc"):
        return None
    kr, kb = _WEIGHTS[matrix]
    y = np.arange(256, dtype=np.float64)
    c = np.arange(256, dtype=np.float64)[:, None] - 128
    luma = (y - 16) * (255 / 219) if levels == "tv" else y
    chroma = 255 / 224 if levels == "tv" else 1.0
    expect = lambda k, plane: np.clip(np.rint(luma + 2 * (1 - k) * chroma * plane), 0, 255)  # noqa: E731
    if np.abs(table.r.reshape(256, 256) - expect(kr, c)).max() > 3:
        return "its reds are not the matrix's"
    if np.abs(table.b.reshape(256, 256) - expect(kb, c)).max() > 3:
        return "its blues are not the matrix's"
    grid = np.arange(0, 256, 17)
    u, v = np.meshgrid(grid, grid, indexing="ij")
    u, v = u.ravel()[:, None], v.ravel()[:, None]
    yy = np.broadcast_to(np.arange(256), (len(u), 256))
    kg = 1 - kr - kb
    green = luma[None, :] - chroma * (2 * kb * (1 - kb) * (u - 128) + 2 * kr * (1 - kr) * (v - 128)) / kg
    got = table.planes(yy.astype(np.uint8), np.broadcast_to(u, yy.shape).astype(np.uint8),
                       np.broadcast_to(v, yy.shape).astype(np.uint8))[1]
    if np.abs(got - np.clip(np.rint(green), 0, 255)).max() > 3:
        return "its greens are not the matrix's"
    return None


def _read_stored(file: Path, colours: tuple[str, str]) -> tuple[ColourTable | None, str | None]:
    """The table stored in ``file`` (None, None: there is none), or None and what is wrong with it."""
    try:  # r, b, g_index (little-endian uint16), g_columns, then the SHA-256 of all that
        data = file.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    body, digest = data[:-_DIGEST], data[-_DIGEST:]
    if len(data) <= _DIGEST or hashlib.sha256(body).digest() != digest:
        return None, "fails its checksum"
    flat = np.frombuffer(body, np.uint8)
    head, columns = flat[: 4 * 65536], flat[4 * 65536 :]
    if len(head) != 4 * 65536 or not columns.size or columns.size % 256:
        return None, "has the wrong size"
    index = head[2 * 65536 :].view("<u2").astype(np.uint16)
    if int(index.max()) >= columns.size // 256:
        return None, "points past its green columns"
    table = ColourTable(head[:65536], head[65536 : 2 * 65536], index, columns)
    problem = check_table(table, colours)
    return (None, problem) if problem else (table, None)


def _stored(file: Path, colours: tuple[str, str]) -> ColourTable:
    table, problem = _read_stored(file, colours)
    if table is not None:
        return table
    if problem is not None:
        print(f"movenet: warning: {safe_name(file)}: colour table {problem}; capturing it again", file=sys.stderr)
    table = _capture(colours)
    try:
        write_table(file, table)
        for stale in file.parent.glob("yuv2rgb*-*.bin"):
            if not stale.name.startswith("yuv2rgb4-"):
                stale.unlink()  # earlier layouts of the table
    except OSError:  # a read-only cache: capture again next time
        pass
    return table


def write_table(file: Path, table: ColourTable) -> None:
    """Store ``table`` in ``file`` atomically: r, b, g_index (little-endian uint16), g_columns, then
    the SHA-256 of all that."""
    file.parent.mkdir(parents=True, exist_ok=True)
    body = b"".join(part.tobytes() for part in (table.r, table.b, table.g_index.astype("<u2"), table.g_columns))
    with tempfile.NamedTemporaryFile(dir=file.parent, prefix=".partial-", delete=False) as fh:
        fh.write(body + hashlib.sha256(body).digest())
    os.replace(fh.name, file)


def _capture_planes() -> bytes:
    index = np.arange(256 * 256 * 64, dtype=np.int64)
    cw = _CAPTURE_W // 2
    u = (index >> 14).astype(np.uint8).reshape(-1, cw)
    v = ((index >> 6) & 255).astype(np.uint8).reshape(-1, cw)
    k = (index & 63).astype(np.uint8).reshape(-1, cw)
    y = np.empty((u.shape[0], 2, cw, 2), np.uint8)
    for dy in range(2):
        for dx in range(2):
            y[:, dy, :, dx] = 4 * k + 2 * dy + dx
    return y.tobytes() + u.tobytes() + v.tobytes()


def _capture(colours: tuple[str, str]) -> ColourTable:
    """Convert a frame holding every (Y, U, V) with ffmpeg, tagged as the source is."""
    matrix, levels = colours
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{_CAPTURE_W}x{_CAPTURE_H}", "-i", "pipe:0",
        "-vf", f"setparams=colorspace={matrix}:range={levels}", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
    ]  # fmt: skip
    planes = _capture_planes()
    proc = subprocess.run(cmd, input=planes, capture_output=True, **popen_kwargs())
    if proc.returncode != 0 or len(proc.stdout) != _CAPTURE_W * _CAPTURE_H * 3:
        raise MediaError(f"ffmpeg could not convert colours ({proc.stderr.decode('utf-8', 'replace')[-200:]})")
    # Pixels come row by row of chroma blocks: (block row, dy, block column, dx), and block
    # number (U*256 + V)*64 + k holds Y = 4k + 2dy + dx: regroup to [U, V, Y].
    rgb = np.frombuffer(proc.stdout, np.uint8).reshape(-1, 2, _CAPTURE_W // 2, 2, 3)
    uvy = rgb.transpose(0, 2, 1, 3, 4).reshape(256, 256, 256, 3)
    columns, index = np.unique(uvy[..., 1].reshape(65536, 256), axis=0, return_inverse=True)
    red, blue = uvy[..., 0], uvy[..., 2]
    # Red must not depend on U nor blue on V, or two-dimensional tables could not hold them.
    if not ((red == red[:1]).all() and (blue == blue[:, :1]).all()):
        raise MediaError("ffmpeg's YUV->RGB conversion is not separable; decoding whole frames to RGB")
    r = np.ascontiguousarray(red[0]).ravel()  # [V, Y]
    b = np.ascontiguousarray(blue[:, 0]).ravel()  # [U, Y]
    return ColourTable(r, b, index.astype(np.uint16).ravel(), np.ascontiguousarray(columns).ravel())


def rgb_to_yuv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float32 Y, U, V (BT.709, limited range, as the encoder writes them) of uint8 RGB pixels."""
    x = rgb.astype(np.float32) * np.float32(1 / 255)
    luma = 0.2126 * x[..., 0] + 0.7152 * x[..., 1] + 0.0722 * x[..., 2]
    y = 16 + 219 * luma
    u = 128 + 224 * (x[..., 2] - luma) / 1.8556
    v = 128 + 224 * (x[..., 0] - luma) / 1.5748
    return y, u, v
