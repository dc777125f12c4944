"""`compare`: real runs of the sample clip against each other and against edited copies."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ci_runs import box_diagonal, demo_run, edited, read, two_person_frame, write
from movenet_cli.errors import UsageError
from movenet_cli.results.compare import (
    REPORT_SCHEMA,
    CompareError,
    Tolerance,
    compare_paths,
    match_people,
    oks,
)
from movenet_cli.types import KEYPOINT_NAMES, Pose


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    return demo_run(tmp_path_factory, 1)


@pytest.fixture(scope="module")
def target(golden):
    """Where an edited copy goes: a frame with two people, its first person, that person's best keypoint."""
    doc = read(golden)
    n = two_person_frame(doc)
    person = doc["frames"][n]["people"][0]
    k = int(np.argmax([row[2] for row in person["keypoints"]]))
    assert person["keypoints"][k][2] >= doc["model"]["threshold"]
    return {"n": n, "index": doc["frames"][n]["index"], "id": person["id"], "k": k, "diag": box_diagonal(person)}


def _moved(golden, target, tmp_path, dx, name="moved.json"):
    doc = edited(golden)
    doc["frames"][target["n"]]["people"][0]["keypoints"][target["k"]][0] += dx
    return write(tmp_path / name, doc)


def test_two_runs_of_the_same_clip_agree(tmp_path_factory, golden):
    second = demo_run(tmp_path_factory, 2)
    result = compare_paths(golden, second)
    assert result.ok, result.summary()
    doc = read(golden)
    assert result.count("frames") == len(doc["frames"]) == 90
    assert result.count("people") == sum(len(f["people"]) for f in doc["frames"])
    assert result.count("keypoints") > 0
    assert result.summary().splitlines()[0].endswith(": OK")


def test_keypoint_moved_by_three_percent_fails_naming_it(golden, target, tmp_path):
    moved = _moved(golden, target, tmp_path, 0.03 * target["diag"])
    result = compare_paths(golden, moved, Tolerance(relative=0.02))
    assert not result.ok
    (diff,) = result.differences
    name = KEYPOINT_NAMES[target["k"]]
    assert (diff.kind, diff.frame, diff.person, diff.keypoint) == ("keypoint", target["index"], target["id"], name)
    assert diff.value == pytest.approx(0.03 * target["diag"], abs=1e-6)
    assert diff.limit == pytest.approx(0.02 * target["diag"], abs=1e-6)
    assert f"frame {target['index']}, person {target['id']}, {name}: moved" in result.summary()


def test_tolerance_boundary_is_inclusive(golden, target, tmp_path):
    at_limit = _moved(golden, target, tmp_path, 0.02 * target["diag"], "at.json")
    assert compare_paths(golden, at_limit, Tolerance(relative=0.02)).ok
    beyond = _moved(golden, target, tmp_path, 0.02 * target["diag"] + 0.01, "beyond.json")
    assert not compare_paths(golden, beyond, Tolerance(relative=0.02)).ok
    five_px = _moved(golden, target, tmp_path, 5.0, "five.json")
    assert compare_paths(golden, five_px, Tolerance(pixels=5.0)).ok
    assert not compare_paths(golden, five_px, Tolerance(pixels=4.99)).ok


def test_score_tolerance_boundary(golden, target, tmp_path):
    doc = edited(golden)
    person = doc["frames"][target["n"]]["people"][0]
    person["score"] = round(person["score"] + 0.1, 4)
    assert compare_paths(golden, write(tmp_path / "at.json", doc), Tolerance(score=0.1)).ok
    person["keypoints"][target["k"]][2] -= 0.1001
    result = compare_paths(golden, write(tmp_path / "beyond.json", doc), Tolerance(score=0.1))
    (diff,) = result.differences
    assert (diff.kind, diff.keypoint, diff.value) == ("keypoint_score", KEYPOINT_NAMES[target["k"]], pytest.approx(0.1001))


def test_removed_person_and_frame_are_missing(golden, target, tmp_path):
    doc = edited(golden)
    removed = doc["frames"][target["n"]]["people"].pop(0)
    last = doc["frames"].pop()
    result = compare_paths(golden, write(tmp_path / "cut.json", doc))
    kinds = [(d.kind, d.frame, d.person) for d in result.differences]
    assert kinds == [("missing_frame", last["index"], None), ("missing_person", target["index"], removed["id"])]
    assert f"frame {last['index']}: frame missing from ACTUAL" in result.summary()
    # ... and the other way round they are extra
    back = compare_paths(tmp_path / "cut.json", golden)
    assert [d.kind for d in back.differences] == ["extra_frame", "extra_person"]


def test_tracked_people_match_by_id_untracked_by_oks(golden, target, tmp_path):
    doc = edited(golden)
    people = doc["frames"][target["n"]]["people"]
    people.reverse()
    people[0]["id"], people[1]["id"] = people[1]["id"], people[0]["id"]
    swapped = write(tmp_path / "swapped.json", doc)
    kinds = {d.kind for d in compare_paths(golden, swapped).differences}
    assert "keypoint" in kinds  # tracked: id 1 is now someone else
    for data, name in ((edited(golden), "a.json"), (doc, "b.json")):
        data["model"]["tracker"] = None
        write(tmp_path / name, data)
    assert compare_paths(tmp_path / "a.json", tmp_path / "b.json").ok  # untracked: the same people, by OKS


