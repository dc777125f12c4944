"""Exports read back the way their consumers read them: OpenPose JSON, COCO results (pycocotools), TRC."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT, run_movenet
from movenet_cli.analysis.exports import (
    COCO17_PARTS,
    OPENPOSE_PARTS,
    TRC_MARKERS,
    ExportError,
    coco_results,
    image_ids_from_ground_truth,
    openpose_keypoints,
    pixels_per_metre,
    render_openpose,
    render_trc,
    write_coco,
    write_openpose,
    write_trc,
)
from movenet_cli.results.load import ResultDoc, load_result
from movenet_cli.types import KEYPOINT_NAMES, FrameResult, Pose

COCO_DEV = ROOT / "tests" / "data" / "coco-dev"
GT = COCO_DEV / "test_coco.json"
K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
# OpenPose part -> MoveNet keypoint
OP_TO_MOVENET = {"Nose": "nose", "RShoulder": "right_shoulder", "RElbow": "right_elbow", "RWrist": "right_wrist",
                 "LShoulder": "left_shoulder", "LElbow": "left_elbow", "LWrist": "left_wrist", "RHip": "right_hip",
                 "RKnee": "right_knee", "RAnkle": "right_ankle", "LHip": "left_hip", "LKnee": "left_knee",
                 "LAnkle": "left_ankle", "REye": "right_eye", "LEye": "left_eye", "REar": "right_ear", "LEar": "left_ear"}


@pytest.fixture(scope="module")
def clip(clip_second):
    """The real MultiPose result of the first second of the sample clip."""
    return clip_second


def read_trc(path):
    """A TRC reader that follows the format as Pose2Sim's read_trc does (5 header lines, tab-separated)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[:5]
    names = dict(zip(header[1].split("\t"), header[2].split("\t")))
    markers = [m for m in header[3].split("\t")[2::3] if m.strip()]
    columns = header[4].split("\t")
    rows = [line.split("\t") for line in lines[5:] if line]
    data = np.array([[float(c) if c else np.nan for c in row[2:]] for row in rows])
    return header, names, markers, columns, rows, data


def test_openpose_files_hold_the_same_points_in_coco17_order_by_default(clip, tmp_path):
    export = write_openpose(clip, tmp_path / "demo_clip_json")
    assert [p.name for p in export.paths] == [f"demo_clip_{f.index:012d}_keypoints.json" for f in clip.frames]
    assert sorted(p.name for p in (tmp_path / "demo_clip_json").iterdir()) == [p.name for p in export.paths]
    assert any("pose_model = 'COCO_17'" in n for n in export.notes) and not any("Neck" in n for n in export.notes)
    for frame, path in zip(clip.frames, export.paths):
        data = json.loads(path.read_text())
        for pose, person in zip(frame.people, data["people"]):
            assert person["person_id"] == [pose.id]
            assert np.array(person["pose_keypoints_2d"]).reshape(17, 3) == pytest.approx(pose.keypoints, abs=1e-3)
    assert COCO17_PARTS == TRC_MARKERS and len(COCO17_PARTS) == 17


def test_openpose_files_hold_the_same_points_in_coco18_order(clip, tmp_path):
    export = write_openpose(clip, tmp_path / "op", threshold=0.3, layout="coco18")
    assert len(export.paths) == len(clip.frames)
    assert any("Neck" in n for n in export.notes) and any("pose_model = 'COCO'" in n for n in export.notes)
    necks = 0
    for frame, path in zip(clip.frames, export.paths):
        assert path.name == f"demo_clip_{frame.index:012d}_keypoints.json"
        data = json.loads(path.read_text())
        assert data["version"] == 1.3 and len(data["people"]) == len(frame.people)
        for pose, person in zip(frame.people, data["people"]):
            assert person["person_id"] == [pose.id]
            flat = np.array(person["pose_keypoints_2d"]).reshape(18, 3)
            for part, row in zip(OPENPOSE_PARTS, flat):
                if part == "Neck":
                    sh = pose.keypoints[[K["left_shoulder"], K["right_shoulder"]]]
                    if (sh[:, 2] >= 0.3).all():
                        necks += 1
                        assert row == pytest.approx(sh.mean(axis=0), abs=1e-3)
                    else:
                        assert list(row) == [0, 0, 0]
                else:
                    assert row == pytest.approx(pose.keypoints[K[OP_TO_MOVENET[part]]], abs=1e-3)
    assert necks > 0


