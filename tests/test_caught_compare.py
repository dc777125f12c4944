"""`compare` on hand-made ``movenet/1`` documents: what is compared, in which direction, and what fails.

Each document is small and built here, so every number a test asserts is known exactly.
"""

from __future__ import annotations

import copy
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
