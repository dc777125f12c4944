"""What the tests share besides fixtures: the sample paths, running the CLI, /proc, small measures.

The one place for the sample paths, the one way to start the CLI (in a child process as a
user would, or in-process through Click's runner where only parsing, messages and exit
codes are checked), the one /proc walker, and the independent model reference.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_media"
DEMO_CLIP = SAMPLES / "demo_clip.mp4"
PORTRAIT_CLIP = SAMPLES / "portrait_clip.mp4"
PERSON_JPG = SAMPLES / "person.jpg"
COCO_DEV = ROOT / "tests" / "data" / "coco-dev"
COCO_GT = COCO_DEV / "test_coco.json"

# The documented skeleton colours (README): left side magenta, right side cyan, across yellow.
MAGENTA, CYAN, YELLOW = (255, 0, 255), (0, 255, 255), (255, 255, 0)
# Edges of the MoveNet tutorial by keypoint name, and the side of the person each is on.
EDGES = [
    ("nose", "left_eye", "left"), ("nose", "right_eye", "right"), ("left_eye", "left_ear", "left"),
    ("right_eye", "right_ear", "right"), ("nose", "left_shoulder", "left"), ("nose", "right_shoulder", "right"),
    ("left_shoulder", "left_elbow", "left"), ("left_elbow", "left_wrist", "left"),
    ("right_shoulder", "right_elbow", "right"), ("right_elbow", "right_wrist", "right"),
    ("left_shoulder", "right_shoulder", "center"), ("left_shoulder", "left_hip", "left"),
    ("right_shoulder", "right_hip", "right"), ("left_hip", "right_hip", "center"), ("left_hip", "left_knee", "left"),
    ("left_knee", "left_ankle", "left"), ("right_hip", "right_knee", "right"), ("right_knee", "right_ankle", "right"),
]  # fmt: skip
SIDE_COLOR = {"left": MAGENTA, "right": CYAN, "center": YELLOW}


# -- running the CLI -----------------------------------------------------------------------------


def _default_sigint() -> None:
    """In the child, before exec: SIGINT back to its default.

    A shell starts background jobs (and some CI wrappers start everything) with SIGINT
    ignored; an ignored disposition survives exec, and Python then installs no
    KeyboardInterrupt handler, so a test's Ctrl-C would do nothing.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def movenet_command(*args) -> list[str]:
    return [sys.executable, "-m", "movenet_cli", *map(str, args)]