def test_openpose_neck_needs_both_shoulders():
    kp = np.zeros((17, 3))
    kp[K["left_shoulder"]] = (10, 20, 0.9)
    kp[K["right_shoulder"]] = (30, 40, 0.5)
    flat = openpose_keypoints(Pose(kp, 1.0, None, 3), threshold=0.3, layout="coco18")
    assert len(flat) == 54 and flat[3:6] == [20.0, 30.0, 0.7]
    assert flat[6:9] == [30.0, 40.0, 0.5] and flat[15:18] == [10.0, 20.0, 0.9]  # RShoulder, LShoulder
    kp[K["right_shoulder"], 2] = 0.2
    assert openpose_keypoints(Pose(kp, 1.0, None, 3), threshold=0.3, layout="coco18")[3:6] == [0.0, 0.0, 0.0]


def test_openpose_neck_follows_the_threshold_of_the_run():
    kp = np.zeros((17, 3))
    kp[K["left_shoulder"]] = (10, 20, 0.5)
    kp[K["right_shoulder"]] = (30, 40, 0.5)
    pose = Pose(kp, 1.0, None, 3)
    assert openpose_keypoints(pose, threshold=0.4, layout="coco18")[3:6] == [20.0, 30.0, 0.5]
    assert openpose_keypoints(pose, threshold=0.6, layout="coco18")[3:6] == [0.0, 0.0, 0.0]
    doc = ResultDoc(Path("r.json"), "movenet/1", True, {"path": "r.mp4"}, {}, [FrameResult(0, 0.0, [pose])])
    for threshold, neck in ((0.4, [20.0, 30.0, 0.5]), (0.6, [0.0, 0.0, 0.0])):
        _, [(_, text)] = render_openpose(doc, "r_json", threshold=threshold, layout="coco18")
        assert json.loads(text)["people"][0]["pose_keypoints_2d"][3:6] == neck


def test_openpose_files_are_numbered_by_source_frame():
    """A --start/--every run: frames 60, 62, 64 ... are files 60, 62, 64, not 0, 1, 2."""
    frames = [FrameResult(60 + 2 * i, (60 + 2 * i) / 30, []) for i in range(3)]
    doc = ResultDoc(Path("r.json"), "movenet/1", True, {"path": "clip.mp4"}, {}, frames)
    _, files = render_openpose(doc, "clip_json")
    assert [p.name for p, _ in files] == [f"clip_0000000000{n}_keypoints.json" for n in (60, 62, 64)]


def test_coco_export_scores_the_same_ap_as_movenet_eval(tmp_path):
    from pycocotools.coco import COCO

    from movenet_cli.evaluate import load_ground_truth, score

    ground_truth = load_ground_truth(GT)
    images = [COCO_DEV / img["file_name"] for img in ground_truth["images"]]
    run = run_movenet("image", *images, "-o", tmp_path / "img", "--accuracy", "standard", "-q")  # as eval's default
    assert run.returncode == 0, run.stderr
    docs = [load_result(p) for p in sorted((tmp_path / "img").glob("*.json"))]
    assert len(docs) == len(images)
    export = write_coco(docs, tmp_path / "results.json", image_id=image_ids_from_ground_truth(ground_truth))
    gt = COCO(str(GT))
    loaded = gt.loadRes(str(export.paths[0]))  # the file loads as COCO results
    assert len(loaded.getAnnIds()) == sum(len(f.people) for d in docs for f in d.frames) > 0
    ours = score(ground_truth, json.loads(export.paths[0].read_text()))
    preds = tmp_path / "eval.json"
    ev = run_movenet("eval", GT, COCO_DEV, "--save-predictions", preds, "-q")
    assert ev.returncode == 0, ev.stderr
    reference = score(ground_truth, json.loads(preds.read_text()))
    assert ours["AP"] == pytest.approx(reference["AP"], abs=1e-3), (ours, reference)
    assert ours["AR"] == pytest.approx(reference["AR"], abs=1e-3)
    assert reference["AP"] > 0.3


