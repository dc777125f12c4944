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
