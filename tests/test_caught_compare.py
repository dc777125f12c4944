"""`compare` on hand-made ``movenet/1`` documents: what is compared, in which direction, and what fails.

Each document is small and built here, so every number a test asserts is known exactly.
"""

from __future__ import annotations

import copy
import math
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from helpers import invoke
from movenet_cli.results.compare import Tolerance, compare_paths
from movenet_cli.results.junit import suite_from_compare, to_xml
from movenet_cli.types import KEYPOINT_NAMES

THRESHOLD = 0.3
LEFT_WRIST = KEYPOINT_NAMES.index("left_wrist")


def person(pid: int = 1, score: float = 0.8, x0: float = 100.0) -> dict:
    """A person 100 px wide and 200 px tall from (x0, 100); every keypoint scores 0.9."""
    keypoints = [[x0 + 5.0 * k, 100.0 + 10.0 * k, 0.9] for k in range(len(KEYPOINT_NAMES))]
    return {"id": pid, "score": score, "bbox": [x0, 100.0, x0 + 100.0, 300.0], "keypoints": keypoints}


def document(frames: int = 3, people: int = 1, complete: bool | None = True, tracked: bool = True) -> dict:
    doc = {
        "schema": "movenet/1",
        "source": {"path": "in.mp4", "width": 640, "height": 480, "fps": 30.0},
        "model": {"name": "multipose", "threshold": THRESHOLD, "tracker": {"name": "iou"} if tracked else None},
        "frames": [
            {"index": i, "time": i / 30.0, "people": [person(p + 1, x0=100.0 + 250.0 * p) for p in range(people)]}
            for i in range(frames)
        ],
    }
    if complete is not None:
        doc["complete"] = complete
    return doc


