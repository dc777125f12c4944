"""run/ (`movenet dir`) at scale: worker processes, the run manifest, checked resume, the Ray engine.

All runs share one small folder (two clips cut with --end, a photo, a broken file)
and compare against one sequential run, so the whole module stays short.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import (DEMO_CLIP, PERSON_JPG, PORTRAIT_CLIP, cmdline, descendants, interrupt_when, invoke, processes,
                     run_movenet, start_movenet)
from movenet_cli import media
from movenet_cli.run.manifest import MANIFEST_NAME

END = "1"  # seconds of each clip: 30 frames
DATA = ["demo.mp4.json", "sub/portrait.mp4.json", "person.jpg.json"]

try:
    import ray  # noqa: F401

    HAVE_RAY = True
except ImportError:
    HAVE_RAY = False
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason="ray is not installed (pip install 'movenet-cli[ray]')")


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    src = tmp_path_factory.mktemp("footage")
    (src / "sub").mkdir()
    shutil.copy(DEMO_CLIP, src / "demo.mp4")
    shutil.copy(PORTRAIT_CLIP, src / "sub" / "portrait.mp4")
    shutil.copy(PERSON_JPG, src / "person.jpg")
    (src / "broken.mp4").write_text("not a video\n")
    return src


def _dir(footage, out, *args, **kw):
    return run_movenet("dir", footage, "-o", out, "--end", END, "-q", *args, **kw)


def _manifest(out) -> dict:
    return json.loads((Path(out) / MANIFEST_NAME).read_text())


def _frames_bytes(path: Path) -> bytes:
    """The `frames` array of a JSON output, as written."""
    data = path.read_bytes()
    return data[data.index(b'"frames": [') :]


def _by_input(manifest: dict) -> dict:
    return {f["input"]: f for f in manifest["files"]}


def _stable(manifest: dict) -> list:
    """What must not depend on the engine: everything but timings and worker ids."""
    return [{k: v for k, v in f.items() if k not in ("seconds", "fps", "worker")} for f in manifest["files"]]


def _one_broken_file(result):
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "broken.mp4" in result.stderr and "3 done, 1 failed" in result.stderr


@pytest.fixture(scope="module")
def sequential(footage, tmp_path_factory, store):
    out = tmp_path_factory.mktemp("seq") / "out"
    _one_broken_file(_dir(footage, out, "--jobs", "1"))
    return out


@pytest.fixture(scope="module")
def parallel(footage, tmp_path_factory, store):
    out = tmp_path_factory.mktemp("par") / "out"
    _one_broken_file(_dir(footage, out, "--jobs", "2"))
    return out


def test_manifest_records_every_input(sequential, footage):
    manifest = _manifest(sequential)
    assert manifest["schema"] == "movenet-run/1" and manifest["status"] == "incomplete"
    assert manifest["counts"] == {"done": 3, "failed": 1, "skipped": 0, "pending": 0}
    assert manifest["engine"]["name"] == "local" and manifest["engine"]["jobs"] == 1
    assert manifest["settings"]["model"] == "multipose" and manifest["settings"]["end"] == 1.0
    assert manifest["input_dir"] == str(footage.resolve())
    files = _by_input(manifest)
    assert set(files) == {"broken.mp4", "demo.mp4", "person.jpg", "sub/portrait.mp4"}
    assert files["broken.mp4"]["status"] == "failed" and "not a video" in files["broken.mp4"]["reason"]
    for name, data in [("demo.mp4", DATA[0]), ("sub/portrait.mp4", DATA[1]), ("person.jpg", DATA[2])]:
        entry = files[name]
        assert entry["status"] == "done" and entry["reason"] is None
        assert entry["outputs"]["json"] == data
        doc = json.loads((sequential / data).read_text())
        assert entry["frames"] == doc["source"]["frame_count"] == len(doc["frames"])
        assert entry["seconds"] > 0 and entry["worker"]
        for output in entry["outputs"].values():
            assert output is None or (sequential / output).is_file()
    assert files["demo.mp4"]["frames"] == 30
    assert manifest["frames"] == 61


def test_parallel_equals_sequential(sequential, parallel):
    manifest = _manifest(parallel)
    assert manifest["engine"]["jobs"] == 2 and manifest["engine"]["threads_per_job"] >= 1
    assert _stable(manifest) == _stable(_manifest(sequential))
    for name in DATA:
        assert _frames_bytes(parallel / name) == _frames_bytes(sequential / name), name
    assert not list(parallel.rglob(".*partial*"))


def _worker_pids(manifest: dict) -> set[int]:
    return {int(f["worker"].rsplit(":", 1)[1]) for f in manifest["files"] if f["status"] != "skipped"}


def test_jobs_2_runs_files_in_two_worker_processes(sequential, parallel):
    """The manifest records who ran each file (host:pid): two workers, neither of them the
    sequential run's one process."""
    pids = _worker_pids(_manifest(parallel))
    assert len(pids) == 2, _manifest(parallel)["files"]
    assert len(_worker_pids(_manifest(sequential))) == 1
    assert not pids & _worker_pids(_manifest(sequential))


