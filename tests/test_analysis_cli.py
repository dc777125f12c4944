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


def write_result(path, frames, fps=30.0, threshold=0.3):
    """A movenet/1 file of hand-made frames, written as the tool writes it."""
    from movenet_cli.render.sinks import JsonSink

    sink = JsonSink(path, source={"path": str(path.with_suffix(".mp4")), "width": 640, "height": 480, "fps": fps},
                    model={"name": "multipose", "threshold": threshold})
    for frame in frames:
        sink.add(frame)
    sink.close()
    return path


def person(x, pid=1, score=0.9):
    import numpy as np

    from movenet_cli.types import Pose

    kp = np.array([[x + 3 * k, 100 + 20 * k, score] for k in range(17)], float)
    return Pose(kp, 0.9, (x, 100, x + 60, 440), pid)


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_filters_leave_one_frame_videos_and_images_raw_and_say_so(tmp_path):
    for spec in ("butterworth", "savgol"):
        out = tmp_path / f"{spec}.json"
        done = run_movenet("video", DEMO_CLIP, "--no-video", "--json", out, "--end", "0.02", "--filter", spec, "-q",
                           "--format", "trc")
        assert done.returncode == 0, done.stderr
        doc = json.loads(out.read_text())
        assert len(doc["frames"]) == 1 and doc["model"]["filter"]["rate_hz"] is None
        assert {u["frames"][0] for u in doc["model"]["filter"]["unfiltered"]} == {0}
        assert all("1 frame" in u["reason"] for u in doc["model"]["filter"]["unfiltered"])
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(PERSON_JPG, src / "a.jpg")
    shutil.copy(PERSON_JPG, src / "b.jpg")
    done = run_movenet("dir", src, "-o", tmp_path / "out", "--filter", "butterworth", "--jobs", "1", "-q")
    assert done.returncode == 0, done.stderr
    for name in ("a.jpg", "b.jpg"):
        flt = json.loads((tmp_path / "out" / f"{name}.json").read_text())["model"]["filter"]
        assert flt["unfiltered"][0]["frames"] == [0, 0] and flt["unfiltered_segments"] == flt["segments"] > 0


def test_a_cutoff_the_video_rate_cannot_support_is_refused_before_any_work(run, tmp_path):
    for extra in (["--filter", "butterworth:16"], ["--filter", "butterworth", "--every", "3"]):  # 30 fps, 10 fps
        done = run_movenet("video", DEMO_CLIP, "--json", tmp_path / "v.json", "-o", tmp_path / "v.mp4", *extra)
        assert done.returncode == 2 and "half the frame rate" in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert list(tmp_path.iterdir()) == []
    shutil.copy(run / "clip.json", tmp_path / "clip.json")
    for command in (["angles", "--plot", tmp_path / "p.png"], ["export", "--format", "trc", "--format", "coco"]):
        done = run_movenet(command[0], tmp_path / "clip.json", *command[1:], "--filter", "butterworth:15")
        assert done.returncode == 2 and "half the frame rate" in done.stderr, done.stderr
        assert listing(tmp_path) == ["clip.json"]


def test_a_person_seen_only_at_a_slow_rate_keeps_the_run(tmp_path):
    """Variable frame rate: 30 fps, then 10 fps; person 2 is tracked only through the 10 fps stretch."""
    from movenet_cli.types import FrameResult

    times = [i / 30 for i in range(60)] + [2 + i / 10 for i in range(1, 40)]
    frames = [FrameResult(i, t, [person(100 + i, 1)] + ([person(400, 2)] if t > 2 else [])) for i, t in enumerate(times)]
    result = write_result(tmp_path / "vfr.json", frames)
    done = run_movenet("angles", result, "--filter", "butterworth", "--plot", tmp_path / "k.png", "-q")
    assert done.returncode == 0, done.stderr
    done = run_movenet("export", result, "--filter", "butterworth", "--format", "trc", "--format", "openpose", "-q")
    assert done.returncode == 0, done.stderr
    assert listing(tmp_path / "vfr_trc") == ["vfr_id1_px.trc", "vfr_id2_px.trc"]
    assert len(list((tmp_path / "vfr_json").iterdir())) == len(frames)