def save(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def pair(tmp_path: Path, expected: dict, actual: dict) -> tuple[Path, Path]:
    return save(tmp_path / "expected.json", expected), save(tmp_path / "actual.json", actual)


# -- a keypoint is compared when it reaches the threshold in EITHER document --------------------


@pytest.mark.parametrize("dropped_in", ["actual", "expected"])
def test_a_keypoint_below_the_threshold_in_one_document_is_still_compared(tmp_path, dropped_in):
    expected, actual = document(), document()
    moved = actual["frames"][1]["people"][0]["keypoints"][LEFT_WRIST]
    moved[0] += 40.0  # far beyond 0.05 x the 224 px diagonal
    low = (actual if dropped_in == "actual" else expected)["frames"][1]["people"][0]["keypoints"][LEFT_WRIST]
    low[2] = 0.1  # below the threshold in this document only
    result = compare_paths(*pair(tmp_path, expected, actual), Tolerance(relative=0.05, score=1.0))
    assert not result.ok
    assert [(d.kind, d.frame, d.keypoint) for d in result.differences] == [("keypoint", 1, "left_wrist")]
    assert result.differences[0].value == pytest.approx(40.0)
    assert result.summary().splitlines()[0].endswith("FAILED")


def test_a_keypoint_below_the_threshold_in_both_documents_is_not_compared(tmp_path):
    expected, actual = document(), document()
    for doc in (expected, actual):
        doc["frames"][1]["people"][0]["keypoints"][LEFT_WRIST][2] = 0.1
    actual["frames"][1]["people"][0]["keypoints"][LEFT_WRIST][0] += 40.0
    result = compare_paths(*pair(tmp_path, expected, actual), Tolerance(relative=0.05, score=1.0))
    assert result.ok, result.summary()
    assert result.count("keypoints") == 3 * len(KEYPOINT_NAMES) - 1


def test_the_threshold_option_decides_what_is_compared(tmp_path):
    expected, actual = document(), document()
    for doc in (expected, actual):
        doc["frames"][0]["people"][0]["keypoints"][LEFT_WRIST][2] = 0.5
    actual["frames"][0]["people"][0]["keypoints"][LEFT_WRIST][0] += 40.0
    paths = pair(tmp_path, expected, actual)
    assert not compare_paths(*paths, Tolerance(score=1.0)).ok  # EXPECTED's threshold 0.3: compared
    assert compare_paths(*paths, Tolerance(score=1.0, threshold=0.6)).ok  # 0.5 < 0.6 in both: not compared


# -- a person score is compared both ways -------------------------------------------------------


@pytest.mark.parametrize("change", [+0.2, -0.2], ids=["rose", "fell"])
def test_a_person_score_beyond_the_tolerance_fails_whichever_way_it_moved(tmp_path, change):
    expected, actual = document(), document()
    actual["frames"][2]["people"][0]["score"] = 0.8 + change
    result = compare_paths(*pair(tmp_path, expected, actual), Tolerance(score=0.1))
    assert not result.ok
    (diff,) = result.differences
    assert (diff.kind, diff.frame, diff.person) == ("person_score", 2, 1)
    assert diff.value == pytest.approx(0.2) and diff.limit == pytest.approx(0.1)
    assert "person score changed by 0.2000" in result.summary()


@pytest.mark.parametrize("change", [+0.05, -0.05], ids=["rose", "fell"])
def test_a_person_score_within_the_tolerance_passes(tmp_path, change):
    expected, actual = document(), document()
    actual["frames"][2]["people"][0]["score"] = 0.8 + change
    assert compare_paths(*pair(tmp_path, expected, actual), Tolerance(score=0.1)).ok


@pytest.mark.parametrize("change", [+0.2, -0.2], ids=["rose", "fell"])
def test_a_keypoint_score_beyond_the_tolerance_fails_whichever_way_it_moved(tmp_path, change):
    expected, actual = document(), document()
    actual["frames"][0]["people"][0]["keypoints"][LEFT_WRIST][2] = 0.6 + change
    expected["frames"][0]["people"][0]["keypoints"][LEFT_WRIST][2] = 0.6
    result = compare_paths(*pair(tmp_path, expected, actual), Tolerance(score=0.1))
    (diff,) = result.differences
    assert (diff.kind, diff.keypoint, diff.value) == ("keypoint_score", "left_wrist", pytest.approx(0.2))


# -- folders: OK only when every file agrees ---------------------------------------------------


@pytest.mark.parametrize("broken", ["a.mp4.json", "b.mp4.json", "sub/c.jpg.json"])
def test_two_folders_compare_ok_only_when_every_file_agrees(tmp_path, broken):
    expected, actual = tmp_path / "expected", tmp_path / "actual"
    for rel in ("a.mp4.json", "b.mp4.json", "sub/c.jpg.json"):
        save(expected / rel, document())
        save(actual / rel, document())
    assert compare_paths(expected, actual).ok
    assert invoke("compare", expected, actual).returncode == 0

    changed = document()
    changed["frames"][0]["people"][0]["keypoints"][0][0] += 50.0
    save(actual / broken, changed)
    result = compare_paths(expected, actual)
    assert not result.ok
    assert [f.name for f in result.files if not f.ok] == [broken]
    assert sum(f.ok for f in result.files) == 2
    assert result.summary().splitlines()[0].endswith(": FAILED")
    run = invoke("compare", expected, actual)
    assert run.returncode == 1, run.stdout
    assert f"{broken}, frame 0, person 1, nose: moved 50.00 px" in run.stdout


def test_a_folder_missing_one_expected_file_fails(tmp_path):
    expected, actual = tmp_path / "expected", tmp_path / "actual"
    for rel in ("a.mp4.json", "b.mp4.json"):
        save(expected / rel, document())
    save(actual / "a.mp4.json", document())
    result = compare_paths(expected, actual)
    assert not result.ok
    assert [(d.kind, d.file) for d in result.differences] == [("missing_file", "b.mp4.json")]
    assert invoke("compare", expected, actual).returncode == 1


# -- an ACTUAL that was not read to the end -----------------------------------------------------


def test_an_actual_saying_complete_false_fails(tmp_path):
    result = compare_paths(*pair(tmp_path, document(), document(complete=False)))
    assert not result.ok
    assert [d.kind for d in result.differences] == ["incomplete"]
    assert "complete: false" in result.summary()
    assert invoke("compare", tmp_path / "expected.json", tmp_path / "actual.json").returncode == 1


def test_complete_is_true_when_absent_and_an_incomplete_expected_is_a_note(tmp_path):
    assert compare_paths(*pair(tmp_path, document(complete=True), document(complete=None))).ok
    result = compare_paths(*pair(tmp_path, document(complete=False), document(complete=True)))
    assert result.ok
    assert "EXPECTED says complete: false" in result.summary()


# -- what JUnit is told ---------------------------------------------------------------------------


def _junit(result) -> ET.Element:
    return ET.fromstring(to_xml([suite_from_compare(result)]))


@pytest.mark.parametrize("content", ["{not json", '{"schema": "movenet/1", "frames": 3}', ""],
                         ids=["not-json", "not-a-result", "empty"])
def test_a_file_compare_cannot_read_is_a_junit_error_not_a_failure(tmp_path, content):
    expected, actual = tmp_path / "expected", tmp_path / "actual"
    for rel in ("good.json", "bad.json"):
        save(expected / rel, document())
    save(actual / "good.json", document())
    (actual / "bad.json").write_text(content, encoding="utf-8")
    result = compare_paths(expected, actual)
    assert not result.ok
    suite = _junit(result).find("testsuite")
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("2", "1", "0")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert [child.tag for child in cases["bad.json"] if child.tag != "system-out"] == ["error"]
    assert "bad.json" in cases["bad.json"].find("error").get("message")
    assert [child.tag for child in cases["good.json"] if child.tag != "system-out"] == []
    run = invoke("compare", expected, actual, "--junit", tmp_path / "junit.xml")
    assert run.returncode == 1
    written = ET.parse(tmp_path / "junit.xml").getroot()
    assert (written.get("errors"), written.get("failures")) == ("1", "0")


def test_a_difference_is_a_junit_failure_not_an_error(tmp_path):
    actual = document()
    actual["frames"][0]["people"][0]["keypoints"][0][0] += 50.0
    root = _junit(compare_paths(*pair(tmp_path, document(), actual)))
    assert (root.get("errors"), root.get("failures")) == ("0", "1")
    (case,) = root.iter("testcase")
    assert case.get("name") == "actual.json"
    assert case.find("failure").get("type") == "difference"


def test_documents_built_here_are_what_compare_reads(tmp_path):
    """The hand-made documents are valid ``movenet/1``: identical ones agree, with every count known."""
    doc = document(frames=4, people=2, tracked=False)
    result = compare_paths(*pair(tmp_path, doc, copy.deepcopy(doc)))
    assert result.ok, result.summary()
    assert (result.count("frames"), result.count("people"), result.count("keypoints")) == (4, 8, 8 * 17)
    assert np.isclose(result.tolerance.relative, Tolerance().relative)


# -- what a user reads: summary lines, the JSON report, notes ---------------------------------------


def test_the_summary_lists_counts_tolerance_and_the_worst_differences_first(tmp_path):
    expected, actual = document(frames=3), document(frames=2)
    keypoints = actual["frames"][0]["people"][0]["keypoints"]
    keypoints[0][0] += 30.0  # nose: 30 px
    keypoints[1][1] += 60.0  # left eye: 60 px, the worst
    actual["frames"][1]["people"][0]["score"] = 0.6
    result = compare_paths(*pair(tmp_path, expected, actual), Tolerance(pixels=10.0, score=0.1))
    lines = result.summary(limit=2).splitlines()
    assert lines == [
        f"compare {tmp_path / 'expected.json'} -> {tmp_path / 'actual.json'}: FAILED",
        "  1 file, 2 frames, 2 people, 34 keypoints compared; keypoints within 10 px, scores within 0.1",
        "  4 differences (1 missing frame, 2 keypoint, 1 person score), worst first:",
        "    frame 2: frame missing from ACTUAL (1 person in it)",
        "    frame 0, person 1, left_eye: moved 60.00 px (limit 10.00 px)",
        "    ... and 2 more (all of them with --report PATH)",
    ]
    rest = result.summary().splitlines()[-2:]
    assert rest == ["    frame 0, person 1, nose: moved 30.00 px (limit 10.00 px)",
                    "    frame 1, person 1: person score changed by 0.2000 (limit 0.1)"]
    relative = compare_paths(*pair(tmp_path, expected, actual), Tolerance(relative=0.05, score=1.0))
    assert "keypoints within 0.05 x box diagonal, scores within 1" in relative.summary()
    assert "moved 60.00 px (limit 11.18 px = 0.05 x 223.6 px diagonal)" in relative.summary()


def test_the_json_report_holds_every_difference_with_its_numbers(tmp_path):
    expected, actual = document(frames=2), document(frames=2)
    actual["frames"][1]["people"][0]["keypoints"][0][0] += 30.0
    report = compare_paths(*pair(tmp_path, expected, actual), Tolerance(pixels=10.0, score=0.1)).to_dict()
    assert report["schema"] == "movenet-compare/1" and report["ok"] is False
    assert report["tolerance"] == {"relative": Tolerance().relative, "pixels": 10.0, "score": 0.1,
                                   "threshold": None, "min_oks": Tolerance().min_oks}
    assert report["counts"] == {"files": 1, "frames": 2, "people": 2, "keypoints": 34}
    assert report["differences"] == [{
        "kind": "keypoint", "file": "", "frame": 1, "person": 1, "actual_person": 1, "keypoint": "nose",
        "value": pytest.approx(30.0), "limit": 10.0, "message": "frame 1, person 1, nose: moved 30.00 px (limit 10.00 px)",
    }]
    (entry,) = report["files"]
    assert {k: entry[k] for k in ("name", "kind", "ok", "error", "frames", "people", "keypoints", "differences")} == {
        "name": "", "kind": "result", "ok": False, "error": None, "frames": 2, "people": 2, "keypoints": 34,
        "differences": 1}
    assert entry["expected"].endswith("expected.json") and entry["actual"].endswith("actual.json")


def test_settings_that_differ_are_notes_not_failures(tmp_path):
    expected, actual = document(), document()
    actual["model"]["name"] = "thunder"
    actual["model"]["threshold"] = 0.4
    actual["source"]["width"] = 641
    result = compare_paths(*pair(tmp_path, expected, actual), Tolerance(threshold=0.3))
    assert result.ok
    assert result.files[0].notes == ['model.name differs: "multipose" -> "thunder"', "model.threshold differs: 0.3 -> 0.4",
                                     "source.width differs: 640 -> 641"]
    assert "  note: model.name differs" in result.summary()
    actual["model"]["tracker"] = {"name": "a tracker with a long name indeed"}
    long = compare_paths(*pair(tmp_path, expected, actual)).files[0].notes
    assert 'model.tracker differs: {"name": "iou"} -> {"name": "a tracker w...' in long


def test_missing_extra_and_renumbered_people_are_named(tmp_path):
    expected, actual = document(frames=2, people=2), document(frames=2, people=2)
    actual["frames"][0]["people"].pop(1)  # person 2 missing in frame 0
    actual["frames"][1]["people"][1]["id"] = 7  # tracked: person 2 is now 7
    extra = person(9, score=0.45, x0=500.0)
    actual["frames"][1]["people"].append(extra)
    found = compare_paths(*pair(tmp_path, expected, actual)).differences
    assert [(d.kind, d.frame, d.person, d.actual_person) for d in found] == [
        ("missing_person", 0, 2, None), ("extra_person", 1, 9, None), ("person_id", 1, 2, 7)]
    assert found[0].describe() == "frame 0, person 2: person missing from ACTUAL (score 0.80)"
    assert found[1].describe() == "frame 1, person 9: person not in EXPECTED (score 0.45)"
    assert found[2].describe() == "frame 1, person 2 (actual 7): tracked id changed"


def test_untracked_people_are_matched_by_oks_whatever_their_order_and_ids(tmp_path):
    expected, actual = document(people=2, tracked=False), document(people=2, tracked=False)
    for frame in actual["frames"]:
        frame["people"].reverse()
        frame["people"][0]["id"], frame["people"][1]["id"] = 5, 6
    assert compare_paths(*pair(tmp_path, expected, actual)).ok
    half = document(people=2, tracked=True)  # tracked in one document only: matched by OKS too
    assert compare_paths(*pair(tmp_path, half, actual)).ok


def test_an_extra_frame_and_a_repeated_frame_index(tmp_path):
    expected, actual = document(frames=2), document(frames=3)
    (diff,) = compare_paths(*pair(tmp_path, expected, actual)).differences
    assert diff.describe() == "frame 2: frame not in EXPECTED (1 person in it)"
    actual["frames"][2]["index"] = 1
    result = compare_paths(*pair(tmp_path, expected, actual))
    assert result.files[0].error == f"{tmp_path / 'actual.json'}: frame index 1 appears twice"
    assert [d.kind for d in result.differences] == ["error"]


def test_manifests_compare_by_status(tmp_path):
    def manifest(**statuses):
        return {"schema": "movenet-run/1", "files": [{"input": k, "status": v, "reason": "why" if v == "failed" else None}
                                                      for k, v in statuses.items()]}

    paths = pair(tmp_path, manifest(a="done", b="done", c="done"), manifest(a="skipped", b="failed", d="done"))
    (item,) = compare_paths(*paths).files
    assert item.kind == "manifest"
    assert [d.describe() for d in item.differences] == [
        "c: input missing from the ACTUAL run", "d: input not in the EXPECTED run", "b: status failed (why), expected done"]
    paths = pair(tmp_path, manifest(a="done"), {"schema": "movenet-run/1", "files": [{"no": "input"}]})
    assert compare_paths(*paths).files[0].error == f"{paths[1]}: not a movenet-run/1 manifest (files[0].input is missing)"


def test_paths_and_schemas_compare_cannot_take(tmp_path):
    from movenet_cli.errors import UsageError
    from movenet_cli.results.compare import CompareError

    e, a = pair(tmp_path, document(), {"schema": "other/1"})
    (item,) = compare_paths(e, a).files
    assert item.error == f"{a}: schema 'other/1' cannot be compared with {e}'s 'movenet/1'; compare results written by compatible versions"
    save(a, {"schema": "other/1"})
    save(e, {"schema": "other/1"})
    assert compare_paths(e, a).files[0].error == f"{e}: schema 'other/1' is not one compare knows ('movenet/1' or 'movenet-run/1')"
    with pytest.raises(CompareError, match=r"nothing\.json: no such file or folder$"):
        compare_paths(e, tmp_path / "nothing.json")
    with pytest.raises(CompareError, match=r"is a folder and .* is not: compare two files or two folders$"):
        compare_paths(tmp_path, a)
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    save(empty / "sub" / "x.json", {"schema": "other/1"})
    with pytest.raises(CompareError, match="holds no movenet results"):
        compare_paths(empty, empty)
    for name in ("relative", "pixels", "score", "threshold", "min_oks"):
        with pytest.raises(UsageError, match=f"tolerance {name} must be a number >= 0"):
            Tolerance(**{name: -0.5})
        with pytest.raises(UsageError):
            Tolerance(**{name: float("nan")})
    assert Tolerance(relative=0.0, pixels=0.0, score=0.0, threshold=0.0, min_oks=0.0).limit(100.0) == 0.0


def test_oks_on_known_geometry_without_boxes():
    from movenet_cli.results.compare import oks
    from movenet_cli.types import COCO_SIGMAS, Pose

    k = np.zeros((17, 3))
    k[:, 0], k[:, 1], k[:, 2] = np.arange(17) * 6.0, np.arange(17) * 3.0 + 10.0, 0.5  # extent 96 x 48
    moved = k.copy()
    moved[:, 0] += 4.0
    e, a = Pose(k, 0.9, None, 1), Pose(moved, 0.9, None, 1)
    expected = np.mean(np.exp(-16.0 / (2 * 96.0 * 48.0 * (2 * COCO_SIGMAS) ** 2)))
    assert oks(e, a, 0.5) == pytest.approx(expected)  # a score exactly at the threshold counts
    assert oks(e, a, 0.9) == pytest.approx(expected)  # none reaches it: all count
    half = k.copy()
    half[:8, 2] = 0.1  # only keypoints 8..16 count, and their extent (48 x 24) is the area
    only = np.exp(-16.0 / (2 * (16 - 8) * 6.0 * (16 - 8) * 3.0 * (2 * COCO_SIGMAS[8:]) ** 2)).mean()
    assert oks(Pose(half, 0.9, None, 1), a, 0.5) == pytest.approx(only)
    boxed = Pose(k, 0.9, (0.0, 0.0, 10.0, 20.0), 1)
    assert oks(boxed, a, 0.5) == pytest.approx(np.mean(np.exp(-16.0 / (2 * 200.0 * (2 * COCO_SIGMAS) ** 2))))
    point = np.zeros((17, 3))
    assert oks(Pose(point, 0.9, None, 1), Pose(point, 0.9, None, 1), 0.5) == pytest.approx(1.0)  # no area: 1 px^2


def test_without_boxes_the_limit_is_a_share_of_the_compared_keypoints_extent(tmp_path):
    expected, actual = document(frames=1), document(frames=1)
    for doc in (expected, actual):
        del doc["frames"][0]["people"][0]["bbox"]
    actual["frames"][0]["people"][0]["keypoints"][0][0] += 30.0
    (diff,) = compare_paths(*pair(tmp_path, expected, actual), Tolerance(relative=0.1, score=1.0)).differences
    # keypoints span x 100..180 (and the moved nose at 130), y 100..260: diagonal of 80 x 160
    assert diff.limit == pytest.approx(0.1 * math.hypot(80.0, 160.0))
    only_actual = document(frames=1)
    only_actual["frames"][0]["people"][0]["keypoints"][0][0] += 30.0
    (diff,) = compare_paths(*pair(tmp_path, expected, only_actual), Tolerance(relative=0.1, score=1.0)).differences
    assert diff.limit == pytest.approx(0.1 * math.hypot(100.0, 200.0))  # ACTUAL's box when EXPECTED has none


def test_a_missing_frame_says_how_many_people_it_held(tmp_path):
    (diff,) = compare_paths(*pair(tmp_path, document(frames=2, people=2), document(frames=1, people=2))).differences
    assert diff.describe() == "frame 1: frame missing from ACTUAL (2 people in it)"


def test_long_setting_values_are_cut_after_24_characters(tmp_path):
    expected, actual = document(), document()
    expected["model"]["backend"], actual["model"]["backend"] = "x" * 22, "y" * 23  # 24 and 25 as JSON
    (note,) = compare_paths(*pair(tmp_path, expected, actual)).files[0].notes
    assert note == f'model.backend differs: "{"x" * 22}" -> "{"y" * 20}...'


def test_manifest_differences_name_files_kinds_and_paths(tmp_path):
    expected = {"schema": "movenet-run/1", "files": [{"input": "a", "status": "done"}, {"input": "b", "status": "done"}]}
    actual = {"schema": "movenet-run/1", "files": [{"input": "a", "status": "failed"}, {"input": "c", "status": "done"}]}
    folder_e, folder_a = tmp_path / "e", tmp_path / "a"
    save(folder_e / "movenet-run.json", expected)
    save(folder_a / "movenet-run.json", actual)
    (item,) = compare_paths(folder_e, folder_a).files
    assert (item.name, item.expected, item.actual, item.kind) == (
        "movenet-run.json", str(folder_e / "movenet-run.json"), str(folder_a / "movenet-run.json"), "manifest")
    assert [(d.kind, d.file, d.describe()) for d in item.differences] == [
        ("missing_file", "movenet-run.json", "movenet-run.json: b: input missing from the ACTUAL run"),
        ("extra_file", "movenet-run.json", "movenet-run.json: c: input not in the EXPECTED run"),
        ("status", "movenet-run.json", "movenet-run.json: a: status failed, expected done"),
    ]
    report = compare_paths(folder_e, folder_a).to_dict()
    assert (report["expected"], report["actual"]) == (str(folder_e), str(folder_a))
    entry = report["files"][0]
    assert entry["notes"] == [] and isinstance(entry["seconds"], float) and entry["seconds"] == round(entry["seconds"], 3)