def test_skip_existing_redoes_only_damaged_outputs(sequential, tmp_path, footage):
    out = tmp_path / "out"
    shutil.copytree(sequential, out)
    demo_json = out / "demo.mp4.json"
    demo_json.write_bytes(demo_json.read_bytes()[:2000])  # cut short, as by a crash
    portrait = out / "sub" / "portrait.mp4"
    portrait.write_bytes(portrait.read_bytes()[: portrait.stat().st_size // 2])
    image_json = out / "person.jpg.json"
    before = image_json.stat().st_mtime_ns

    result = _dir(footage, out, "--skip-existing", "--jobs", "2")
    assert result.returncode == 1 and "2 done, 1 failed, 1 skipped" in result.stderr, result.stderr
    files = _by_input(_manifest(out))
    assert files["person.jpg"]["status"] == "skipped" and files["person.jpg"]["frames"] == 1
    assert files["demo.mp4"]["status"] == "done" and files["sub/portrait.mp4"]["status"] == "done"
    assert files["broken.mp4"]["status"] == "failed"
    assert image_json.stat().st_mtime_ns == before
    for name in DATA:
        assert _frames_bytes(out / name) == _frames_bytes(sequential / name), name
    assert media.count_frames(portrait) == 30

    # Everything is complete now: a second resume does nothing but the broken file.
    assert _dir(footage, out, "--skip-existing").returncode == 1
    assert _manifest(out)["counts"] == {"done": 0, "failed": 1, "skipped": 3, "pending": 0}


def test_an_earlier_run_is_not_replaced_silently(sequential, tmp_path, footage):
    out = tmp_path / "out"
    shutil.copytree(sequential, out)
    result = invoke("dir", footage, "-o", out, "--end", END, "-q")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and MANIFEST_NAME in lines[0] and "--skip-existing" in lines[0]
    assert _manifest(out) == _manifest(sequential)
    for other, named in [(["--end", "2"], "--end"), (["--end", END, "--no-smooth"], "smoothing")]:
        result = invoke("dir", footage, "-o", out, "--skip-existing", *other)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 1 and len(lines) == 1 and named in lines[0], result.stderr
        assert _manifest(out) == _manifest(sequential)

    # Resuming with another model leaves the earlier outputs alone and says why.
    demo = (out / "demo.mp4.json").read_bytes()
    result = invoke("dir", footage, "-o", out, "--end", END, "-q", "--skip-existing", "--model", "lightning")
    files = _by_input(_manifest(out))
    assert files["demo.mp4"]["status"] == "failed" and "other settings" in files["demo.mp4"]["reason"]
    assert "--overwrite" in files["demo.mp4"]["reason"]
    assert (out / "demo.mp4.json").read_bytes() == demo


def test_skip_existing_redoes_a_file_whose_csv_is_damaged(sequential, tmp_path, footage):
    """The CSV is an output like the others: rows missing from it make the file be redone."""
    out = tmp_path / "out"
    shutil.copytree(sequential, out)
    table = out / "demo.mp4.csv"
    rows = table.read_text().splitlines(keepends=True)
    assert len(rows) > 10
    table.write_text("".join(rows[:-3]))  # whole rows lost, as by a hand edit or a bad copy
    result = _dir(footage, out, "--skip-existing", "--jobs", "1")
    assert result.returncode == 1 and "1 done, 1 failed, 2 skipped" in result.stderr, result.stderr
    files = _by_input(_manifest(out))
    assert files["demo.mp4"]["status"] == "done"
    assert files["person.jpg"]["status"] == files["sub/portrait.mp4"]["status"] == "skipped"
    assert table.read_bytes() == (sequential / "demo.mp4.csv").read_bytes()


@pytest.mark.parametrize("option,value,named", [("--threshold", "0.5", "threshold 0.3"),
                                                ("--min-pose-score", "0.5", "min_pose_score 0.25")])
def test_resume_with_other_thresholds_keeps_the_earlier_outputs(sequential, tmp_path, footage, option, value, named):
    """Thresholds change the keypoints written: outputs made with others are not "complete"."""
    out = tmp_path / "out"
    shutil.copytree(sequential, out)
    before = {name: (out / name).read_bytes() for name in DATA}
    result = invoke("dir", footage, "-o", out, "--end", END, "-q", "--skip-existing", option, value)
    assert result.returncode == 1 and "0 done, 4 failed, 0 skipped" in result.stderr, result.stderr
    files = _by_input(_manifest(out))
    for name in ("demo.mp4", "sub/portrait.mp4", "person.jpg"):
        reason = files[name]["reason"]
        assert files[name]["status"] == "failed" and named in reason and "--overwrite" in reason, reason
    assert {name: (out / name).read_bytes() for name in DATA} == before


def test_unwritable_output_folder_fails_early(tmp_path, footage):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder's parent should be")
    result = invoke("dir", footage, "-o", blocker / "out", "--engine", "ray" if HAVE_RAY else "local")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "output folder" in lines[0] and str(blocker) in lines[0]


@needs_ray
def test_unreachable_ray_cluster_fails_in_one_line(tmp_path, footage):
    out = tmp_path / "out"
    result = run_movenet("dir", footage, "-o", out, "--engine", "ray", "--address", "127.0.0.1:1", timeout=60)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1 and "cannot reach Ray at 127.0.0.1:1" in lines[0], result.stderr
    manifest = _manifest(out)
    assert manifest["status"] == "aborted" and "127.0.0.1:1" in manifest["error"]
    assert manifest["counts"]["pending"] == 4


def test_ray_workers_check_they_see_the_folders(tmp_path):
    from movenet_cli.run.engines.ray import check_storage

    assert check_storage(str(tmp_path), str(tmp_path)) is None
    assert "storage every node sees" in check_storage(str(tmp_path / "nowhere"), str(tmp_path))
    (tmp_path / "file").write_text("")
    problem = check_storage(str(tmp_path), str(tmp_path / "file"))
    assert "not writable" in problem and "storage every node sees" in problem


def test_interrupted_run_leaves_a_manifest_and_no_partial_output(tmp_path, footage, store):
    src = tmp_path / "many"
    src.mkdir()
    for i in range(6):
        shutil.copy(DEMO_CLIP, src / f"clip{i}.mp4")
    out = tmp_path / "out"
    proc = start_movenet(
        "dir", src, "-o", out, "--jobs", "2", "--end", END, "-q",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = interrupt_when(proc, lambda: _manifest(out)["counts"]["done"] >= 1)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    manifest = _manifest(out)
    assert manifest["status"] == "interrupted"
    counts = manifest["counts"]
    assert counts["done"] >= 1 and counts["pending"] >= 1 and counts["done"] + counts["pending"] == 6
    for entry in manifest["files"]:
        written = [(out / p).exists() for p in entry["outputs"].values() if p]
        assert all(written) if entry["status"] == "done" else not any(written), entry
    time.sleep(0.5)  # workers are gone; nothing half-written stays behind
    assert not list(out.rglob(".*partial*"))


@needs_ray
def test_ray_survives_a_killed_worker_and_matches_local(sequential, footage, tmp_path):
    out = tmp_path / "ray"
    proc = start_movenet(
        "dir", footage, "-o", out, "--end", END, "-q", "--engine", "ray",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    try:
        deadline = time.monotonic() + 180
        while killed is None and time.monotonic() < deadline and proc.poll() is None:
            table = processes()  # one walk of /proc per look: the window is about a second
            for pid in descendants(proc.pid, table):
                # A worker running two ffmpeg (decoder and encoder) is in the middle of a video.
                if len(descendants(pid, table)) >= 2 and cmdline(pid).startswith("ray::process_on_worker"):
                    os.kill(pid, signal.SIGKILL)
                    killed = pid
                    break
            time.sleep(0.05)
        _, stderr = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert killed is not None, "no Ray worker was seen in the middle of a video"
    _one_broken_file(subprocess.CompletedProcess(proc.args, proc.returncode, "", stderr))
    manifest = _manifest(out)
    assert manifest["engine"]["name"] == "ray" and manifest["status"] == "incomplete"
    assert _stable(manifest) == _stable(_manifest(sequential))
    for name in DATA:
        assert _frames_bytes(out / name) == _frames_bytes(sequential / name), name
    assert media.count_frames(out / "demo.mp4") == 30
    assert not list(out.rglob(".*partial*"))  # the retry cleared what the killed attempt left


def test_dir_mirrors_inputs_and_survives_a_bad_file(tmp_path):
    src = tmp_path / "footage"
    (src / "a" / "b").mkdir(parents=True)
    shutil.copy(PERSON_JPG, src / "a" / "same.jpg")
    media.write_image(src / "a" / "same.png", media.read_image(PERSON_JPG))
    shutil.copy(PORTRAIT_CLIP, src / "a" / "b" / "clip.mp4")
    (src / "broken.mp4").write_text("this is not a video\n")
    (src / "notes.txt").write_text("ignored")
    out = tmp_path / "out"
    result = run_movenet("dir", src, "-o", out, "-q")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "broken.mp4" in result.stderr and "3 done, 1 failed" in result.stderr
    assert (out / "a" / "same.jpg").exists() and (out / "a" / "same.png").exists()
    assert (out / "a" / "same.jpg.json").exists() and (out / "a" / "same.png.json").exists()
    assert (out / "a" / "b" / "clip.mp4").exists() and (out / "a" / "b" / "clip.mp4.json").exists()
    assert not list(out.glob("broken*")) and not list(out.rglob(".*partial*"))
    doc = json.loads((out / "a" / "b" / "clip.mp4.json").read_text())
    assert doc["source"]["path"].endswith("clip.mp4")


def test_a_resume_with_other_encoding_options_is_refused():
    """Skipping the files already done with another --scale (or --preset/--crf) would leave a folder of
    annotated videos of mixed sizes: the resume names the options instead; a manifest written before
    --scale existed counts as the default."""
    from movenet_cli.run.resume import changed_options
    from movenet_cli.settings import RunSettings

    before = RunSettings().as_dict()
    assert changed_options({"settings": before}, RunSettings(scale=0.5)) == ["--preset/--crf/--scale"]
    assert changed_options({"settings": before}, RunSettings(crf=30)) == ["--preset/--crf/--scale"]
    older = {key: value for key, value in before.items() if key != "scale"}
    assert changed_options({"settings": older}, RunSettings()) == []