def test_a_failing_export_or_angles_command_publishes_nothing(tmp_path):
    from movenet_cli.types import FrameResult

    nobody = write_result(tmp_path / "empty.json", [FrameResult(i, i / 30, []) for i in range(30)])
    done = run_movenet("export", nobody, "--format", "openpose", "--format", "coco", "--format", "trc")
    assert done.returncode == 1 and "nobody was found" in done.stderr and "Traceback" not in done.stderr
    assert listing(tmp_path) == ["empty.json"]  # not 30 OpenPose files, not the COCO file
    done = run_movenet("angles", nobody, "--plot", tmp_path / "knee.png")
    assert done.returncode == 1 and "nobody was found" in done.stderr
    assert listing(tmp_path) == ["empty.json"]  # no CSV without its plot
    done = run_movenet("export", nobody, "--format", "openpose", "-q")  # the rerun is not refused
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "empty_json").iterdir())) == 30


def test_overwrite_replaces_an_export_folder_whole_and_a_failure_keeps_the_old_one(tmp_path):
    from movenet_cli.types import FrameResult

    poses = [person(100 + i) for i in range(12)]
    for pose in poses:
        pose.keypoints[15:, 2] = 0.1  # ankles never sure: no height to scale to metres from
    result = write_result(tmp_path / "r.json", [FrameResult(i, i / 30, [pose]) for i, pose in enumerate(poses)])
    assert run_movenet("export", result, "--format", "openpose", "-q").returncode == 0
    stale = tmp_path / "r_json" / "r_000000000099_keypoints.json"
    stale.write_text("{}")  # a file of an older, longer run
    before = {p: p.read_bytes() for p in (tmp_path / "r_json").iterdir()}
    done = run_movenet("export", result, "--format", "openpose", "--format", "trc", "--height", "1.7", "--overwrite")
    assert done.returncode == 1 and "never seen whole" in done.stderr, done.stderr
    assert {p: p.read_bytes() for p in (tmp_path / "r_json").iterdir()} == before
    assert run_movenet("export", result, "--format", "openpose", "--overwrite", "-q").returncode == 0
    assert not stale.exists() and len(list((tmp_path / "r_json").iterdir())) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r_json"]


def test_export_layouts_and_the_neck_follow_the_result_and_the_options(tmp_path):
    """COCO-17 by default; COCO-18's Neck needs both shoulders at the result's own threshold."""
    from movenet_cli.types import FrameResult

    for threshold, neck in ((0.4, True), (0.6, False)):
        folder = tmp_path / f"t{threshold}"
        folder.mkdir()
        pose = person(100)
        pose.keypoints[5:7, 2] = 0.5  # shoulders
        result = write_result(folder / "r.json", [FrameResult(7, 7 / 30, [pose])], threshold=threshold)
        assert run_movenet("export", result, "--format", "openpose", "-q").returncode == 0
        flat = json.loads((folder / "r_json" / "r_000000000007_keypoints.json").read_text())["people"][0]["pose_keypoints_2d"]
        assert len(flat) == 51 and flat[15:18] == [115.0, 200.0, 0.5]  # COCO-17: LShoulder is the 6th part
        shutil.rmtree(folder / "r_json")
        done = run_movenet("export", result, "--format", "openpose", "--openpose-layout", "coco18")
        assert done.returncode == 0 and "pose_model = 'COCO'" in done.stderr + done.stdout, done.stderr
        flat = json.loads((folder / "r_json" / "r_000000000007_keypoints.json").read_text())["people"][0]["pose_keypoints_2d"]
        assert len(flat) == 54 and (flat[3:6] == [116.5, 210.0, 0.5]) is neck and (flat[3:6] == [0, 0, 0]) is not neck
