"""The JUnit XML a CI viewer reads, whole: every element, attribute and text of known suites."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from movenet_cli.results.compare import CompareResult, FileComparison, Tolerance
from movenet_cli.results.junit import (
    JUnitCase,
    JUnitError,
    JUnitSuite,
    case_for_input,
    suite_from_compare,
    suite_from_manifest,
    to_xml,
    write_junit,
)

WHEN = "2026-01-02T03:04:05"


def suites() -> list[JUnitSuite]:
    inputs = JUnitSuite("movenet image", [
        case_for_input("a.jpg", 1.25),
        case_for_input("b.jpg", 0.5, error="b.jpg: not an image\nsecond line"),
        case_for_input("c.jpg", 2, violations=["expected at least 2 people", "expected a score"],
                       classname="movenet.image", system_out="frames: 1"),
        JUnitCase("d.jpg", outcome="skipped", message="outputs complete", kind="ignored"),
        JUnitCase("bad\x01name", time=-3.0),
    ], timestamp=WHEN, hostname="ci-host", properties={"k": "v\x02"})
    moved = FileComparison("x.json", "e/x.json", "a/x.json", frames=2, people=3, keypoints=40, seconds=0.25)
    moved.add("keypoint", frame=1, person=2, keypoint="nose", value=3.0, limit=1.0)
    moved.add("missing_frame", frame=4, detail="frame missing")
    agree = FileComparison("y.json", "e/y.json", "a/y.json", frames=1, people=1, keypoints=17, seconds=0.5)
    unreadable = FileComparison("z.json", "e/z.json", "a/z.json", error="a/z.json: not JSON")
    tolerance = Tolerance(relative=0.05, pixels=2.0, score=0.2, threshold=None, min_oks=0.3)
    compared = suite_from_compare(CompareResult("e", "a", tolerance, [moved, agree, unreadable]))
    compared.timestamp, compared.hostname = WHEN, "h"
    return [inputs, compared]


EXPECTED = """<?xml version='1.0' encoding='utf-8'?>
<testsuites name="top" tests="8" failures="2" errors="2" time="4.500">
  <testsuite name="movenet image" tests="5" failures="1" errors="1" skipped="1" time="3.750" timestamp="2026-01-02T03:04:05" hostname="ci-host">
    <properties>
      <property name="k" value="v\\x02" />
    </properties>
    <testcase name="a.jpg" classname="movenet" time="1.250" />
    <testcase name="b.jpg" classname="movenet" time="0.500">
      <error message="b.jpg: not an image" type="error">b.jpg: not an image
second line</error>
    </testcase>
    <testcase name="c.jpg" classname="movenet.image" time="2.000">
      <failure message="expected at least 2 people; expected a score" type="expectation">expected at least 2 people
expected a score</failure>
      <system-out>frames: 1</system-out>
    </testcase>
    <testcase name="d.jpg" classname="movenet" time="0.000">
      <skipped message="outputs complete">outputs complete</skipped>
    </testcase>
    <testcase name="bad\\x01name" classname="movenet" time="0.000" />
  </testsuite>
  <testsuite name="movenet compare" tests="3" failures="1" errors="1" skipped="0" time="0.750" timestamp="2026-01-02T03:04:05" hostname="h">
    <properties>
      <property name="expected" value="e" />
      <property name="actual" value="a" />
      <property name="tolerance.relative" value="0.05" />
      <property name="tolerance.pixels" value="2.0" />
      <property name="tolerance.score" value="0.2" />
      <property name="tolerance.min_oks" value="0.3" />
    </properties>
    <testcase name="x.json" classname="movenet.compare" time="0.250">
      <failure message="2 differences; worst: x.json, frame 4: frame missing" type="difference">x.json, frame 4: frame missing
x.json, frame 1, person 2, nose: moved 3.00 px (limit 1.00 px)</failure>
      <system-out>2 frames, 3 people, 40 keypoints compared</system-out>
    </testcase>
    <testcase name="y.json" classname="movenet.compare" time="0.500">
      <system-out>1 frames, 1 people, 17 keypoints compared</system-out>
    </testcase>
    <testcase name="z.json" classname="movenet.compare" time="0.000">
      <error message="a/z.json: not JSON" type="error">a/z.json: not JSON</error>
      <system-out>0 frames, 0 people, 0 keypoints compared</system-out>
    </testcase>
  </testsuite>