def test_a_changed_track_id_is_named_and_the_person_still_compared(golden, target, tmp_path):
    doc = edited(golden)
    person = doc["frames"][target["n"]]["people"][0]
    person["id"] = 99
    person["keypoints"][target["k"]][1] += 0.03 * target["diag"]
    result = compare_paths(golden, write(tmp_path / "renumbered.json", doc))
    assert [(d.kind, d.person, d.actual_person) for d in result.differences] == [
        ("person_id", target["id"], 99), ("keypoint", target["id"], 99)
    ]
    assert f"frame {target['index']}, person {target['id']} (actual 99): tracked id changed" in result.summary()


def test_oks_and_greedy_matching_on_known_geometry():
    base = np.zeros((17, 3))
    base[:, 0], base[:, 1], base[:, 2] = np.arange(17) * 5.0, 50.0, 0.9
    a = Pose(base.copy(), 0.9, (0.0, 0.0, 100.0, 100.0), 1)
    shifted = base.copy()
    shifted[:, 0] += 10.0
    b = Pose(shifted, 0.9, (10.0, 0.0, 110.0, 100.0), 2)
    assert oks(a, a, 0.3) == pytest.approx(1.0)
    from movenet_cli.types import COCO_SIGMAS

    expected = np.mean(np.exp(-100.0 / (2 * 10000.0 * (2 * COCO_SIGMAS) ** 2)))
    assert oks(a, b, 0.3) == pytest.approx(expected)
    far = Pose(base + [500.0, 0, 0], 0.9, (500.0, 0.0, 600.0, 100.0), 3)
    pairs, missing, extra = match_people([a, far], [b], tracked=False, threshold=0.3, min_oks=0.1)
    assert (pairs, missing, extra) == ([(0, 0)], [1], [])
    assert match_people([a], [far], tracked=False, threshold=0.3, min_oks=0.1) == ([], [0], [0])


def test_schemas_that_differ_are_refused(golden, tmp_path):
    doc = edited(golden)
    doc["schema"] = "movenet/2"
    result = compare_paths(golden, write(tmp_path / "v2.json", doc))
    assert not result.ok
    (diff,) = result.differences
    assert diff.kind == "error" and "'movenet/2' cannot be compared" in diff.detail and "v2.json" in diff.detail


def test_folders_match_by_relative_path_and_manifests_by_status(golden, tmp_path):
    expected, actual = tmp_path / "expected", tmp_path / "actual"
    manifest = {"schema": "movenet-run/1", "files": [
        {"input": "a.mp4", "status": "done"}, {"input": "b.mp4", "status": "done"}, {"input": "c.jpg", "status": "done"}
    ]}
    for root in (expected, actual):
        (root / "sub").mkdir(parents=True)
        (root / "a.mp4.json").write_bytes(golden.read_bytes())
        write(root / "movenet-run.json", manifest)
    (expected / "sub" / "b.mp4.json").write_bytes(golden.read_bytes())
    (actual / "sub" / "extra.mp4.json").write_bytes(golden.read_bytes())
    (actual / "notes.json").write_text('{"not": "a result"}')
    manifest["files"][1] = {"input": "b.mp4", "status": "failed", "reason": "not a video"}
    manifest["files"][2]["status"] = "skipped"  # outputs already complete: as good as done
    write(actual / "movenet-run.json", manifest)
    result = compare_paths(expected, actual)
    by_file = {f.name: f for f in result.files}
    assert set(by_file) == {"a.mp4.json", "movenet-run.json", "sub/b.mp4.json", "sub/extra.mp4.json"}
    assert by_file["a.mp4.json"].ok and by_file["a.mp4.json"].frames == 90
    assert [d.kind for d in by_file["sub/b.mp4.json"].differences] == ["missing_file"]
    assert [d.kind for d in by_file["sub/extra.mp4.json"].differences] == ["extra_file"]
    (status,) = by_file["movenet-run.json"].differences
    assert status.detail == "b.mp4: status failed (not a video), expected done"


def test_report_is_json_worst_first(golden, target, tmp_path):
    doc = edited(golden)
    person = doc["frames"][target["n"]]["people"][0]
    person["keypoints"][target["k"]][0] += 0.05 * target["diag"]
    person["keypoints"][target["k"]][1] += 0.03 * target["diag"]
    doc["frames"].pop()
    result = compare_paths(golden, write(tmp_path / "r.json", doc))
    report = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert report["schema"] == REPORT_SCHEMA and report["ok"] is False
    kinds = [d["kind"] for d in report["differences"]]
    assert kinds == ["missing_frame", "keypoint"]
    assert report["differences"][1]["value"] == pytest.approx(math.hypot(0.05, 0.03) * target["diag"], abs=1e-6)
    assert report["counts"]["frames"] == 89


def test_paths_that_cannot_be_compared(golden, tmp_path):
    with pytest.raises(CompareError, match="no such file"):
        compare_paths(golden, tmp_path / "nothing.json")
    with pytest.raises(CompareError, match="is a folder"):
        compare_paths(golden, tmp_path)
    with pytest.raises(UsageError):
        Tolerance(relative=-1)
