"""The bad and awkward inputs of tests/corpus.py, each through the `movenet` command.

Cases that only check parsing, messages and exit codes run the command in-process
(Click's runner); the others run it in a child process as a user does.
Every failure case checks the exact exit code, that stderr holds one error line
naming the file, that there is no traceback, and that nothing (not even a hidden
temporary file) is left at the output path.  Every success case checks that the
result is right, not just that the command exited 0.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import (DEMO_CLIP, run_without_root_override, PERSON_JPG, PORTRAIT_CLIP, alive, direct_multipose, ffmpeg_children, invoke, run_movenet,
                     start_movenet)
from corpus import VFR_FRAMES, vfr_time
from movenet_cli import media

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("movenet:")]


def assert_one_line(result, code: int, path, *words: str) -> str:
    """Exit ``code``, no traceback, exactly one ``movenet:`` line, naming ``path`` and holding ``words``."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0], lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder`` (hidden ones included), relative; [] if it does not exist."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def hidden_files(folder: Path) -> list[str]:
    return [f for f in files_under(folder) if any(part.startswith(".") for part in Path(f).parts)]


def people_match(doc_people, ref_poses, *, mean_px: float, min_iou: float = 0.7) -> None:
    """The JSON people are the reference poses: same count, boxes overlap, keypoints close."""
    assert len(doc_people) == len(ref_poses) >= 1
    for person, ref in zip(doc_people, ref_poses):
        assert _iou(person["bbox"], ref.bbox) > min_iou
        keypoints = np.array(person["keypoints"])
        sure = ref.keypoints[:, 2] > 0.3
        assert np.abs(keypoints[sure, :2] - ref.keypoints[sure, :2]).mean() < mean_px


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@pytest.fixture(scope="module")
def reference(store):
    """What the CLI's default model finds in the sample photo and the first demo frames, from a
    direct call of the model (not the package's estimator, which the CLI itself uses)."""
    frames = {f.index: direct_multipose(store, f.image) for f in media.iter_frames(DEMO_CLIP, end=0.5)}
    return {"photo": direct_multipose(store, media.read_image(PERSON_JPG)), "clip": frames}


def matched_error(doc_frames, reference_frames) -> float:
    """Mean keypoint distance between each JSON person and the nearest reference person, over frames."""
    errors = []
    for frame in doc_frames:
        refs = reference_frames[frame["index"]]
        for person in frame["people"]:
            keypoints = np.array(person["keypoints"])
            best = min(refs, key=lambda r: -_iou(person["bbox"], r.bbox))
            sure = best.keypoints[:, 2] > 0.3
            errors.append(np.abs(keypoints[sure, :2] - best.keypoints[sure, :2]).mean())
    assert errors
    return float(np.mean(errors))


# --------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------


def test_missing_file(tmp_path):
    out = tmp_path / "out"
    result = invoke("video", tmp_path / "missing.mp4", "-o", out / "x.mp4")
    assert_one_line(result, 1, tmp_path / "missing.mp4", "no such file")
    assert not out.exists()


def test_directory_given_to_video(tmp_path):
    out = tmp_path / "out"
    (tmp_path / "clips").mkdir()
    result = invoke("video", tmp_path / "clips", "-o", out / "x.mp4")
    assert_one_line(result, 1, tmp_path / "clips", "is a folder", "movenet dir")
    assert not out.exists()


def test_no_read_permission(tmp_path):
    locked = tmp_path / "locked.jpg"
    shutil.copy(PERSON_JPG, locked)
    locked.chmod(0)
    out = tmp_path / "out"
    result = run_without_root_override("image", locked, "-o", out / "x.jpg")
    assert_one_line(result, 1, locked, "cannot be read", "Permission denied", "permissions")
    assert files_under(out) == []


def test_output_folder_is_created(tmp_path):
    out = tmp_path / "new" / "deeper" / "clip.mp4"
    result = run_movenet("video", DEMO_CLIP, "-o", out, "--end", "0.2", "-q")
    assert result.returncode == 0, result.stderr
    assert files_under(out.parent) == ["clip.csv", "clip.json", "clip.mp4"]