def run_movenet(*args, cwd=None, env=None, timeout=300):
    """Run the CLI in a child process, as a user would."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        movenet_command(*args),
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_default_sigint,
    )


def start_movenet(*args, **popen_kwargs) -> subprocess.Popen:
    """Start the CLI in a child that reacts to SIGINT as from a terminal, whatever this process ignores."""
    return subprocess.Popen(movenet_command(*args), preexec_fn=_default_sigint, **popen_kwargs)


def interrupt_when(proc: subprocess.Popen, ready, timeout: float = 120) -> str:
    """Send SIGINT to a started command once ``ready()`` is true (or ``timeout`` passed, or it ended);
    returns its stderr. ``ready`` may raise OSError or ValueError while the thing it reads is not there."""
    import time

    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if ready():
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return stderr


def invoke(*args, env=None) -> subprocess.CompletedProcess:
    """Run the CLI in this process (Click's runner): for parsing, messages and exit codes.

    Returns what :func:`run_movenet` returns. An exception that escapes the command is a
    crash, as a child process would print it: its traceback goes to ``stderr``.
    """
    from click.testing import CliRunner

    from movenet_cli.cli import cli

    sigterm = signal.getsignal(signal.SIGTERM)  # the command group installs its own handler
    try:
        result = CliRunner().invoke(cli, [str(a) for a in args], env=env, prog_name="movenet")
    finally:
        signal.signal(signal.SIGTERM, sigterm)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, stderr)


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_one_line(result, code: int, *needles) -> str:
    """Exit ``code``, no traceback, exactly one line on stderr, holding every needle."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert str(needle) in lines[0], lines[0]
    return lines[0]


def assert_ok(result):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


# -- processes (Linux /proc) ----------------------------------------------------------------------


def processes() -> dict[int, tuple[int, str, str]]:
    """Every live process: pid -> (parent pid, name, state)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            table[int(entry.name)] = (int(fields[1]), name, fields[0])
    return table


def descendants(pid: int, table: dict | None = None) -> list[int]:
    """Live processes below ``pid``, at any depth (in ``table``, default a fresh :func:`processes`)."""
    children: dict[int, list[int]] = {}
    for child, (parent, _, _) in (processes() if table is None else table).items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def ffmpeg_children(pid: int | None = None) -> list[int]:
    """Live ffmpeg processes whose parent is ``pid`` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    return [child for child, (parent, name, _) in processes().items() if parent == pid and "ffmpeg" in name]


def alive(pid: int) -> bool:
    return pid in processes()


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# -- measures and references ----------------------------------------------------------------------


def diagonal(height: int, width: int) -> float:
    return float(np.hypot(height, width))


@functools.lru_cache(maxsize=None)
def _signature(saved_model: str):
    from movenet_cli.models._tf import tensorflow

    return tensorflow().saved_model.load(saved_model).signatures["serving_default"]


def direct_model_call(store, model: str, image: np.ndarray, in_h: int, in_w: int) -> list[tuple[float, np.ndarray]]:
    """The model called without the package's pre- and post-processing: the cached SavedModel
    on a ``tf.image.resize_with_pad`` tensor, mapped back to source pixels by hand.

    Returns ``(score, keypoints (17, 3) as x, y, score)`` for every output row, best first
    (SinglePose: one row, score 1); MultiPose rows also have their box ``(x0, y0, x1, y1)``.
    """
    from movenet_cli.models._tf import tensorflow

    tf = tensorflow()
    fn = _signature(str(store.path(model)))
    padded = tf.image.resize_with_pad(tf.constant(image[None]), in_h, in_w)
    out = fn(input=tf.cast(padded, tf.int32))["output_0"].numpy()
    height, width = image.shape[:2]
    scale = min(in_h / height, in_w / width)
    pad_y = (in_h - height * scale) / 2
    pad_x = (in_w - width * scale) / 2
    multipose = model == "multipose"
    rows = out.reshape(-1, 56) if multipose else out.reshape(1, 51)
    scores = out.reshape(-1, 56)[:, 55] if multipose else np.array([1.0])
    people = []
    for row, score in sorted(zip(rows, scores), key=lambda r: -r[1]):
        kp = row[:51].reshape(17, 3)
        x = (kp[:, 1] * in_w - pad_x) / scale
        y = (kp[:, 0] * in_h - pad_y) / scale
        person = (float(score), np.stack([x, y, kp[:, 2]], 1))
        if multipose:  # the box: y_min, x_min, y_max, x_max
            ys = (row[[51, 53]] * in_h - pad_y) / scale
            xs = (row[[52, 54]] * in_w - pad_x) / scale
            person += ((float(xs[0]), float(ys[0]), float(xs[1]), float(ys[1])),)
        people.append(person)
    return people


def direct_multipose(store, image: np.ndarray, min_pose_score: float = 0.25) -> list:
    """The people the CLI's default model (MultiPose at 256) should find, as Poses, from
    :func:`direct_model_call`."""
    from movenet_cli.types import Pose

    found = direct_model_call(store, "multipose", image, *multipose_shape(*image.shape[:2]))
    return [Pose(kp, score, box) for score, kp, box in found if score >= min_pose_score]


def multipose_shape(height: int, width: int, size: int = 256) -> tuple[int, int]:
    """MultiPose input: the larger side ``size``, the other scaled and rounded up to a multiple of 32."""
    import math

    scale = size / max(height, width)
    return math.ceil(height * scale / 32) * 32, math.ceil(width * scale / 32) * 32


def run_video(estimator, quality, **kwargs) -> list:
    """The FrameResults of one in-process run over the sample clip (no files written)."""
    from movenet_cli.pipeline import Outputs, process_video

    results: list = []
    process_video(estimator, DEMO_CLIP, Outputs(), progress=False, on_result=results.append, quality=quality, **kwargs)
    return results


def _drop_file_permission_override() -> None:
    """In the child, before exec: give up root's right to ignore file permissions.

    Removes CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding,
    permitted, effective and inheritable sets, so the kernel applies the mode
    bits to this process as to any user (root still owns its files, so the
    checkout, the interpreter and the model cache stay readable).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    keep = ~0b110 & 0xFFFFFFFF
    data[0].effective &= keep
    data[0].permitted &= keep
    data[0].inheritable &= keep
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def run_without_root_override(*args):
    """Run the CLI so that file permissions apply, as they do for ordinary users.

    As an ordinary user this is a plain run.  As root (containers, CI), chmod
    alone blocks nothing, so the child drops the capabilities that let root
    bypass permissions; the test is skipped where that is not possible.
    """
    if os.geteuid() != 0:
        return run_movenet(*args)
    if not sys.platform.startswith("linux"):
        pytest.skip("running as root, and dropping root's file-permission override needs Linux")
    try:
        return subprocess.run(
            [sys.executable, "-m", "movenet_cli", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=_drop_file_permission_override,
        )
    except subprocess.SubprocessError as exc:
        pytest.skip(f"running as root and cannot drop root's file-permission override: {exc}")
