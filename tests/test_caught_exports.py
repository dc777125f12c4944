"""Exports of hand-made results, read back as their consumers read them: COCO entries and image ids,
OpenPose documents and their notes, the TRC's scale and its refusals, file names and paths.

No model runs here (``test_exports.py`` holds the end-to-end checks on the sample clip).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from movenet_cli.analysis.exports import (
    ExportError, coco_entry, coco_results, image_ids_from_ground_truth, openpose_frame, pixels_per_metre,
    render_coco, render_openpose, render_trc, write_coco, write_openpose, write_trc,
)
from movenet_cli.results.load import ResultDoc
from movenet_cli.types import KEYPOINT_NAMES, FrameResult, Pose

K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}


def pose(pid: int = 1, x: float = 10.0, score: float = 0.87654321) -> Pose:
    kp = np.array([[x + k + 0.12345, 20.0 + k, 0.5 + k / 100] for k in range(17)])
    return Pose(kp, score, None, pid)


def doc(frames, source=None, path="run.json") -> ResultDoc:
    return ResultDoc(Path(path), "movenet/1", True, {"path": "clip.mp4"} if source is None else source, {}, frames)


def test_a_coco_entry_holds_each_keypoint_with_its_score_rounded():
    entry = coco_entry(42, pose(), category_id=3)
    assert entry["image_id"] == 42 and entry["category_id"] == 3 and entry["score"] == 0.87654
    assert entry["keypoints"][:3] == [10.123, 20.0, 0.5] and entry["keypoints"][-3:] == [26.123, 36.0, 0.66]
    assert coco_entry(1, pose())["category_id"] == 1


def test_coco_results_take_image_ids_by_file_name_and_leave_unknown_sources_out(tmp_path):
    gt = {"images": [{"id": 7, "file_name": "sub/a.jpg"}, {"id": 9, "file_name": "b.jpg"}]}
    ids = image_ids_from_ground_truth(gt)
    docs = [doc([FrameResult(0, 0.0, [pose(1), pose(2)])], {"path": "/data/a.jpg"}),
            doc([FrameResult(0, 0.0, [pose(1)])], {"path": "elsewhere/b.jpg"}),
            doc([FrameResult(0, 0.0, [pose(1)])], {"path": "c.jpg"}), doc([FrameResult(0, 0.0, [pose(1)])], {})]
    assert [r["image_id"] for r in coco_results(docs, ids, category_id=2)] == [7, 7, 9]
    assert {r["category_id"] for r in coco_results(docs, ids, category_id=2)} == {2}
    assert image_ids_from_ground_truth({})(docs[0], docs[0].frames[0]) is None
    video = doc([FrameResult(5, 0.2, [pose()]), FrameResult(6, 0.24, [pose(1), pose(2)])])
    assert [r["image_id"] for r in coco_results([video])] == [5, 6, 6]
    export, [(path, text)] = render_coco(video, tmp_path / "r.json", image_id=ids, category_id=4)
    assert json.loads(text) == [] and export.paths == [tmp_path / "r.json"]
    assert export.notes == ["COCO results have no track id, box or time; image_id is looked up by file name"]
    export, [(_, text)] = render_coco([video, video], tmp_path / "r.json", category_id=4)
    assert len(json.loads(text)) == 6 and json.loads(text)[0]["category_id"] == 4
    assert export.notes == ["COCO results have no track id, box or time; image_id is the frame's source index"]


def test_write_coco_writes_the_file_and_its_folder_and_names_what_it_cannot_write(tmp_path):
    video = doc([FrameResult(3, 0.1, [pose()])])
    target = tmp_path / "new" / "deep" / "coco.json"
    export = write_coco(video, target, category_id=5)
    assert export.format == "coco" and export.paths == [target]
    (entry,) = json.loads(target.read_text(encoding="utf-8"))
    assert (entry["image_id"], entry["category_id"]) == (3, 5)
    assert list(tmp_path.joinpath("new", "deep").iterdir()) == [target]  # no temporary left beside it
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match=f"^{blocker}: cannot make the folder"):
        write_coco(video, blocker / "coco.json")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(ExportError, match=f"^{tmp_path / 'dir.json'}: cannot be written"):
        write_coco(video, tmp_path / "dir.json")


def test_an_openpose_document_per_frame_with_every_person(tmp_path):
    frame = FrameResult(4, 0.1, [pose(3), pose(8, x=100.0)])
    data = openpose_frame(frame, layout="coco17")
    assert data["version"] == 1.3 and [p["person_id"] for p in data["people"]] == [[3], [8]]
    first = data["people"][0]
    assert first["pose_keypoints_2d"][:3] == [10.123, 20.0, 0.5] and len(first["pose_keypoints_2d"]) == 51
    assert all(first[k] == [] for k in ("face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d",
                                        "pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d",
                                        "hand_right_keypoints_3d"))
    export = write_openpose(doc([frame, FrameResult(9, 0.3, [])], path=str(tmp_path / "x.json")), tmp_path / "op",
                            layout="coco17")
    assert [p.name for p in export.paths] == ["clip_000000000004_keypoints.json", "clip_000000000009_keypoints.json"]
    assert sorted(p.name for p in (tmp_path / "op").iterdir()) == [p.name for p in export.paths]
    assert json.loads(export.paths[0].read_text())["people"][1]["person_id"] == [8]
    assert json.loads(export.paths[1].read_text()) == {"version": 1.3, "people": []}


def test_openpose_notes_name_the_layout_and_the_neck_rule():
    one = doc([FrameResult(0, 0.0, [pose()])])
    export, _ = render_openpose(one, "out", threshold=0.45, layout="coco18")
    assert export.format == "openpose" and export.notes[1:] == [
        "keypoints in the coco18 layout: Pose2Sim's pose_model = 'COCO'",
        "Neck is the midpoint of the shoulders (score: their mean) when both score at least 0.45, else 0,0,0"]
    export, files = render_openpose(one, "out", layout="coco17")
    assert export.notes[1:] == ["keypoints in the coco17 layout: Pose2Sim's pose_model = 'COCO_17'"]
    with pytest.raises(ExportError, match=r"^unknown keypoint layout 'body25'; choose from coco17, coco18$"):
        render_openpose(one, "out", layout="body25")


def test_files_are_named_after_the_source_or_else_the_result_file():
    nameless = doc([FrameResult(0, 0.0, [pose()])], source={}, path="runs/walk.json")
    assert [p.name for p, _ in render_openpose(nameless, "out")[1]] == ["walk_000000000000_keypoints.json"]
    assert [p.as_posix() for p, _ in render_trc(nameless, "out/trc")[1]] == ["out/trc/walk_id1_px.trc"]


def stick(x: float = 100.0, y: float = 400.0) -> np.ndarray:
    kp = np.ones((17, 3))
    pts = {"nose": (0, -150), "left_shoulder": (-10, -130), "right_shoulder": (10, -130), "left_hip": (-10, -80),
           "right_hip": (10, -80), "left_knee": (-10, -40), "right_knee": (10, -40), "left_ankle": (-10, 0),
           "right_ankle": (10, 0)}
    for name, (px, py) in pts.items():
        kp[K[name], :2] = (x + px, y + py)
    return kp


PX_HEIGHT = 1.063 * (40 + 40 + 50 + 1.5 * 20) / (1 - 0.039)


def test_the_scale_trims_the_most_extreme_half_of_the_frames():
    frames = [FrameResult(i, i / 30, [Pose(stick(), 0.9, None, 1)]) for i in range(10)]
    tall = stick()
    tall[:, 1] *= 3.0  # two frames three times as tall (bad detections): trimmed off with the rest
    frames += [FrameResult(10 + i, (10 + i) / 30, [Pose(tall, 0.9, None, 1)]) for i in range(2)]
    assert pixels_per_metre(frames, 1, 2.0) == pytest.approx(PX_HEIGHT / 2.0)
    frames[0].people[0].keypoints[K["left_ankle"], 2] = 0.2  # unsure in one frame: that frame does not count
    assert pixels_per_metre(frames, 1, 2.0, threshold=0.3) == pytest.approx(PX_HEIGHT / 2.0)


def test_the_trc_scale_person_and_its_refusals(tmp_path):
    small = stick(x=300.0)
    small[:, :2] = (small[:, :2] - [300.0, 400.0]) / 2 + [300.0, 400.0]  # half as tall, in pixels
    frames = [FrameResult(i, i / 30, [Pose(stick(), 0.9, None, 1)] + ([Pose(small, 0.9, None, 2)] if i < 8 else []))
              for i in range(10)]
    walk = doc(frames, {"path": "w.mp4", "height": 500, "fps": 30.0}, path="w.json")
    export, files = render_trc(walk, tmp_path, height_m=1.7)  # person 1, seen longest, gives the scale
    assert f"{PX_HEIGHT / 1.7:.2f} px/m from person 1's height 1.7 m" in export.notes[0]
    export, files = render_trc(walk, tmp_path, height_m=1.7, scale_person=2)
    assert f"{PX_HEIGHT / 2 / 1.7:.2f} px/m from person 2's height 1.7 m" in export.notes[0]
    assert export.notes[0].startswith("coordinates in metres, y up, origin at the bottom left of the frame;")
    with pytest.raises(ExportError, match=r"^w\.json: no person with id 5 to take the scale from$"):
        render_trc(walk, tmp_path, height_m=1.7, scale_person=5)
    for height in (0.0, -1.0):
        with pytest.raises(ExportError, match=rf"^w\.json: the person's height must be above 0 m, not {height:g}$"):
            render_trc(walk, tmp_path, height_m=height)
    with pytest.raises(ExportError, match=r"^w\.json: nobody was found, so there is no TRC to write$"):
        render_trc(doc([FrameResult(0, 0.0, [])], path="w.json"), tmp_path)
    export, _ = render_trc(walk, tmp_path)
    assert export.format == "trc" and export.notes[0] == "coordinates in pixels of the frame, x right, y down (as in the JSON); Z is 0"
    assert export.notes[1].startswith("keypoints below 0.3, and frames without the person, are NaN")


def test_trc_rate_without_a_source_rate_and_a_written_folder(tmp_path):
    frames = [FrameResult(i, i / 20, [Pose(stick(), 0.9, None, 1)]) for i in range(4)]
    _, [(_, text)] = render_trc(doc(frames), tmp_path)
    assert text.split("\n")[2].split("\t")[:2] == ["20", "20"]  # from the frame times
    _, [(_, text)] = render_trc(doc(frames[:1], {"path": "a.jpg", "fps": 25.0}), tmp_path)
    assert text.split("\n")[2].split("\t")[0] == "25"  # one frame: the source's rate
    _, [(_, text)] = render_trc(doc(frames[:1]), tmp_path)
    assert text.split("\n")[2].split("\t")[0] == "30"  # neither: 30
    export = write_trc(doc(frames), tmp_path / "trc")
    assert [p.name for p in (tmp_path / "trc").iterdir()] == ["clip_id1_px.trc"] == [p.name for p in export.paths]
    assert export.paths[0].read_text(encoding="utf-8").count("\n") == 5 + 4


def test_trc_header_lines_and_a_keypoint_exactly_at_the_threshold(tmp_path):
    kp = stick()
    kp[:, 2] = 0.4
    frames = [FrameResult(i, i / 30, [Pose(kp, 0.9, None, 1)]) for i in range(3)]
    export = write_trc(doc(frames, {"path": "w.mp4", "height": 500, "fps": 30.0}), tmp_path / "t", threshold=0.4)
    lines = export.paths[0].read_text(encoding="utf-8").split("\n")
    assert lines[3] == "Frame#\tTime\t" + "\t\t\t".join(("Nose", "LEye", "REye", "LEar", "REar", "LShoulder", "RShoulder",
                                                          "LElbow", "RElbow", "LWrist", "RWrist", "LHip", "RHip", "LKnee",
                                                          "RKnee", "LAnkle", "RAnkle")) + "\t\t\t"
    assert lines[4] == "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, 18))
    assert lines[5].split("\t")[2:5] == ["100.000", "250.000", "0.000"]  # 0.4 at a threshold of 0.4: kept
    assert "NaN" in write_trc(doc(frames), tmp_path / "u", threshold=0.41).paths[0].read_text()
    metres = write_trc(doc(frames, {"path": "w.mp4", "height": 500}), tmp_path / "m", height_m=1.7, threshold=0.4)
    assert metres.paths[0].read_text().split("\n")[5].split("\t")[2].count(".") == 1
    assert len(metres.paths[0].read_text().split("\n")[5].split("\t")[2].split(".")[1]) == 5  # metres: 5 decimals


def test_writers_pass_their_settings_on(tmp_path):
    kp = np.zeros((17, 3))
    kp[K["left_shoulder"]] = (10, 20, 0.5)
    kp[K["right_shoulder"]] = (30, 40, 0.5)
    one = doc([FrameResult(0, 0.0, [Pose(kp, 1.0, None, 3)])])
    export = write_openpose(one, tmp_path / "op", threshold=0.6, layout="coco18")
    assert json.loads(export.paths[0].read_text())["people"][0]["pose_keypoints_2d"][3:6] == [0.0, 0.0, 0.0]
    gt = {"images": [{"id": 11, "file_name": "clip.mp4"}]}
    export = write_coco(one, tmp_path / "c.json", image_id=image_ids_from_ground_truth(gt))
    assert json.loads(export.paths[0].read_text())[0]["image_id"] == 11
