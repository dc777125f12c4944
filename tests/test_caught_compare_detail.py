"""`compare` details a caller or a reader of the summary sees: the order of equal differences, limits
exactly met, the numbers and paths in each difference, files only ACTUAL holds, odd JSON in a folder.

Hand-made ``movenet/1`` documents (see ``test_caught_compare.py``), so every number is known exactly.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from movenet_cli.results.compare import (
    CompareError, Difference, Tolerance, compare_docs, compare_files, compare_paths, exceeds,
)
from movenet_cli.results.load import parse_result
from test_caught_compare import LEFT_WRIST, THRESHOLD, document, pair, person, save

NOSE = 0


def test_a_value_exactly_at_its_limit_passes_and_just_beyond_fails():
    assert not exceeds(1.0, 1.0)
    assert not exceeds(1e6 + 1e-4, 1e6)  # the slack grows with the limit (float rounding of big pixel values)
    assert exceeds(0.5 + 1.5e-9, 0.5)  # ... and is 1e-9 for limits of 1 or less
    assert exceeds(2.0, 1.0)


def test_equal_differences_are_listed_by_frame_then_person_then_keypoint_name(tmp_path):
    expected, actual = document(frames=2), document(frames=2)
    for doc in (expected, actual):
        doc["frames"][0]["people"] = [person(1, x0=100.0), person(0, x0=350.0)]
        doc["frames"][1]["people"] = [person(0, x0=100.0)]
    for frame in actual["frames"]:
        for p in frame["people"]:
            for k in (NOSE, LEFT_WRIST):
                p["keypoints"][k][0] += 20.0  # twice the 10 px limit everywhere: equal severity
    found = compare_paths(*pair(tmp_path, expected, actual), Tolerance(pixels=10.0, score=1.0)).differences
    assert [(d.frame, d.person, d.keypoint) for d in found] == [
        (0, 0, "left_wrist"), (0, 0, "nose"), (0, 1, "left_wrist"), (0, 1, "nose"),
        (1, 0, "left_wrist"), (1, 0, "nose")]


def test_a_keypoint_score_difference_names_its_place_and_limit(tmp_path):
    expected, actual = document(), document()
    actual["frames"][1]["people"][0]["keypoints"][LEFT_WRIST][2] = 0.6  # 0.9 -> 0.6
    (diff,) = compare_paths(*pair(tmp_path, expected, actual), Tolerance(relative=1.0, score=0.1)).differences
    assert (diff.kind, diff.frame, diff.person, diff.keypoint, diff.limit) == ("keypoint_score", 1, 1, "left_wrist", 0.1)
    assert diff.describe() == "frame 1, person 1, left_wrist: score changed by 0.3000 (limit 0.1)"
    person_diff = Difference("person_score", frame=2, person=3, value=0.25, limit=0.1)
    assert person_diff.describe() == "frame 2, person 3: person score changed by 0.2500 (limit 0.1)"


def test_a_difference_without_detail_is_described_by_its_kind():
    assert Difference("missing_frame", frame=3).describe() == "frame 3: missing frame"
    assert Difference("extra_person").describe() == "extra person"


def test_the_summary_counts_files_and_differences_in_words(tmp_path):
    e, a = tmp_path / "e", tmp_path / "a"
    for folder in (e, a):
        save(folder / "x.json", document())
        save(folder / "y.json", document())
    changed = document()
    changed["model"]["name"] = "thunder"
    for i in (0, 1):
        changed["frames"][i]["people"][0]["keypoints"][NOSE][0] += 50.0
    save(a / "y.json", changed)
    summary = compare_paths(e, a, Tolerance(relative=0.05, score=1.0)).summary(limit=2)
    lines = summary.splitlines()
    assert lines[0] == f"compare {e} -> {a}: FAILED"
    assert lines[1].startswith("  2 files, 6 frames, 6 people, 102 keypoints compared; ")
    assert '  note: y.json: model.name differs: "multipose" -> "thunder"' in lines
    assert "  2 differences (2 keypoint), worst first:" in lines
    assert not any("more" in line for line in lines)  # exactly the limit shown: nothing left to mention
    assert compare_paths(e, e).summary().splitlines()[0] == f"compare {e} -> {e}: OK"
    assert "  1 file, 3 frames" in compare_paths(e / "x.json", a / "x.json").summary()


def test_a_keypoint_exactly_at_the_threshold_in_one_document_is_compared(tmp_path):
    for at in ("expected", "actual"):
        expected, actual = document(), document()
        for doc in (expected, actual):
            doc["frames"][0]["people"][0]["keypoints"][LEFT_WRIST][2] = 0.1
        (expected if at == "expected" else actual)["frames"][0]["people"][0]["keypoints"][LEFT_WRIST][2] = THRESHOLD
        actual["frames"][0]["people"][0]["keypoints"][LEFT_WRIST][0] += 40.0
        found = compare_paths(*pair(tmp_path, expected, actual), Tolerance(relative=0.05, score=1.0)).differences
        assert [(d.kind, d.keypoint) for d in found] == [("keypoint", "left_wrist")], at


def test_the_relative_limit_uses_the_box_width_and_height(tmp_path):
    expected, actual = document(frames=1), document(frames=1)
    for doc in (expected, actual):
        doc["frames"][0]["people"] = [person(1, x0=300.0)]  # box 300..400 x 100..300
    actual["frames"][0]["people"][0]["keypoints"][NOSE][0] += 15.0
    (diff,) = compare_paths(*pair(tmp_path, expected, actual), Tolerance(relative=0.05, score=1.0)).differences
    assert diff.limit == pytest.approx(0.05 * math.hypot(100.0, 200.0))


def test_people_without_boxes_and_no_keypoint_above_the_threshold_compare_empty(tmp_path):
    expected, actual = document(frames=1), document(frames=1)
    for doc in (expected, actual):
        p = doc["frames"][0]["people"][0]
        del p["bbox"]
        for k in p["keypoints"]:
            k[2] = 0.1
    result = compare_paths(*pair(tmp_path, expected, actual), Tolerance(score=1.0))
    assert result.ok and result.count("keypoints") == 0 and result.count("people") == 1


def test_untracked_people_pair_one_to_one_and_an_oks_exactly_at_the_minimum_pairs(tmp_path):
    one, two = document(frames=1, tracked=False), document(frames=1, tracked=False)
    two["frames"][0]["people"].append(person(2, x0=102.0))  # close enough to pair with the same person
    tol = Tolerance(min_oks=0.0, relative=1.0, score=1.0)
    assert [d.kind for d in compare_paths(*pair(tmp_path, one, two), tol).differences] == ["extra_person"]
    assert [d.kind for d in compare_paths(*pair(tmp_path, two, one), tol).differences] == ["missing_person"]
    assert compare_paths(*pair(tmp_path, one, one), Tolerance(min_oks=1.0)).ok  # identical people: OKS 1.0


def test_an_extra_frame_and_a_changed_tracked_id_are_named_by_kind(tmp_path):
    expected, actual = document(frames=2), document(frames=3)
    actual["frames"][0]["people"][0]["id"] = 7
    found = compare_paths(*pair(tmp_path, expected, actual)).differences
    assert [(d.kind, d.frame) for d in found] == [("extra_frame", 2), ("person_id", 0)]


@pytest.mark.parametrize("block, key, before, after", [
    ("model", "input_size", 256, 192), ("model", "weights_sha256", "aa", "bb"), ("model", "refine", None, "high"),
    ("model", "smoothing", None, {"name": "oneeuro"}), ("source", "height", 480, 481),
])
def test_each_setting_that_shapes_the_keypoints_is_noted(tmp_path, block, key, before, after):
    expected, actual = document(), document()
    expected[block][key], actual[block][key] = before, after
    result = compare_paths(*pair(tmp_path, expected, actual))
    assert result.ok
    assert [n.split(" differs")[0] for n in result.files[0].notes] == [f"{block}.{key}"]


def _docs(tmp_path, expected, actual):
    e, a = pair(tmp_path, expected, actual)
    return parse_result(json.loads(e.read_text()), e), parse_result(json.loads(a.read_text()), a)


def test_compare_docs_reads_the_threshold_the_expected_run_used(tmp_path):
    expected, actual = document(), document()
    for doc in (expected, actual):
        doc["model"]["threshold"] = 0.5
        doc["frames"][0]["people"][0]["keypoints"][NOSE][2] = 0.4  # below 0.5, above the default 0.3
    actual["frames"][0]["people"][0]["keypoints"][NOSE][0] += 50.0
    tol = Tolerance(relative=0.05, score=1.0)
    out = compare_docs(*_docs(tmp_path, expected, actual), tol)
    assert out.ok and out.name == "" and 0.0 <= out.seconds < 10.0
    for doc in (expected, actual):
        del doc["model"]["threshold"]  # none recorded: the default threshold
    out = compare_docs(*_docs(tmp_path, expected, actual), tol)
    assert [(d.kind, d.file, d.keypoint) for d in out.differences] == [("keypoint", "", "nose")]


def test_completeness_messages(tmp_path):
    out = compare_docs(*_docs(tmp_path, document(), document(complete=False)), Tolerance())
    assert [d.describe() for d in out.differences] == ["ACTUAL says complete: false (its input was not read to the end)"]
    out = compare_docs(*_docs(tmp_path, document(complete=False), document()), Tolerance())
    assert out.ok and out.notes == ["EXPECTED says complete: false"]


def test_compare_files_keeps_both_paths_and_its_time_when_a_file_is_unreadable(tmp_path):
    e, a = pair(tmp_path, document(), document())
    a.write_text("[1, 2]", encoding="utf-8")  # JSON, but not an object: no schema
    out = compare_files(e, a, Tolerance())
    assert (out.name, out.expected, out.actual) == ("", str(e), str(a))
    assert out.error and not out.ok and 0.0 <= out.seconds < 10.0


def test_a_result_only_actual_holds_fails_the_folder_comparison(tmp_path):
    e, a = tmp_path / "e", tmp_path / "a"
    save(e / "x.json", document())
    save(a / "x.json", document())
    save(a / "sub" / "new.json", document())
    save(a / "other.json", {"schema": 5})  # JSON that is no movenet result: ignored
    save(e / "gone.json", document())
    result = compare_paths(e, a)
    assert not result.ok
    by_name = {f.name: f for f in result.files}
    assert set(by_name) == {"x.json", "sub/new.json", "gone.json"}
    new, gone = by_name["sub/new.json"], by_name["gone.json"]
    assert (new.expected, new.actual) == (str(e / "sub" / "new.json"), str(a / "sub" / "new.json"))
    assert [(d.kind, d.describe()) for d in new.differences] == [("extra_file", f"sub/new.json: not in {e}")]
    assert (gone.expected, gone.actual) == (str(e / "gone.json"), str(a / "gone.json"))
    assert [d.describe() for d in gone.differences] == [f"gone.json: missing from {a}"]


def test_the_folder_is_named_first_whichever_side_it_is_on(tmp_path):
    e, _ = pair(tmp_path, document(), document())
    folder = tmp_path / "folder"
    folder.mkdir()
    for args in ((folder, e), (e, folder)):
        with pytest.raises(CompareError, match=f"^{folder} is a folder and {e} is not"):
            compare_paths(*args)


def test_oks_of_a_person_with_no_area_and_of_a_box_of_no_width():
    from movenet_cli.results.compare import oks
    from movenet_cli.types import COCO_SIGMAS, Pose

    point = np.zeros((17, 3))
    moved = point.copy()
    moved[:, 0] += 1.0
    assert oks(Pose(point, 0.9, None, 1), Pose(moved, 0.9, None, 1), 0.5) == pytest.approx(
        np.mean(np.exp(-1.0 / (2 * 1.0 * (2 * COCO_SIGMAS) ** 2))))  # no area at all: 1 px^2
    k = np.zeros((17, 3))
    k[:, 0], k[:, 1], k[:, 2] = np.arange(17) * 6.0, np.arange(17) * 3.0 + 10.0, 0.5  # extent 96 x 48
    shifted = k.copy()
    shifted[:, 0] += 4.0
    extent = np.mean(np.exp(-16.0 / (2 * 96.0 * 48.0 * (2 * COCO_SIGMAS) ** 2)))
    for flat in ((5.0, 0.0, 5.0, 20.0), (0.0, 5.0, 10.0, 5.0)):  # a box of no area: the keypoints' extent instead
        assert oks(Pose(k, 0.9, flat, 1), Pose(shifted, 0.9, None, 1), 0.5) == pytest.approx(extent)


def test_tracked_people_are_paired_by_id_even_when_they_swapped_places(tmp_path):
    expected, actual = document(frames=1, people=2), document(frames=1, people=2)
    a = actual["frames"][0]["people"]
    a[0]["id"], a[1]["id"] = 2, 1  # the tracker swapped the ids of two people
    found = compare_paths(*pair(tmp_path, expected, actual), Tolerance(relative=0.05, score=1.0)).differences
    assert {d.kind for d in found} == {"keypoint"} and {d.person for d in found} == {1, 2}


def test_a_manifest_without_inputs_is_an_error_naming_which_file():
    from movenet_cli.results.compare import compare_manifests

    out = compare_manifests({"files": [{"no": "input"}]}, {"files": []}, "m.json", ("e.json", "a.json"))
    assert out.error == "not a movenet-run/1 manifest (no files list with inputs)" and not out.ok


def test_an_expected_manifest_that_is_not_one_names_its_own_path(tmp_path):
    good = {"schema": "movenet-run/1", "files": [{"input": "a", "status": "done"}]}
    e, a = pair(tmp_path, {"schema": "movenet-run/1", "files": [{"no": "input"}]}, good)
    assert compare_files(e, a, Tolerance()).error.startswith(f"{e}: not a movenet-run/1 manifest")
