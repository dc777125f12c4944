"""Through the `movenet` command: two runs into one folder, a resumed run's expectations, the report's
not-taken names, two images writing one output.

One `movenet dir` run on one image (real model) serves the folder tests: it is paused while it
holds its folder so that a second run meets it there, and its outputs are resumed after.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import PERSON_JPG, invoke, run_movenet, start_movenet
from movenet_cli.run.manifest import LOCK_NAME

EVIL = "<img src=x onerror=alert(1)>.txt"


def error_lines(result) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("movenet: error:")]


@dataclass
class FolderRun:
    src: Path
    out: Path
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    first_pid: int
    report: str


def _wait_for_lock(out: Path, pid: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        lock = out / LOCK_NAME
        if lock.exists() and lock.read_text(errors="replace").startswith(f"pid {pid} "):
            return
        assert proc.poll() is None, "the first run ended before it was seen holding its folder"
        time.sleep(0.01)
    pytest.fail("the first run never held its folder")


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory) -> FolderRun:
    """A `dir` run (with a report) paused while it holds OUT; a second run into OUT meanwhile."""
    root = tmp_path_factory.mktemp("caught-runs")
    src, out = root / "src", root / "out"
    src.mkdir()
    shutil.copy(PERSON_JPG, src / "person.jpg")
    (src / EVIL).write_text("not an image\n")
    first = start_movenet("dir", src, "-o", out, "--report", "-q", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    try:
        _wait_for_lock(out, first.pid, first)
        first.send_signal(signal.SIGSTOP)
        try:
            second = run_movenet("dir", src, "-o", out, "-q", "--overwrite")
        finally:
            first.send_signal(signal.SIGCONT)
        stdout, stderr = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    done = subprocess.CompletedProcess(first.args, first.returncode, stdout, stderr)
    assert done.returncode == 0, stderr
    return FolderRun(src, out, done, second, first.pid, (out / "report.html").read_text(encoding="utf-8"))


def manifest(out: Path) -> dict:
    return json.loads((out / "movenet-run.json").read_text(encoding="utf-8"))


def junit_cases(path: Path) -> dict[str, str]:
    """Each testcase's name -> its outcome (passed, failure, error, skipped)."""
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        tags = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        cases[case.get("name")] = tags[0] if tags else "passed"
    return cases


# -- the folder lock -------------------------------------------------------------------------------


def test_a_second_dir_run_into_a_folder_being_written_is_refused(folder_run):
    (line,) = error_lines(folder_run.second)
    assert folder_run.second.returncode == 1
    assert "is being written by another movenet run" in line and f"pid {folder_run.first_pid} " in line
    # the first run went on undisturbed and is the one the folder holds
    written = manifest(folder_run.out)
    assert written["status"] == "complete"
    assert [(f["input"], f["status"]) for f in written["files"]] == [("person.jpg", "done")]
    assert not (folder_run.out / LOCK_NAME).exists()


# -- the report ------------------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_not_taken_names_are_text_in_the_report(folder_run):
    page = _Page()
    page.feed(folder_run.report)
    handlers = [(tag, attrs) for tag, attrs in page.tags if any(name.startswith("on") for name in attrs)]
    assert handlers == []
    assert not [attrs for tag, attrs in page.tags if tag == "img" and attrs.get("src") == "x"]
    assert EVIL in page.text  # shown as the file's name, character for character
    assert manifest(folder_run.out)["not_taken"][0]["path"] == EVIL


# -- a resumed run is checked whole ----------------------------------------------------------------


def test_a_resumed_run_checks_the_inputs_it_skipped(folder_run, tmp_path):
    junit = tmp_path / "junit.xml"
    missed = run_movenet("dir", folder_run.src, "-o", folder_run.out, "--skip-existing", "-q",
                         "--expect-people", "3", "--junit", junit)
    assert missed.returncode == 3, missed.stderr
    assert [f["status"] for f in manifest(folder_run.out)["files"]] == ["skipped"]
    assert any(line.startswith("person.jpg: expectation not met") or "person.jpg: expectation not met" in line
               for line in missed.stderr.splitlines()), missed.stderr
    assert junit_cases(junit) == {"person.jpg": "failure"}
    met = run_movenet("dir", folder_run.src, "-o", folder_run.out, "--skip-existing", "-q",
                      "--expect-people", "1", "--junit", junit)
    assert met.returncode == 0, met.stderr
    assert junit_cases(junit) == {"person.jpg": "skipped"}


def test_a_resumed_run_with_a_failed_input_and_a_missed_expectation_exits_1(folder_run, tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(folder_run.src, src)
    shutil.copytree(folder_run.out, out)
    (src / "broken.jpg").write_bytes(b"\xff\xd8 not a JPEG after all")
    junit = tmp_path / "junit.xml"
    run = run_movenet("dir", src, "-o", out, "--skip-existing", "-q", "--expect-people", "3", "--junit", junit)
    assert run.returncode == 1, run.stderr
    assert {f["input"]: f["status"] for f in manifest(out)["files"]} == {"broken.jpg": "failed", "person.jpg": "skipped"}
    assert junit_cases(junit) == {"broken.jpg": "error", "person.jpg": "failure"}


# -- two images, one output ------------------------------------------------------------------------


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["plain", "overwrite"])
def test_two_images_writing_the_same_outputs_are_refused(tmp_path, overwrite):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(PERSON_JPG, tmp_path / folder / "p.jpg")
    out = tmp_path / "out"
    result = invoke("image", tmp_path / "a" / "p.jpg", tmp_path / "b" / "p.jpg", "-o", f"{out}/", *overwrite)
    assert result.returncode != 0
    (line,) = error_lines(result)
    assert str(tmp_path / "a" / "p.jpg") in line and str(tmp_path / "b" / "p.jpg") in line
    assert str(out / "p.jpg") in line
    assert not out.exists() or list(out.iterdir()) == []
