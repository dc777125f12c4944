"""Run expectations, JUnit reports and JSON Lines, on real runs of the sample clip."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from ci_runs import demo_run, edited, read, two_person_frame, write
from helpers import DEMO_CLIP, ROOT
from movenet_cli.errors import EXIT_EXPECTATION, UsageError
from movenet_cli.render.jsonl import JsonlError, JsonlSink
from movenet_cli.results import load_result
from movenet_cli.results.compare import compare_paths
from movenet_cli.results.expect import check_expectations, parse_expectations, parse_fraction, parse_people
from movenet_cli.results.junit import JUnitCase, JUnitSuite, case_for_input, suite_from_compare, suite_from_manifest
from movenet_cli.results.junit import to_xml, write_junit
from movenet_cli.types import FrameResult, Pose


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    return demo_run(tmp_path_factory, 1)


def _frames(counts: list[int], score: float = 0.5) -> list[FrameResult]:
    pose = lambda: Pose(np.zeros((17, 3)), score, None)  # noqa: E731
    return [FrameResult(i, i / 30, [pose() for _ in range(n)]) for i, n in enumerate(counts)]


# --- expectations ---------------------------------------------------------------------------------------------


def test_expectations_parse_and_refuse_bad_text():
    assert parse_people("1") == (1, None) and parse_people("1:2") == (1, 2) and parse_people(":2") == (0, 2)
    assert parse_people("0:0") == (0, 0) and parse_fraction("90%") == pytest.approx(0.9)
    for bad in ("", "x", "-1", "2:1", "1:2:3", "1.5"):
        with pytest.raises(UsageError, match="--expect-people"):
            parse_people(bad)
    for bad in ("1.5", "-0.1", "nan", "abc"):
        with pytest.raises(UsageError, match="--expect-detected"):
            parse_fraction(bad)
    with pytest.raises(UsageError, match="--expect-score"):
        parse_expectations(score="2")


def test_true_expectations_pass_on_the_sample_clip(golden):
    doc = load_result(golden)
    counts = [len(f.people) for f in doc.frames]
    mean = float(np.mean([p.score for f in doc.frames for p in f.people]))
    wanted = parse_expectations(people=f"{min(counts)}:{max(counts)}", detected="1", score=f"{mean - 0.01:.4f}")
    report = check_expectations(doc, wanted)
    assert report.ok, report.violations
    assert report.measured["frames"] == 90 and report.measured["detected"] == 1.0
    assert report.measured["mean_score"] == pytest.approx(mean)


def test_false_expectations_say_expected_and_measured(golden):
    doc = load_result(golden)
    counts = [len(f.people) for f in doc.frames]
    outside = sum(1 for n in counts if n < 2)
    mean = float(np.mean([p.score for f in doc.frames for p in f.people]))
    report = check_expectations(doc, parse_expectations(people="2", score="0.95"))
    assert len(report.violations) == 2
    people, score = report.violations
    assert people.startswith("expected at least 2 people per frame (--expect-people 2), measured 1 to 2 people:")
    assert f"{outside} of 90 frames outside" in people
    assert score == f"expected a mean person score of at least 0.95 (--expect-score 0.95), measured {mean:.4f} over " \
        f"{sum(counts)} people"
    line = report.line("demo_clip.mp4")
    assert line.startswith("demo_clip.mp4: expectation not met: expected at least 2") and "\n" not in line
    assert report.error("demo_clip.mp4").exit_code == EXIT_EXPECTATION == 3


def test_expectations_on_known_counts():
    frames = _frames([0, 0, 0, 1, 1, 1, 1, 1, 2, 2])
    report = check_expectations(frames, parse_expectations(people="1:1", detected="0.8"))
    assert report.measured["frames_outside_people_range"] == 5
    assert report.violations == [
        "expected exactly 1 person per frame (--expect-people 1:1), measured 0 to 2 people: 5 of 10 frames outside "
        "(frames 0, 1, 2, 8, 9)",
        "expected a person in at least 80.0% of frames (--expect-detected 0.8), measured 70.0% (7 of 10 frames)",
    ]
    assert check_expectations(frames, parse_expectations(detected="0.7")).ok  # the boundary is met
    assert not check_expectations([], parse_expectations(detected="0")).ok  # no frame meets nothing
    nobody = check_expectations(_frames([0, 0]), parse_expectations(score="0.1"))
    assert nobody.violations == ["expected a mean person score of at least 0.1, measured no person"]


# --- JUnit ----------------------------------------------------------------------------------------------------

# What the junit-10.xsd (Jenkins xUnit plugin) allows and requires on each element.
ALLOWED = {
    "testsuites": ({"name", "time", "tests", "failures", "errors"}, set()),
    "testsuite": ({"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id",
                   "package", "file", "log", "url"}, {"name", "tests", "failures", "errors"}),
    "testcase": ({"name", "time", "classname", "group"}, {"name"}),
    "failure": ({"type", "message"}, set()),
    "error": ({"type", "message"}, set()),
    "skipped": ({"type", "message"}, set()),
    "properties": (set(), set()),
    "property": ({"name", "value"}, {"name", "value"}),
    "system-out": (set(), set()),
}
SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")


def _check_schema(root: ET.Element) -> None:
    assert root.tag == "testsuites"
    for element in root.iter():
        allowed, required = ALLOWED[element.tag]
        assert set(element.attrib) <= allowed, (element.tag, element.attrib)
        assert required <= set(element.attrib), (element.tag, element.attrib)
        if element.tag in ("testsuites", "testsuite", "testcase"):
            assert SUREFIRE_TIME.fullmatch(element.get("time")), element.get("time")
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        for outcome, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert int(suite.get(attr)) == sum(1 for c in cases if c.find(outcome) is not None)
        assert int(suite.get("tests")) == len(cases)
        assert all(len([c for c in case if c.tag != "system-out"]) <= 1 for case in cases)


def test_junit_report_counts_and_schema(golden, tmp_path):
    doc = edited(golden)
    doc["frames"][two_person_frame(doc)]["people"].pop()
    changed = compare_paths(golden, write(tmp_path / "changed.json", doc))
    manifest = {"input_dir": "footage", "files": [
        {"input": "a.mp4", "status": "done", "seconds": 2.5, "frames": 90, "people": 105, "fps": 36.0},
        {"input": "b.mp4", "status": "failed", "reason": "b.mp4: not a video file", "seconds": 0.1},
        {"input": "c.jpg", "status": "skipped"},
        {"input": "d.jpg", "status": "pending"},
    ]}
    suites = [
        suite_from_compare(changed),
        suite_from_compare(compare_paths(golden, golden), name="same"),
        suite_from_manifest(manifest, {"a.mp4": ["expected at least 2 people per frame, measured 1"]}),
        JUnitSuite("movenet video", [case_for_input("clip.mp4", 1.25)]),
    ]
    path = write_junit(tmp_path / "reports" / "junit.xml", suites)
    root = ET.parse(path).getroot()
    _check_schema(root)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("7", "2", "2")
    compare_case = root.find("testsuite/testcase")
    assert compare_case.get("name") == "changed.json" and compare_case.get("classname") == "movenet.compare"
    failure = compare_case.find("failure")
    assert failure.get("message").startswith("1 difference; worst: frame ") and "person missing" in failure.text
    dir_cases = {c.get("name"): c for c in root.findall("testsuite[@name='movenet dir']/testcase")}
    assert dir_cases["a.mp4"].find("failure").get("type") == "expectation"
    assert dir_cases["a.mp4"].get("time") == "2.500"
    assert dir_cases["b.mp4"].find("error").get("message") == "b.mp4: not a video file"
    assert dir_cases["c.jpg"].find("skipped") is not None
    assert "stopped before" in dir_cases["d.jpg"].find("error").get("message")
    assert os.listdir(path.parent) == ["junit.xml"]  # written under a temporary name, then renamed


def test_junit_escapes_what_xml_cannot_hold(tmp_path):
    nasty = "clip\x1b[31m\x00.mp4 <&> \"quoted\" \ud800"
    suite = JUnitSuite("s", [JUnitCase(nasty, outcome="error", message=nasty + "\nsecond line")])
    (tmp_path / "j.xml").write_text("old")
    root = ET.parse(write_junit(tmp_path / "j.xml", [suite])).getroot()
    case = root.find("testsuite/testcase")
    assert case.get("name") == 'clip\\x1b[31m\\x00.mp4 <&> "quoted" \\ud800'
    assert case.find("error").get("message") == case.get("name")  # the first line only
    assert b"\x00" not in to_xml([suite]) and b"\x1b" not in to_xml([suite])


# --- JSON Lines -----------------------------------------------------------------------------------------------

def _readline(proc: subprocess.Popen, timeout: float = 120) -> str:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            return pool.submit(proc.stdout.readline).result(timeout)
        except concurrent.futures.TimeoutError:
            proc.kill()
            raise AssertionError("no line from the run: JSON Lines were not flushed") from None


def test_jsonl_streams_while_the_run_goes_on_and_matches_the_json(tmp_path):
    """`--jsonl -`: the header and the first frame arrive while the run goes on (its JSON is published only
    at the end), every line parses, and only JSON Lines reach stdout."""
    out = tmp_path / "demo.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("PYTHONUNBUFFERED", None)  # stdout block-buffered into a pipe, as users have it
    with open(tmp_path / "stderr.txt", "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "movenet_cli", "video", str(DEMO_CLIP), "--no-video", "--json", str(out),
             "--jsonl", "-"], stdout=subprocess.PIPE, stderr=err, text=True, env=env,
        )
        header, first = json.loads(_readline(proc)), json.loads(_readline(proc))
        assert proc.poll() is None and not out.exists()  # the run is still going
        rest = [json.loads(line) for line in proc.stdout]
        assert proc.wait(120) == 0, (tmp_path / "stderr.txt").read_text()
    doc = read(out)
    assert header == {"schema": "movenet/1", "source": header["source"], "model": doc["model"]}
    assert header["source"]["path"] == doc["source"]["path"] == str(DEMO_CLIP)
    frames = [first] + rest[:-1]
    assert frames == [{"source": str(DEMO_CLIP), **frame} for frame in doc["frames"]]
    assert rest[-1] == {"complete": True, "frame_count": 90}
    assert "90 frames" in (tmp_path / "stderr.txt").read_text()  # the closing line went to stderr


def test_jsonl_writes_nan_as_null_and_reports_a_closed_reader(golden, tmp_path):
    doc = load_result(golden)
    with JsonlSink(tmp_path / "out.jsonl", doc.source, doc.model) as sink:
        sink.add(FrameResult(0, 0.0, [Pose(np.full((17, 3), np.nan), 0.5, None, 1)]))
        assert not (tmp_path / "out.jsonl").exists()  # a file is published when complete
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert lines[0]["schema"] == "movenet/1" and lines[-1] == {"complete": True, "frame_count": 1}
    assert lines[1]["people"][0]["keypoints"][0] == [None, None, None]  # as in the movenet/1 document
    with pytest.raises(ZeroDivisionError):
        with JsonlSink(tmp_path / "failed.jsonl", doc.source, doc.model):
            1 / 0
    assert os.listdir(tmp_path) == ["out.jsonl"]  # a failed run leaves nothing at the path
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = os.fdopen(write_end, "w")
    with pytest.raises(JsonlError, match="closed the stream after 0 frames"):
        JsonlSink(stream, doc.source, doc.model)
    with contextlib.suppress(BrokenPipeError):
        stream.close()  # what the sink could not write is still buffered
