"""What a CI job is told: the exit code of a run's checks and its JUnit report, on synthetic results."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from movenet_cli.errors import EXIT_EXPECTATION, EXIT_FAILED, EXIT_OK
from movenet_cli.results.expect import parse_expectations
from movenet_cli.results.junit import suite_from_manifest
from movenet_cli.run.checks import RunChecks
from movenet_cli.types import FrameResult, Pose


def frames(people: list[int], score: float = 0.6) -> list[FrameResult]:
    """One frame per entry, with that many people of that score."""
    pose = Pose(np.full((17, 3), 0.5), score, (0.0, 0.0, 10.0, 10.0), 1)
    return [FrameResult(i, i / 30.0, [pose] * n) for i, n in enumerate(people)]


def checks(tmp_path, **expect) -> RunChecks:
    return RunChecks(parse_expectations(**expect), junit=tmp_path / "junit.xml", suite="movenet image")


@pytest.mark.parametrize("order", ["failed-first", "missed-first"])
def test_a_failed_input_and_a_missed_expectation_exit_1(tmp_path, order):
    run = checks(tmp_path, people="2")
    records = [lambda: run.record("broken.jpg", error="broken.jpg: not an image"),
               lambda: run.record("one.jpg", frames=frames([1]))]
    for record in records if order == "failed-first" else records[::-1]:
        record()
    assert run.exit_code() == EXIT_FAILED == 1
    run.write()
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert (root.get("tests"), root.get("errors"), root.get("failures")) == ("2", "1", "1")


def test_a_missed_expectation_alone_exits_3_and_a_met_one_0(tmp_path):
    run = checks(tmp_path, people="2")
    line = run.record("one.jpg", frames=frames([1, 2]))
    assert line is not None and line.startswith("one.jpg: expectation not met: expected at least 2 people")
    assert run.exit_code() == EXIT_EXPECTATION == 3
    met = checks(tmp_path, people="1:2")
    assert met.record("two.jpg", frames=frames([1, 2])) is None
    assert met.exit_code() == EXIT_OK == 0


def test_a_failed_input_is_not_also_checked_against_the_expectations(tmp_path):
    run = checks(tmp_path, people="5")
    assert run.record("broken.jpg", frames=frames([1]), error="broken.jpg: not an image") is None
    (case,) = run.cases
    assert (case.outcome, case.message) == ("error", "broken.jpg: not an image")


def test_a_manifest_s_failed_and_pending_inputs_are_errors_and_skipped_ones_are_checked():
    manifest = {"schema": "movenet-run/1", "status": "incomplete", "files": [
        {"input": "a.jpg", "status": "done"},
        {"input": "b.jpg", "status": "failed", "reason": "b.jpg: not an image"},
        {"input": "c.jpg", "status": "pending"},
        {"input": "d.jpg", "status": "skipped"},
        {"input": "e.jpg", "status": "skipped"},
    ]}
    suite = suite_from_manifest(manifest, {"e.jpg": ["expected at least 2 people per frame"]})
    outcomes = {case.name: case.outcome for case in suite.cases}
    assert outcomes == {"a.jpg": "passed", "b.jpg": "error", "c.jpg": "error", "d.jpg": "skipped", "e.jpg": "failure"}
    root = ET.fromstring(ET.tostring(suite.element()))
    assert (root.get("errors"), root.get("failures"), root.get("skipped")) == ("2", "1", "1")


# -- a folder run's checks, from its manifest and written results ---------------------------------


def _result(path, people: list[int]) -> None:
    import json

    person = {"id": 1, "score": 0.6, "keypoints": [[0.0, 0.0, 0.5]] * 17}
    doc = {"schema": "movenet/1", "source": {}, "model": {},
           "frames": [{"index": i, "time": i / 30, "people": [person] * n} for i, n in enumerate(people)]}
    path.write_text(json.dumps(doc))


def _folder_run(tmp_path):
    import json

    from movenet_cli.pipeline import Outputs
    from movenet_cli.run.folder import FolderRun
    from movenet_cli.run.job import FileRecord

    statuses = {"failed.jpg": ("failed", None), "done.jpg": ("done", [0]), "skipped.mp4": ("skipped", [1, 0]),
                "pending.jpg": ("pending", None), "nojson.jpg": ("done", None)}
    records, files = [], []
    for name, (status, people) in statuses.items():
        json_path = tmp_path / f"{name}.json" if people is not None else None
        if json_path is not None:
            _result(json_path, people)
        records.append(FileRecord(tmp_path / "in" / name, "image", Outputs(json=json_path), status=status,
                                  reason="broken" if status == "failed" else None))
        files.append({"input": name, "status": status, "reason": "broken" if status == "failed" else None})
    manifest = tmp_path / "movenet-run.json"
    manifest.write_text(json.dumps({"schema": "movenet-run/1", "status": "incomplete", "files": files}))
    return FolderRun(records, manifest, {"name": "local"})


def test_a_folder_run_checks_done_and_skipped_inputs_from_their_json(tmp_path):
    from movenet_cli.run.checks import check_folder_run

    run = RunChecks(parse_expectations(people="1"), junit=tmp_path / "junit.xml", suite="movenet dir -q")
    lines = check_folder_run(_folder_run(tmp_path), run)
    assert lines == ["done.jpg: expectation not met: expected at least 1 person per frame (--expect-people 1), "
                     "measured 0 to 0 people: 1 of 1 frames outside (frames 0)",
                     "skipped.mp4: expectation not met: expected at least 1 person per frame (--expect-people 1), "
                     "measured 0 to 1 people: 1 of 2 frames outside (frames 1)"]
    outcomes = {case.name: case.outcome for case in run.cases}
    assert outcomes == {"done.jpg": "failure", "skipped.mp4": "failure", "failed.jpg": "error", "pending.jpg": "error",
                        "nojson.jpg": "passed"}
    assert run.exit_code() == EXIT_FAILED
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("errors")) == (
        "movenet dir -q", "5", "2", "2")
    assert {p.get("name"): p.get("value") for p in suite.iter("property")} == {"status": "incomplete"}


def test_a_folder_run_without_expectations_writes_its_report_and_checks_nothing(tmp_path):
    from movenet_cli.run.checks import check_folder_run

    run = RunChecks(junit=tmp_path / "junit.xml", suite="movenet dir")
    assert run.active and not RunChecks().active
    assert check_folder_run(_folder_run(tmp_path), run) == []
    assert {case.name: case.outcome for case in run.cases}["skipped.mp4"] == "skipped"
    assert (tmp_path / "junit.xml").exists()
    quiet = RunChecks(parse_expectations(people="0"))
    assert quiet.active and check_folder_run(_folder_run(tmp_path), quiet) == []
    assert not (tmp_path / "other.xml").exists()


def test_record_times_each_input_from_the_last(tmp_path):
    run = checks(tmp_path)
    run.record("a.jpg", frames=frames([1]), seconds=2.5)
    run.record("b.jpg", frames=frames([1]))
    assert run.cases[0].time == 2.5 and 0 <= run.cases[1].time < 60
    assert [c.classname for c in run.cases] == ["movenet image"] * 2
    assert [c.name for c in run.cases] == ["a.jpg", "b.jpg"]
    run.write()
    assert ET.parse(tmp_path / "junit.xml").getroot().find("testsuite").get("name") == "movenet image"
