"""No success that is a lie: inputs and options that once ended in exit 0 with a wrong or missing
result, each through the `movenet` command (real model, real ffmpeg).

Every failure case checks the exit code, one error line naming the file, no traceback and
nothing at the final paths; every success case checks that the result is right.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from corpus import TONES_HZ
from helpers import DEMO_CLIP, PERSON_JPG, run_movenet
from movenet_cli.media import ffmpeg_exe, probe_video


def one_error(result, code: int, *words: str) -> str:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("movenet:") or line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def data(path: Path) -> dict:
    return json.loads(path.read_text())


# -- 1, 2: the probe cannot be forged; which stream, which pixels, which time ------------------


def test_tags_imitating_ffmpeg_do_not_change_the_frame(corpus, tmp_path):
    out = tmp_path / "f.json"
    result = run_movenet("video", corpus("forged_tags"), "--no-video", "--json", out, "-q")
    assert result.returncode == 0, result.stderr
    source = data(out)["source"]
    assert (source["width"], source["height"], source["rotation"], source["frame_count"]) == (960, 540, 0, 30)


def test_the_default_stream_is_read_and_named(corpus, tmp_path):
    out = tmp_path / "s.json"
    assert run_movenet("video", corpus("two_streams"), "--no-video", "--json", out, "-q").returncode == 0
    doc = data(out)
    assert doc["source"]["video_stream"] == {"index": 1, "chosen": "default"}
    assert (doc["source"]["width"], doc["source"]["height"]) == (960, 540)
    assert any(frame["people"] for frame in doc["frames"])


def test_anamorphic_source_keeps_its_shape(corpus, tmp_path):
    out = tmp_path / "a.mp4"
    assert run_movenet("video", corpus("anamorphic"), "-o", out, "-q").returncode == 0
    source = data(out.with_suffix(".json"))["source"]
    assert source["sample_aspect_ratio"] == [32, 27]
    assert (source["width"], source["display_width"], source["display_height"]) == (720, 853, 480)
    assert probe_video(out).sample_aspect_ratio == probe_video(corpus("anamorphic")).sample_aspect_ratio


def dominant_hz(path: Path, start: float, end: float) -> float:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", "16000", "-f", "s16le", "-"],
        capture_output=True, check=True,
    ).stdout
    samples = np.frombuffer(raw, np.int16).astype(np.float64)[int(start * 16000) : int(end * 16000)]
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / 16000)[spectrum.argmax()])


@pytest.mark.parametrize("start, tone", [(None, 1), (1.0, 2)])
def test_audio_is_cut_from_the_video_s_own_time(corpus, tmp_path, start, tone):
    """The video starts 1 s into the audio: its first frame goes with the second tone."""
    out = tmp_path / "late.mp4"
    extra = ["--start", str(start)] if start is not None else []
    assert run_movenet("video", corpus("late_video"), "-o", out, "-q", *extra).returncode == 0
    assert dominant_hz(out, 0.05, 0.45) == pytest.approx(TONES_HZ[tone], abs=5)
    info = probe_video(out)
    assert abs((info.audio_start or 0) - (info.video_start or 0)) < 1 / 30


# -- 3: outputs that would overwrite each other or an input ------------------------------------


@pytest.mark.parametrize("args", [
    ["-o", "{d}/a.mp4", "--json", "{d}/a.mp4"],
    ["-o", "{d}/b.mp4", "--json", "{d}/b.json", "--csv", "{d}/b.json"],
    ["--no-video", "--json", "{d}/c.png", "--plot", "{d}/c.png"],
    ["--no-video", "--json", "{d}/link.json", "--csv", "{d}/target.csv"],
], ids=["media-json", "json-csv", "json-plot", "link"])
def test_colliding_outputs_are_refused_before_any_work(tmp_path, args):
    (tmp_path / "link.json").symlink_to(tmp_path / "target.csv")
    result = run_movenet("video", DEMO_CLIP, *[a.format(d=tmp_path) for a in args], "--overwrite")
    one_error(result, 2, "two outputs")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json"]


def test_dir_into_its_own_input_is_refused(tmp_path):
    (tmp_path / "p.jpg").write_bytes(PERSON_JPG.read_bytes())
    one_error(run_movenet("dir", tmp_path, "-o", tmp_path), 2, "input folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.jpg"]


def test_output_linked_to_the_input_is_refused(tmp_path):
    link = tmp_path / "out.jpg"
    link.symlink_to(PERSON_JPG)
    one_error(run_movenet("image", PERSON_JPG, "-o", link, "--overwrite"), 1, "its input")
    assert link.is_symlink() and PERSON_JPG.stat().st_size > 0


# -- 4: dir takes what video and image take, and lists what it does not ------------------------


def test_dir_takes_every_container_and_lists_the_rest(corpus, tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    for name in ("mts", "3gp", "mpg", "flv", "ts", "jfif", "jpe"):
        os.link(corpus(name), src / corpus(name).name)
    os.link(corpus("jpeg_no_ext"), src / "sub" / "photo")
    (src / "notes.txt").write_text("not media")
    os.mkfifo(src / "pipe.mp4")
    (src / "again").symlink_to(src / "sub")
    result = run_movenet("dir", src, "-o", tmp_path / "out", "--no-video", "-q", timeout=600)
    assert result.returncode == 0, result.stderr
    manifest = data(tmp_path / "out" / "movenet-run.json")
    done = sorted(f["input"] for f in manifest["files"] if f["status"] == "done")
    assert done == sorted(["clip.3gp", "clip.flv", "clip.mpg", "clip.mts", "clip.ts", "photo.jfif", "photo.jpe"])
    reasons = {e["path"]: e["reason"] for e in manifest["not_taken"]}
    assert set(reasons) == {"notes.txt", "pipe.mp4", "sub/photo", "again"}
    assert "named pipe" in reasons["pipe.mp4"] and "same folder" in reasons["again"]
    assert "4 not taken" in result.stderr and "notes.txt" in result.stderr


def test_include_takes_a_file_by_its_content(corpus, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    os.link(corpus("jpeg_no_ext"), src / "photo")
    assert run_movenet("dir", src, "-o", tmp_path / "out", "--include", "photo", "-q").returncode == 0
    assert (tmp_path / "out" / "photo.jpg").is_file() and (tmp_path / "out" / "photo.jpg.json").is_file()


def test_image_without_extension_into_a_folder(corpus, tmp_path):
    result = run_movenet("image", corpus("jpeg_no_ext"), "-o", tmp_path / "out", "-q")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "photo.jpg").is_file()


# -- 6, 7: inputs that hang, names and options ------------------------------------------------


@pytest.mark.parametrize("command", ["video", "image"])
def test_a_named_pipe_is_refused_at_once(tmp_path, command):
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    out = tmp_path / ("out.mp4" if command == "video" else "out")
    one_error(run_movenet(command, fifo, "-o", out, timeout=30), 1, str(fifo), "named pipe")


@pytest.mark.parametrize("name", ["new\nline.jpg", "esc\x1b[31mred.jpg", "pipe:x.jpg", "file:y.jpg", "a" * 246 + ".jpg"])
def test_awkward_names(tmp_path, name):
    src = tmp_path / name
    src.write_bytes(PERSON_JPG.read_bytes())
    out = tmp_path / "out"
    result = run_movenet("image", src, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert (out / name).is_file() and (out / (name + ".json")).is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("name", ["bad\nname.mp4", "pipe:z.mp4"])
def test_errors_about_awkward_names_stay_on_one_line(tmp_path, name):
    src = tmp_path / name
    src.write_text("not a video")
    line = one_error(run_movenet("video", src, "-o", tmp_path / "o.mp4"), 1)
    assert "\x1b" not in line and ("\\n" in line or "pipe:z.mp4" in line)


@pytest.mark.parametrize("option", ["--threshold", "--min-pose-score", "--max-age", "--start", "--end"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_options_are_usage_errors(tmp_path, option, value):
    result = run_movenet("video", DEMO_CLIP, "--no-video", "--json", tmp_path / "o.json", option, value)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not (tmp_path / "o.json").exists()


# -- 5: a full disk publishes nothing and says so ----------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 700 kB tmpfs: room for the encoded clip (410 kB) and its data, not for the audio pass (skipped where mounting is not allowed)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_publishes_nothing(small_disk):
    out = small_disk / "clip.mp4"
    result = run_movenet("video", DEMO_CLIP, "-o", out)
    one_error(result, 1, "no space left on device")
    assert list(small_disk.iterdir()) == []


# -- 8: resume and concurrency ----------------------------------------------------------------


def test_a_damaged_output_is_redone_not_fatal(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for name in ("a.jpg", "b.jpg"):
        (src / name).write_bytes(PERSON_JPG.read_bytes())
    assert run_movenet("dir", src, "-o", out, "-q").returncode == 0
    doc = data(out / "a.jpg.json")
    doc["frames"][0]["people"][0]["keypoints"] = "edited"
    (out / "a.jpg.json").write_text(json.dumps(doc))
    result = run_movenet("dir", src, "-o", out, "--skip-existing")
    assert result.returncode == 0, result.stderr
    files = {f["input"]: f["status"] for f in data(out / "movenet-run.json")["files"]}
    assert files == {"a.jpg": "done", "b.jpg": "skipped"}
    assert isinstance(data(out / "a.jpg.json")["frames"][0]["people"][0]["keypoints"], list)


def test_a_second_run_into_a_busy_folder_is_refused(tmp_path):
    import fcntl

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    (src / "a.jpg").write_bytes(PERSON_JPG.read_bytes())
    with open(out / ".movenet-run.lock", "w") as held:
        held.write("pid 12345 on elsewhere")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX)
        one_error(run_movenet("dir", src, "-o", out, "--skip-existing"), 1, "another movenet run", "pid 12345")
    assert not (out / "a.jpg.json").exists()
    assert run_movenet("dir", src, "-o", out, "--skip-existing", "-q").returncode == 0  # a stale lock is no obstacle


# -- 9: eval checks its ground truth before the model runs -------------------------------------


@pytest.mark.parametrize("truth, words", [
    ({"images": [], "annotations": []}, "images is empty"),
    ({"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": []}, "no annotation has a labelled keypoint"),
    ({"images": [{"id": 1, "file_name": "a.jpg"}],
      "annotations": [{"id": 1, "image_id": 1, "keypoints": "x", "area": 1, "bbox": [0, 0, 1, 1]}]},
     "annotations[0].keypoints"),
    ({"images": [{"id": 1, "file_name": 3}], "annotations": []}, "images[0].file_name"),
], ids=["empty", "unlabelled", "keypoints-type", "file-name-type"])
def test_eval_refuses_unusable_ground_truth(tmp_path, truth, words):
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps(truth))
    one_error(run_movenet("eval", gt, tmp_path), 1, str(gt), words)


def test_an_unreadable_folder_makes_the_run_incomplete(tmp_path):
    from helpers import run_without_root_override

    src = tmp_path / "in"
    (src / "locked").mkdir(parents=True)
    (src / "a.jpg").write_bytes(PERSON_JPG.read_bytes())
    (src / "locked" / "b.jpg").write_bytes(PERSON_JPG.read_bytes())
    (src / "locked").chmod(0)
    try:
        result = run_without_root_override("dir", src, "-o", tmp_path / "out", "-q")
    finally:
        (src / "locked").chmod(0o755)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "could not read" in result.stderr and "locked" in result.stderr
    manifest = data(tmp_path / "out" / "movenet-run.json")
    assert manifest["status"] == "incomplete" and manifest["counts"]["done"] == 1
    assert [e["problem"] for e in manifest["not_taken"]] == [True]


def test_threads_and_batch_size_are_capped_with_a_warning(tmp_path):
    out = tmp_path / "o.json"
    result = run_movenet("video", DEMO_CLIP, "--no-video", "--json", out, "--end", "0.2", "--threads", "64",
                         "--batch-size", "64", "-q")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("movenet: warning:")]
    assert len(warnings) == 2 and "--threads 64" in warnings[0] and "--batch-size 64" in warnings[1]


def test_resuming_a_finished_run_skips_everything(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    (src / "a.jpg").write_bytes(PERSON_JPG.read_bytes())
    assert run_movenet("dir", src, "-o", out, "-q").returncode == 0
    again = run_movenet("dir", src, "-o", out, "--skip-existing")
    assert again.returncode == 0 and "Traceback" not in again.stderr and "unexpected" not in again.stderr, again.stderr
    assert data(out / "movenet-run.json")["counts"] == {"done": 0, "failed": 0, "skipped": 1, "pending": 0}