def test_coco_default_image_id_is_the_frame_index_and_each_keypoint_keeps_its_score(clip):
    results = coco_results([clip])
    assert [r["image_id"] for r in results] == [f.index for f in clip.frames for _ in f.people]
    assert all(len(r["keypoints"]) == 51 and r["category_id"] == 1 for r in results)
    poses = [p for f in clip.frames for p in f.people]
    for entry, pose in zip(results, poses):
        assert entry["keypoints"][2::3] == pytest.approx(pose.keypoints[:, 2], abs=1e-3)  # not a visibility flag
        assert entry["keypoints"][0::3] == pytest.approx(pose.keypoints[:, 0], abs=1e-3)
        assert entry["score"] == pytest.approx(pose.score, abs=1e-4)
    assert len({v for e in results for v in e["keypoints"][2::3]}) > 10


def test_trc_header_and_rows_as_pose2sim_reads_them(clip, tmp_path):
    export = write_trc(clip, tmp_path / "demo_clip_trc")
    ids = sorted({p.id for f in clip.frames for p in f.people})
    assert [p.name for p in export.paths] == [f"demo_clip_id{i}_px.trc" for i in ids]
    for pid, path in zip(ids, export.paths):
        header, names, markers, columns, rows, data = read_trc(path)
        assert header[0] == f"PathFileType\t4\t(X/Y/Z)\t{path.name}"
        assert names["NumFrames"] == names["OrigNumFrames"] == str(len(clip.frames)) == str(len(rows))
        assert names["NumMarkers"] == "17" and names["Units"] == "px" and float(names["DataRate"]) == 30.0
        assert names["OrigDataStartFrame"] == str(clip.frames[0].index)
        assert markers == list(TRC_MARKERS)
        assert columns[:2] == ["", ""] and columns[2:5] == ["X1", "Y1", "Z1"] and len(columns) == 2 + 51
        assert all(len(r) == 2 + 51 for r in rows)  # every cell filled: a missing marker is NaN, not blank
        assert not any(c == "" for r in rows for c in r)
        for row, frame in zip(rows, clip.frames):  # Frame# and Time are the video's own
            assert int(row[0]) == frame.index and float(row[1]) == pytest.approx(frame.time, abs=1e-6)
        for n, frame in enumerate(clip.frames):
            pose = next((p for p in frame.people if p.id == pid), None)
            for k in range(17):
                got = data[n, 3 * k:3 * k + 3]
                if pose is not None and pose.keypoints[k, 2] >= 0.3:
                    assert got == pytest.approx([*pose.keypoints[k, :2], 0.0], abs=1e-3)
                else:
                    assert np.isnan(got).all() and rows[n][2 + 3 * k] == "NaN"


def test_trc_of_a_late_track_keeps_the_video_frame_numbers_and_times(tmp_path):
    """A person who first appears at frame 42 of a 29.97 fps video: the file starts at the run's first
    frame (NaN until 42), Frame# and Time are the video's, and the rate stays 29.97."""
    fps = 30000 / 1001
    kp = np.tile([50.0, 60.0, 0.9], (17, 1))
    frames = [FrameResult(i, i / fps, [Pose(kp, 0.9, None, 1)] + ([Pose(kp + [5, 5, 0], 0.8, None, 2)] if i >= 42 else []))
              for i in range(50)]
    doc = ResultDoc(tmp_path / "late.json", "movenet/1", True, {"path": "late.mp4", "fps": fps, "height": 100}, {}, frames)
    export, files = render_trc(doc, tmp_path / "late_trc")
    assert [p.name for p, _ in files] == ["late_id1_px.trc", "late_id2_px.trc"]
    lines = files[1][1].split("\n")
    assert lines[2].split("\t")[0] == "29.97002997" and lines[2].split("\t")[5] == "29.97002997"
    rows = [line.split("\t") for line in lines[5:] if line]
    assert len(rows) == 50 and rows[0][:2] == ["0", "0.000000"] and rows[0][2:5] == ["NaN"] * 3
    assert rows[42][:2] == ["42", f"{42 / fps:.6f}"] and rows[42][2:5] == ["55.000", "65.000", "0.000"]
    every = [FrameResult(2 * i, 2 * i / 25.0, [Pose(kp, 0.9, None, 1)]) for i in range(10)]
    doc = ResultDoc(tmp_path / "e.json", "movenet/1", True, {"path": "e.mp4", "fps": 25.0}, {}, every)
    assert render_trc(doc, tmp_path)[1][0][1].split("\n")[2].split("\t")[0] == "12.5"  # --every 2 of 25 fps


