"""--angles, --filter and --format wired into video, image and dir, and the angles/export commands
that redo them from a written result: real model, real media."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from helpers import DEMO_CLIP, PERSON_JPG, run_movenet
from movenet_cli.analysis.angles import ANGLE_NAMES


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One filtered video run with angles and every export (first second of the sample clip)."""
    out = tmp_path_factory.mktemp("analysis")
    done = run_movenet("video", DEMO_CLIP, "--no-video", "--json", out / "clip.json", "--end", "1", "-q",
                       "--angles", "--filter", "butterworth", "--format", "openpose", "--format", "coco",
                       "--format", "trc")
    assert done.returncode == 0, done.stderr
    return out


def test_video_writes_filtered_json_angles_and_every_export(run):
    doc = json.loads((run / "clip.json").read_text())
    flt = doc["model"]["filter"]
    assert flt["type"] == "butterworth" and flt["cutoff_hz"] == 6.0 and flt["order"] == 4 and flt["max_gap"] == 10
    assert flt["zero_phase"] and flt["tracks"] >= 1 and flt["segments"] > 0
    assert doc["model"]["smoothing"] is None  # the offline filter replaces One-Euro
    assert doc["model"]["angles"]["names"] == list(ANGLE_NAMES)
    people = [p for f in doc["frames"] for p in f["people"]]
    assert people and all(set(p["angles"]) == set(ANGLE_NAMES) for p in people)
    assert any(v is None for p in people for v in p["angles"].values())  # unsure keypoints: empty, not guessed
    rows = list(csv.reader((run / "clip.angles.csv").open()))
    assert rows[0] == ["frame", "time", "person_id", *ANGLE_NAMES] and len(rows) == 1 + len(people)
    assert len(list((run / "clip_json").iterdir())) == len(doc["frames"])
    ids = {p["id"] for p in people}
    assert sorted(p.name for p in (run / "clip_trc").iterdir()) == sorted(f"demo_clip_id{i}_px.trc" for i in ids)
    assert sorted(p.name for p in run.iterdir()) == ["clip.angles.csv", "clip.coco.json", "clip.json", "clip_json", "clip_trc"]
    assert len(json.loads((run / "clip.coco.json").read_text())) == len(people)


def test_angles_and_export_commands_reproduce_the_run(run, tmp_path):
    copy = tmp_path / "clip.json"
    shutil.copy(run / "clip.json", copy)
    done = run_movenet("angles", copy, "-q")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "clip.angles.csv").read_bytes() == (run / "clip.angles.csv").read_bytes()
    done = run_movenet("export", copy, "--format", "coco", "--format", "openpose", "--format", "trc", "-q")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "clip.coco.json").read_bytes() == (run / "clip.coco.json").read_bytes()
    for folder in ("clip_json", "clip_trc"):
        mine = sorted((tmp_path / folder).iterdir())
        assert [p.name for p in mine] == sorted(p.name for p in (run / folder).iterdir())
        assert all(p.read_bytes() == (run / folder / p.name).read_bytes() for p in mine)


def test_angles_command_filters_and_plots(run, tmp_path):
    done = run_movenet("angles", run / "clip.json", "-o", tmp_path / "a.csv", "--filter", "savgol:7:2",
                       "--plot", tmp_path / "knee.png", "--angle", "left_knee")
    assert done.returncode == 0, done.stderr
    assert "savgol filtered" in done.stderr + done.stdout
    assert (tmp_path / "knee.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_existing_export_folder_is_refused_before_any_work(run, tmp_path):
    (tmp_path / "clip_json").mkdir()
    (tmp_path / "clip_json" / "old.json").write_text("{}")
    shutil.copy(run / "clip.json", tmp_path / "clip.json")
    done = run_movenet("export", tmp_path / "clip.json", "--format", "openpose", "--format", "coco")
    assert done.returncode != 0 and "clip_json" in done.stderr and "--overwrite" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "clip.coco.json").exists()


def test_bad_filter_and_missing_result_are_one_line_errors(tmp_path):
    done = run_movenet("video", DEMO_CLIP, "-o", tmp_path / "o.mp4", "--filter", "butterworth:abc")
    assert done.returncode == 2 and "--filter" in done.stderr and "Traceback" not in done.stderr
    done = run_movenet("angles", tmp_path / "none.json")
    assert done.returncode == 1 and "none.json" in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())


def test_image_and_dir_take_angles_and_formats(tmp_path):
    done = run_movenet("image", PERSON_JPG, "-o", tmp_path / "p.jpg", "--angles", "--format", "coco", "-q")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader((tmp_path / "p.angles.csv").open()))
    assert len(rows) >= 2 and rows[1][2] == "1"
    assert json.loads((tmp_path / "p.coco.json").read_text())[0]["image_id"] == 0
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(PERSON_JPG, src / "a.jpg")
    done = run_movenet("dir", src, "-o", tmp_path / "out", "--angles", "--format", "openpose", "--jobs", "1", "-q")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "a.jpg.angles.csv").is_file()
    assert [p.name for p in (tmp_path / "out" / "a.jpg_json").iterdir()] == ["a_000000000000_keypoints.json"]