</testsuites>
"""


def test_the_whole_document_of_known_suites():
    assert to_xml(suites(), "top").decode("utf-8") == EXPECTED


def test_written_atomically_into_a_new_folder(tmp_path):
    path = write_junit(tmp_path / "reports" / "ci" / "movenet.xml", suites())
    assert path == tmp_path / "reports" / "ci" / "movenet.xml"
    assert path.read_bytes() == to_xml(suites())
    assert ET.parse(path).getroot().get("name") == "movenet"
    assert ET.parse(write_junit(tmp_path / "named.xml", suites(), name="nightly")).getroot().get("name") == "nightly"
    assert sorted(p.name for p in path.parent.iterdir()) == ["movenet.xml"]


def test_an_unwritable_report_is_one_line_naming_it(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(JUnitError, match=r"^.*file/r\.xml: cannot write the JUnit report \((Not a directory|File exists)\)$"):
        write_junit(tmp_path / "file" / "r.xml", suites())


def test_now_and_this_host_when_not_given():
    root = JUnitSuite("s", [JUnitCase("a")]).element()
    assert len(root.get("timestamp")) == len(WHEN) and root.get("hostname")


def test_a_long_list_of_differences_is_cut():
    item = FileComparison("x.json", "e", "a")
    for k in range(203):
        item.add("keypoint", frame=k, person=1, keypoint="nose", value=2.0 + k, limit=1.0)
    (case,) = suite_from_compare(CompareResult("e", "a/x.json", Tolerance(), [item])).cases
    lines = case.details.splitlines()
    assert len(lines) == 201 and lines[-1] == "... and 3 more"
    assert lines[0] == "x.json, frame 202, person 1, nose: moved 204.00 px (limit 1.00 px)"
    assert case.message == f"203 differences; worst: {lines[0]}"
    exactly = FileComparison("x.json", "e", "a")
    for k in range(200):
        exactly.add("keypoint", frame=k, person=1, keypoint="nose", value=2.0, limit=1.0)
    (case,) = suite_from_compare(CompareResult("e", "a", Tolerance(), [exactly])).cases
    assert len(case.details.splitlines()) == 200 and "more" not in case.details
    unnamed = FileComparison("", "e", "a")
    assert suite_from_compare(CompareResult("e", "out/a.json", Tolerance(), [unnamed])).cases[0].name == "a.json"


def test_a_manifest_suite_names_inputs_times_and_reasons():
    manifest = {"input_dir": "in", "output_dir": "out", "status": "complete", "files": [
        {"input": "a.jpg", "status": "done", "seconds": 1.5, "frames": 1, "people": 2, "fps": 0.7},
        {"input": "b.jpg", "status": "failed", "seconds": 0.2},
        {"input": "e.jpg", "status": "failed", "reason": "e.jpg: not an image"},
        {"input": "c.jpg", "status": "pending", "seconds": 0.25},
        {"input": "d.jpg", "status": "skipped", "seconds": None},
    ]}
    suite = suite_from_manifest(manifest, {"a.jpg": ["too few"]}, name="movenet dir")
    assert suite.name == "movenet dir" and suite.properties == {"input_dir": "in", "output_dir": "out",
                                                                 "status": "complete"}
    a, b, e, c, d = suite.cases
    assert (e.outcome, e.message, e.classname) == ("error", "e.jpg: not an image", "movenet.dir")
    assert c.classname == "movenet.dir" and d.system_out == "frames: None, people: None, fps: None"
    assert (a.outcome, a.message, a.classname, a.time) == ("failure", "too few", "movenet.dir", 1.5)
    assert a.system_out == "frames: 1, people: 2, fps: 0.7"
    assert (b.outcome, b.message, b.time) == ("error", "failed", 0.2)
    assert (c.outcome, c.message, c.time) == ("error", "not processed: the run stopped before this input", 0.25)
    assert (d.outcome, d.message, d.time, d.classname) == ("skipped", "outputs already complete; not processed again",
                                                           0.0, "movenet.dir")
    assert suite_from_manifest({}).name == "movenet dir" and suite_from_manifest({}).cases == []


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome 'broken'"):
        JUnitCase("a", outcome="broken")


def test_an_input_case_keeps_what_it_printed_and_starts_at_zero_seconds():
    assert case_for_input("a").time == 0.0
    assert case_for_input("a", system_out="frames: 1").system_out == "frames: 1"
    assert case_for_input("a", error="broken", system_out="frames: 0").system_out == "frames: 0"


def test_an_outcome_without_a_message_has_an_empty_headline():
    element = JUnitCase("a", outcome="failure").element()
    assert element.find("failure").get("message") == "" and element.find("failure").text == ""