def test_trc_in_metres_from_a_known_height(tmp_path):
    """A synthetic 170-pixel-tall stick figure walking at 1 px per frame, told it is 1.70 m tall."""
    kp = np.ones((17, 3))
    pts = {"nose": (0, -150), "left_shoulder": (-10, -130), "right_shoulder": (10, -130), "left_hip": (-10, -80),
           "right_hip": (10, -80), "left_knee": (-10, -40), "right_knee": (10, -40), "left_ankle": (-10, 0), "right_ankle": (10, 0)}
    for name, xy in pts.items():
        kp[K[name], :2] = xy
    frames = []
    for i in range(20):
        moved = kp.copy()
        moved[:, 0] += 100 + i
        moved[:, 1] += 400
        frames.append(FrameResult(i * 2, i * 2 / 30, [Pose(moved, 0.9, None, 7)]))
    doc = ResultDoc(tmp_path / "walk.json", "movenet/1", True, {"path": "walk.mp4", "height": 500, "fps": 30.0}, {}, frames)
    mid_shoulder_to_nose = float(np.hypot(0, 20))
    px_height = 1.063 * (40 + 40 + 50 + 1.5 * mid_shoulder_to_nose) / (1 - 0.039)
    assert pixels_per_metre(frames, 7, 1.7) == pytest.approx(px_height / 1.7)
    export = write_trc(doc, tmp_path / "trc", height_m=1.7)
    header, names, markers, columns, rows, data = read_trc(export.paths[0])
    assert export.paths[0].name == "walk_id7_m.trc" and names["Units"] == "m"
    assert export.paths[0].parent == tmp_path / "trc"
    assert float(names["DataRate"]) == 15.0  # every second frame of a 30 fps video
    ppm = px_height / 1.7
    ankle = TRC_MARKERS.index("LAnkle")
    assert data[0, 3 * ankle:3 * ankle + 3] == pytest.approx([90 / ppm, 100 / ppm, 0.0], abs=1e-5)  # y up from the bottom
    assert data[-1, 3 * ankle] - data[0, 3 * ankle] == pytest.approx(19 / ppm, abs=1e-5)
    with pytest.raises(ExportError, match="never seen whole"):
        kp2 = [FrameResult(0, 0.0, [Pose(np.zeros((17, 3)), 0.5, None, 1)])]
        write_trc(ResultDoc(tmp_path / "x.json", "movenet/1", True, {"height": 10}, {}, kp2), tmp_path, height_m=1.7)


def test_exports_are_atomic_and_name_the_file_on_error(clip, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ExportError, match=str(blocker)):
        write_openpose(clip, blocker / "op")
    write_coco(clip, tmp_path / "c.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "file"]  # no temporary file left


def test_a_folder_export_that_fails_half_way_leaves_nothing(clip, tmp_path, monkeypatch):
    """The disk fills after 8 files: no folder, no temporary folder; a folder already there stays whole."""
    written = []
    real = Path.write_text

    def full_disk(self, *args, **kwargs):
        if len(written) == 8:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(ExportError, match="demo_clip_json.*No space left"):
        write_openpose(clip, tmp_path / "demo_clip_json")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "demo_clip_json"
    old.mkdir()
    written.clear()
    (old / "mine.json").write_text("{}")
    written.clear()
    with pytest.raises(ExportError):
        write_openpose(clip, old)
    assert [p.name for p in tmp_path.iterdir()] == ["demo_clip_json"] and [p.name for p in old.iterdir()] == ["mine.json"]
    monkeypatch.setattr(Path, "write_text", real)
    write_openpose(clip, old)  # replaced whole
    assert sorted(p.name for p in old.iterdir()) == [f"demo_clip_{f.index:012d}_keypoints.json" for f in clip.frames]
    assert [p.name for p in tmp_path.iterdir()] == ["demo_clip_json"]