def test_output_folder_not_writable(tmp_path):
    out = tmp_path / "readonly"
    out.mkdir()
    out.chmod(0o555)
    result = run_without_root_override("video", DEMO_CLIP, "-o", out / "clip.mp4")
    assert_one_line(result, 1, out, "not writable", "Permission denied")
    assert len(result.stderr.strip().splitlines()) == 1  # refused before any work: no progress bar
    assert files_under(out) == []
    # A folder that cannot even be created (its parent is a file) is refused the same way.
    (tmp_path / "plain").write_text("a file, not a folder")
    result = invoke("image", PERSON_JPG, "-o", tmp_path / "plain" / "sub" / "p.jpg")
    assert_one_line(result, 1, tmp_path / "plain" / "sub", "cannot create the output folder")


def test_output_equal_to_input(tmp_path):
    clip = tmp_path / "clip.mp4"
    shutil.copy(DEMO_CLIP, clip)
    before = clip.read_bytes()
    result = invoke("video", clip, "-o", clip, "--overwrite")
    assert_one_line(result, 1, clip, "overwrite its input")
    assert clip.read_bytes() == before
    assert files_under(tmp_path) == ["clip.mp4"]


def test_existing_output_is_refused_unless_overwrite(tmp_path):
    kept = tmp_path / "clip.json"
    kept.write_text("precious")
    result = invoke("video", DEMO_CLIP, "-o", tmp_path / "clip.mp4", "--end", "0.2")
    assert_one_line(result, 1, kept, "already exists", "--overwrite")
    assert kept.read_text() == "precious"
    assert files_under(tmp_path) == ["clip.json"]  # nothing else written either
    result = invoke("video", DEMO_CLIP, "-o", tmp_path / "clip.mp4", "--end", "0.2", "--overwrite", "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads(kept.read_text())["schema"] == "movenet/1"


def test_dir_skip_existing_resumes(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    shutil.copy(PERSON_JPG, src / "a.jpg")
    shutil.copy(PERSON_JPG, src / "b.jpg")
    assert run_movenet("dir", src, "-o", out, "-q").returncode == 0
    first = (out / "a.jpg.json").read_text()
    (out / "b.jpg").unlink()  # as if the run had stopped before b.jpg
    (out / "b.jpg.json").unlink()

    resumed = run_movenet("dir", src, "-o", out, "--skip-existing", "-q")
    assert resumed.returncode == 0, resumed.stderr
    assert "1 done, 0 failed, 1 skipped" in resumed.stderr
    assert (out / "a.jpg.json").read_text() == first  # untouched
    assert json.loads((out / "b.jpg.json").read_text())["frames"][0]["people"]

    again = run_movenet("dir", src, "-o", out, "-q")  # neither flag: the earlier run is not replaced
    assert_one_line(again, 1, "movenet-run.json", "--skip-existing", "--overwrite")
    assert (out / "a.jpg.json").read_text() == first
    assert hidden_files(out) == []


def test_bad_environment_is_one_line_in_every_command():
    for args in (("models", "list"), ("models", "path")):
        result = invoke(*args, env={"MOVENET_SOURCES": "bogus"})
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert error_lines(result) == ["movenet: error: unknown model source 'bogus'; known: tfhub, npm"]


def test_usage_error_exit_code(tmp_path):
    result = invoke("video", DEMO_CLIP)  # no output given
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--output" in result.stderr
    assert invoke("video", DEMO_CLIP, "-o", tmp_path / "x.mp4", "--bogus").returncode == 2
    assert files_under(tmp_path) == []


# --------------------------------------------------------------------------
# Files that cannot be processed
# --------------------------------------------------------------------------

FAILING = {
    # case: (command, exit code, words in the message)
    "empty_mp4": ("video", 1, ("empty file", "0 bytes")),
    "empty_jpg": ("image", 1, ("empty file", "0 bytes")),
    "text_mp4": ("video", 1, ("not a video file",)),
    "text_jpg": ("image", 1, ("not an image file",)),
    "truncated_no_index": ("video", 1, ("incomplete MP4", "cut short")),
    "audio_only": ("video", 1, ("no video stream",)),
    "zero_frames": ("video", 1, ("no frames",)),
    "huge": ("image", 1, ("400 MP", "89.5 MP limit", "downscale")),
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_unusable_file(corpus, tmp_path, case):
    command, code, words = FAILING[case]
    path = corpus(case)
    out = tmp_path / "out"
    target = out / ("annotated.mp4" if command == "video" else "annotated.png")
    result = invoke(command, path, "-o", target)
    assert_one_line(result, code, path, *words)
    assert files_under(out) == []


# A small launcher runs the command and reports its peak memory: measured from the test process
# itself, the child's peak would include the pages it shared with the (large) test process
# between fork and exec.
_PEAK = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL).returncode; print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def test_huge_png_is_refused_without_decoding(corpus, tmp_path):
    """Refused from the header: the process never holds the 1.2 GB of pixels."""
    path = corpus("huge")
    cmd = [sys.executable, "-m", "movenet_cli", "image", path, "-o", tmp_path / "x.png", "--backend", "tflite"]
    launched = subprocess.run([sys.executable, "-c", _PEAK, *map(str, cmd)], capture_output=True, text=True, timeout=120)
    code, peak_kb = map(int, launched.stdout.split())
    assert code == 1
    assert peak_kb / 1024 < 200, f"peak memory {peak_kb / 1024:.0f} MB"  # a normal photo run peaks near 120 MB


def test_truncated_mp4_keeps_the_decodable_frames(corpus, tmp_path):
    path = corpus("truncated")
    out = tmp_path / "out" / "t.mp4"
    result = run_movenet("video", path, "-o", out, "-q")
    line = assert_one_line(result, 1, path, "warning", "truncated", '"complete": false')
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["complete"] is False
    decoded = len(doc["frames"])
    assert 0 < decoded < 60 and doc["source"]["frame_count"] == decoded
    assert f"{decoded} of about 60 frames" in line
    indices = [f["index"] for f in doc["frames"]]
    assert indices == sorted(set(indices)) and indices[-1] < 60
    assert all(f["time"] == pytest.approx(f["index"] / 30, abs=1e-4) for f in doc["frames"])
    assert sum(1 for _ in media.iter_frames(out)) == decoded
    assert out.with_suffix(".csv").exists()
    assert hidden_files(out.parent) == []


def test_ffmpeg_crash_fails_that_file_not_the_batch(tmp_path):
    """A decoder that dies on a signal mid-file is that file's error; the folder goes on.

    No real file crashes the bundled ffmpeg on demand, so a stand-in executable
    runs the real ffmpeg and, when it decodes a file named hostile*, kills it
    with SIGSEGV a moment later: to movenet this is an ffmpeg crash.
    """
    real = media.ffmpeg_exe()
    wrapper = tmp_path / "ffmpeg"
    wrapper.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f'  *hostile*rawvideo*) ( sleep 0.5; kill -SEGV $$ ) & exec "{real}" "$@" ;;\n'
        "esac\n"
        f'exec "{real}" "$@"\n'
    )
    wrapper.chmod(0o755)
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    shutil.copy(PERSON_JPG, src / "a.jpg")
    shutil.copy(DEMO_CLIP, src / "hostile.mp4")
    shutil.copy(PORTRAIT_CLIP, src / "z.mp4")
    result = run_movenet("dir", src, "-o", out, "-q", env={"IMAGEIO_FFMPEG_EXE": str(wrapper)})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "2 done, 1 failed" in result.stderr
    failed = [line for line in result.stderr.splitlines() if "failed:" in line]
    assert len(failed) == 1 and "hostile.mp4" in failed[0] and "crashed (SIGSEGV)" in failed[0]
    assert files_under(out) == ["a.jpg", "a.jpg.json", "movenet-run.json", "z.mp4", "z.mp4.csv", "z.mp4.json"]


# --------------------------------------------------------------------------
# Awkward images: right results
# --------------------------------------------------------------------------

IMAGES = {
    # case: mean keypoint error allowed against the sample photo (pixels of 960x540)
    "png16": 2.0,
    "cmyk": 2.0,
    "rgba": 2.0,
    "exif6": 2.0,
    "webp": 3.0,
    "gray": 25.0,  # colour is gone: the model sees a different picture
    "palette_gif": 25.0,  # 256 colours
}


@pytest.mark.parametrize("case", sorted(IMAGES))
def test_awkward_image(corpus, tmp_path, reference, case):
    path = corpus(case)
    out = tmp_path / f"annotated{path.suffix}"
    result = run_movenet("image", path, "-o", out, "--accuracy", "standard", "-q")
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    doc = json.loads(out.with_suffix(".json").read_text())
    assert (doc["source"]["width"], doc["source"]["height"]) == (960, 540)  # upright, as displayed
    people_match(doc["frames"][0]["people"], reference["photo"], mean_px=IMAGES[case], min_iou=0.6)
    assert media.read_image(out).shape == (540, 960, 3)
    assert files_under(tmp_path) == sorted([out.name, out.with_suffix(".json").name])


def test_one_pixel_image(corpus, tmp_path):
    out = tmp_path / "annotated.png"
    result = run_movenet("image", corpus("tiny"), "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.with_suffix(".json").read_text())
    assert (doc["source"]["width"], doc["source"]["height"]) == (1, 1)
    assert doc["frames"] == [{"index": 0, "time": 0.0, "people": []}]
    assert media.read_image(out).shape == (1, 1, 3)


# --------------------------------------------------------------------------
# Awkward videos: right results
# --------------------------------------------------------------------------


def _run_video(path, out, *extra):
    result = run_movenet("video", path, "-o", out, "-q", *extra)
    assert result.returncode == 0 and "movenet:" not in result.stderr, result.stderr
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["complete"] is True
    assert hidden_files(out.parent) == []
    return doc


def test_odd_sized_vp9_video(corpus, tmp_path):
    out = tmp_path / "odd.mp4"
    doc = _run_video(corpus("odd_size"), out)
    assert (doc["source"]["width"], doc["source"]["height"]) == (1767, 993)
    assert len(doc["frames"]) == 9 and all(f["people"] for f in doc["frames"])
    info = media.probe_video(out)
    assert (info.width, info.height) == (1768, 994)  # padded by one pixel for 4:2:0, never scaled


def test_variable_frame_rate_times(corpus, tmp_path):
    out = tmp_path / "vfr.mp4"
    doc = _run_video(corpus("vfr"), out)
    frames = doc["frames"]
    assert [f["index"] for f in frames] == list(range(VFR_FRAMES))
    assert [f["time"] for f in frames] == pytest.approx([vfr_time(n) for n in range(VFR_FRAMES)], abs=1e-4)
    assert frames[25]["time"] == pytest.approx(25 / 30 + 10 / 30)  # not 25/fps, whatever the fps
    rows = out.with_suffix(".csv").read_text().splitlines()[1:]
    times = {int(r.split(",")[0]): float(r.split(",")[1]) for r in rows}
    assert all(t == pytest.approx(vfr_time(i), abs=1e-4) for i, t in times.items())


def test_variable_frame_rate_range(corpus, tmp_path):
    """--start/--end select by real time, and indices stay those of the source."""
    doc = _run_video(corpus("vfr"), tmp_path / "part.mp4", "--start", "1.0", "--end", "2.0", "--every", "2")
    wanted = [n for n in range(VFR_FRAMES) if 1.0 <= vfr_time(n) < 2.0][::2]
    assert wanted == [24, 26, 28, 30, 32]  # 24/30 s would be frame 30 at a constant rate
    assert [f["index"] for f in doc["frames"]] == wanted
    assert [f["time"] for f in doc["frames"]] == pytest.approx([vfr_time(n) for n in wanted], abs=1e-4)


def test_edit_list_hides_the_frames_before_the_cut(corpus, tmp_path):
    """Only the frames a player shows count: no false "damaged" flag, times from the first shown frame."""
    path = corpus("edit_list")
    decoded = subprocess.run(
        [media.ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", path, "-map", "0:v", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    shown = int(re.findall(r"frame=\s*(\d+)", decoded.stderr)[-1])
    assert shown < 90 - 30  # the cut at 1.1 s hides frames
    assert media.count_frames(path) == shown
    doc = _run_video(path, tmp_path / "trimmed.mp4")
    assert [f["index"] for f in doc["frames"]] == list(range(shown))
    assert [f["time"] for f in doc["frames"]] == pytest.approx([n / 30 for n in range(shown)], abs=1e-4)


def test_ten_bit_video(corpus, tmp_path, reference):
    doc = _run_video(corpus("tenbit"), tmp_path / "tenbit.mp4")
    assert len(doc["frames"]) == 15
    assert matched_error(doc["frames"], reference["clip"]) < 3.0


COLOUR_PSNR_DB = 33.0  # measured 35.4-39.8 dB at crf 23; a wrong colour matrix or range gives less


@pytest.mark.parametrize("case, planes", [("yuv444", True), ("mjpeg", True), ("untagged", True),
                                          ("bt2020_10bit", True), ("odd_444", False), ("rgb_h264", False)])
def test_colour_layouts(corpus, tmp_path, reference, case, planes):
    """Every colour layout gives the keypoints of the original pictures and a BT.709 yuv420p MP4;
    planar YUV with even sizes is converted to planes in the decoder, the rest goes the RGB way."""
    from movenet_cli.media.yuv import plane_filter

    path = corpus(case)
    assert (plane_filter(media.probe_video(path)) is not None) == planes
    out = tmp_path / "out.mp4"
    doc = _run_video(path, out, "--no-smooth")  # the model's own keypoints, as the reference's
    found = [f for f in doc["frames"] if f["people"]]
    assert len(doc["frames"]) == 12 and len(found) >= 10
    # The people of these frames score about 0.3, so a second one comes and goes with any re-encoding:
    # each frame's best match with the reference is what must agree.
    errors = [min(np.abs(np.array(p["keypoints"])[sure, :2] - r.keypoints[sure, :2]).mean()
                  for p in f["people"] for r in reference["clip"][f["index"]] for sure in [r.keypoints[:, 2] > 0.3])
              for f in found]  # fmt: skip
    print(f"{case}: {np.mean(errors):.2f} px from the reference")
    assert np.mean(errors) < 3.0
    info = media.probe_video(out)
    assert (info.pix_fmt, info.color_space, info.color_range) == ("yuv420p", "bt709", "tv")
    # The colours survive: away from the drawing, the first frame is the source's (as ffmpeg shows it).
    shown = next(iter(media.iter_frames(out))).image.astype(float)
    source = next(iter(media.iter_frames(path))).image.astype(float)
    shown = shown[: source.shape[0], : source.shape[1]]
    undrawn = np.abs(shown - source).max(axis=2) < 40
    psnr = 10 * np.log10(255**2 / ((shown - source)[undrawn] ** 2).mean())
    print(f"{case}: {psnr:.1f} dB")
    assert psnr >= COLOUR_PSNR_DB


@pytest.mark.parametrize("degrees", [90, 270])
def test_rotated_video(corpus, tmp_path, reference, degrees):
    doc = _run_video(corpus(f"rotate{degrees}"), tmp_path / "rot.mp4")
    source = doc["source"]
    assert source["rotation"] == degrees
    assert (source["width"], source["height"]) == (960, 540)  # shown upright
    assert len(doc["frames"]) == 9
    assert matched_error(doc["frames"], reference["clip"]) < 3.0
    info = media.probe_video(tmp_path / "rot.mp4")
    assert (info.width, info.height, info.rotation) == (960, 540, 0)


# --------------------------------------------------------------------------
# Folders and interruptions
# --------------------------------------------------------------------------


def test_dir_with_five_good_and_five_bad_files(corpus, tmp_path, reference):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    good = {"person.jpg": PERSON_JPG, "alpha.png": corpus("rgba"), "cmyk.jpg": corpus("cmyk"),
            "portrait.mp4": PORTRAIT_CLIP, "odd.webm": corpus("odd_size")}  # fmt: skip
    bad = {"empty.mp4": corpus("empty_mp4"), "notes.jpg": corpus("text_jpg"), "audio.mp4": corpus("audio_only"),
           "huge.png": corpus("huge"), "truncated.mp4": corpus("truncated")}  # fmt: skip
    for name, path in {**good, **bad}.items():
        shutil.copy(path, src / name)
    result = run_movenet("dir", src, "-o", out, "-q")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "5 done, 5 failed, 0 skipped" in result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("  failed:")]
    assert sorted(re.search(r"in/(\S+?):", line).group(1) for line in failed) == sorted(bad)

    for name in ("person.jpg", "alpha.png", "cmyk.jpg"):
        doc = json.loads((out / f"{name}.json").read_text())
        people_match(doc["frames"][0]["people"], reference["photo"], mean_px=2.0)
        assert (out / name).exists()
    for name, frames in (("portrait.mp4", 45), ("odd.webm", 9)):
        doc = json.loads((out / f"{name}.json").read_text())
        assert doc["complete"] is True and len(doc["frames"]) == frames
        assert any(f["people"] for f in doc["frames"])
        annotated = out / (name if name.endswith(".mp4") else f"{name}.mp4")
        assert sum(1 for _ in media.iter_frames(annotated)) == frames
    # The truncated video's partial results are there and say so; the others left nothing.
    assert json.loads((out / "truncated.mp4.json").read_text())["complete"] is False
    for name in ("empty.mp4", "notes.jpg", "audio.mp4", "huge.png"):
        assert not list(out.glob(f"{name}*"))
    assert hidden_files(out) == []


def _interrupt_when(args, ready, sig, timeout=240):
    """Start the CLI, send ``sig`` once ``ready()`` holds; return (result, ffmpeg pids seen then)."""
    proc = start_movenet(*args, stderr=subprocess.PIPE)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stderr.read1(4096), b"")), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    children: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            children = ffmpeg_children(proc.pid)
            proc.send_signal(sig)
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the run ended or stalled before it could be interrupted")
    proc.wait(timeout=60)
    reader.join(timeout=10)
    proc.stderr.close()
    result = subprocess.CompletedProcess(args, proc.returncode, "", b"".join(chunks).decode("utf-8", "replace"))
    return result, children


def _frames_written(folder: Path, stem: str) -> int:
    """The last frame index in the hidden, growing CSV of a run in progress (-1 before any).

    Watching the data itself, not the progress bar: off a terminal the bar is
    refreshed only every few seconds.
    """
    for partial in folder.glob(f".{stem}.*.partial.csv"):
        try:
            rows = partial.read_text().splitlines()[1:-1]  # the last line may be half-written
        except OSError:
            continue
        return int(rows[-1].split(",", 1)[0]) if rows else -1
    return -1


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """The demo clip three times over (270 frames), by stream copy."""
    path = tmp_path_factory.mktemp("long") / "long.mp4"
    subprocess.run(
        [media.ffmpeg_exe(), "-v", "error", "-stream_loop", "2", "-i", DEMO_CLIP, "-c", "copy", path], check=True
    )
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="watches child processes in /proc")
def test_sigint_halfway_through_a_video(tmp_path, long_clip):
    out = tmp_path / "out"
    result, children = _interrupt_when(
        ["video", long_clip, "-o", out / "long.mp4"], lambda: _frames_written(out, "long") >= 135, signal.SIGINT
    )
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert error_lines(result) == ["movenet: error: interrupted"]
    assert children, "ffmpeg was not running when the signal was sent"
    deadline = time.monotonic() + 5
    while any(map(alive, children)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(alive, children)), "ffmpeg processes left running"
    assert files_under(out) == []  # no MP4/JSON/CSV, and no hidden temporaries


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="watches child processes in /proc")
def test_sigterm_in_dir_mode_reports_the_finished_files(tmp_path, long_clip):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    shutil.copy(PERSON_JPG, src / "a.jpg")
    shutil.copy(PORTRAIT_CLIP, src / "b.mp4")
    shutil.copy(long_clip, src / "c.mp4")
    result, children = _interrupt_when(
        # One file at a time, so that a.jpg and b.mp4 are done when c.mp4 is under way.
        ["dir", src, "-o", out, "--jobs", "1"], lambda: _frames_written(out, "c.mp4") >= 30, signal.SIGTERM
    )
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert "interrupted: 2 of 3 files finished" in result.stderr
    finished = [line.split("finished: ", 1)[1] for line in result.stderr.splitlines() if "  finished: " in line]
    assert finished == [str(src / "a.jpg"), str(src / "b.mp4")]
    assert "--skip-existing" in result.stderr
    assert files_under(out) == ["a.jpg", "a.jpg.json", "b.mp4", "b.mp4.csv", "b.mp4.json", "movenet-run.json"]
    time.sleep(0.5)
    assert not any(map(alive, children))


# --------------------------------------------------------------------------
# Model cache
# --------------------------------------------------------------------------


def test_tampered_cached_model_is_reported_not_loaded(store, estimators, tmp_path):
    """A damaged model file fails its checksum; with no source to fetch it again, the run stops with one line."""
    estimators("lightning", "tflite")  # the TFLite file exists in the cache
    cache = tmp_path / "cache"
    shutil.copytree(store.entry("lightning"), cache / "lightning")
    tflite = cache / "lightning" / "model.tflite"
    assert tflite.exists()
    tflite.write_bytes(tflite.read_bytes()[: tflite.stat().st_size // 2])
    no_npm = tmp_path / "bin"
    no_npm.mkdir()
    env = {"MOVENET_HOME": str(cache), "MOVENET_SOURCES": "npm", "PATH": str(no_npm)}
    out = tmp_path / "out"
    result = run_movenet("image", PERSON_JPG, "-m", "lightning", "-o", out / "p.jpg", env=env)
    line = assert_one_line(result, 1, cache / "lightning", "model.tflite", "checksum", "movenet models import")
    assert "lightning" in line
    assert files_under(out) == []
