"""The CI and script tools end to end on the command line: compare, expectations, JUnit, stdin,
byte-identical reruns, offline mode, and the commands of the CI recipe in examples/ci/."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from ci_runs import box_diagonal, demo_run, edited, read, two_person_frame, write
from helpers import DEMO_CLIP, PERSON_JPG, ROOT, run_movenet
from movenet_cli.models.store import cache_dir

RECIPE = ROOT / "examples" / "ci" / "movenet-smoke.yml"


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    return demo_run(tmp_path_factory, 1)


def test_two_runs_are_byte_identical_and_compare_clean(tmp_path_factory, golden):
    again = demo_run(tmp_path_factory, 2)
    assert golden.read_bytes() == again.read_bytes()
    assert golden.with_suffix(".csv").read_bytes() == again.with_suffix(".csv").read_bytes()
    done = run_movenet("compare", golden, again)
    assert done.returncode == 0 and "OK" in done.stdout.splitlines()[0], done.stdout + done.stderr


def test_compare_fails_on_a_real_regression_naming_it(golden, tmp_path):
    doc = edited(golden)
    n = two_person_frame(doc)
    frame = doc["frames"][n]
    person = frame["people"][0]
    person["keypoints"][5][0] += 0.03 * box_diagonal(person)  # left shoulder, 3% of the diagonal
    del doc["frames"][n + 1]
    moved = write(tmp_path / "moved.json", doc)
    done = run_movenet("compare", golden, moved, "--report", tmp_path / "report.json")
    assert done.returncode == 1, done.stderr
    assert f"frame {frame['index']}, person {person['id']}, left_shoulder: moved" in done.stdout
    assert f"frame {doc['frames'][n]['index'] + 1}: frame missing from ACTUAL" in done.stdout
    report = read(tmp_path / "report.json")
    assert report["schema"] == "movenet-compare/1" and len(report["differences"]) == 2
    assert run_movenet("compare", golden, moved, "--tolerance", "0.031").returncode == 1  # the frame is still missing


def test_video_expectations_exit_3_and_write_outputs(golden, tmp_path):
    """A true expectation passes (see the recipe test); false ones exit 3 with one line each, outputs written."""
    out = tmp_path / "clip.json"
    done = run_movenet("video", DEMO_CLIP, "--no-video", "--json", out, "-q", "--expect-people", "2",
                       "--expect-detected", "1", "--expect-score", "0.9", "--junit", tmp_path / "junit.xml")
    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if "expectation not met" in line]
    assert len(lines) == 1 and "--expect-people 2" in lines[0] and "--expect-score 0.9" in lines[0]
    assert "--expect-detected" not in lines[0]  # every frame has someone
    assert read(out)["frames"] == read(golden)["frames"]
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "1", "0")
    assert suite.find("testcase/failure").get("type") == "expectation"


def test_image_and_dir_expectations_and_junit(tmp_path):
    done = run_movenet("image", PERSON_JPG, "-o", tmp_path / "img", "--expect-people", "2", "-q")
    assert done.returncode == 3 and (tmp_path / "img" / "person.jpg.json").is_file()
    assert "expected at least 2 people per frame" in done.stderr
    footage = tmp_path / "footage"
    footage.mkdir()
    (footage / "person.jpg").write_bytes(PERSON_JPG.read_bytes())
    (footage / "broken.jpg").write_bytes(b"not an image")
    done = run_movenet("dir", footage, "-o", tmp_path / "out", "--expect-people", "1", "--junit",
                       tmp_path / "dir.xml", "-q")
    assert done.returncode == 1  # a failed input outranks expectations
    root = ET.parse(tmp_path / "dir.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "0", "1")
    assert root.find(".//testcase[@name='broken.jpg']/error") is not None


def test_video_from_stdin_gives_the_file_s_keypoints(golden, tmp_path):
    out = tmp_path / "piped.json"
    with open(DEMO_CLIP, "rb") as clip:
        done = subprocess.run([sys.executable, "-m", "movenet_cli", "video", "-", "--no-video", "--json", str(out),
                               "-q"], stdin=clip, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    piped, direct = read(out), read(golden)
    assert piped["frames"] == direct["frames"] and piped["source"]["path"] == "-"
    empty = subprocess.run([sys.executable, "-m", "movenet_cli", "video", "-", "--no-video", "--json",
                            str(tmp_path / "e.json")], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert empty.returncode == 1 and empty.stderr.strip().count("\n") == 0 and "stdin held no data" in empty.stderr


def test_offline_fails_in_one_line_without_a_cached_model(tmp_path):
    env = {"MOVENET_HOME": str(tmp_path / "empty-cache"), "MOVENET_OFFLINE": "1", "MOVENET_HUB_BASE": "http://192.0.2.1"}
    done = run_movenet("image", PERSON_JPG, "-o", tmp_path / "p.jpg", env=env)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "MOVENET_OFFLINE=1 forbids fetching" in done.stderr and not (tmp_path / "p.json").exists()


def _recipe_commands() -> list[str]:
    """The shell commands of the recipe's run steps, less installing (the tests run the checkout)."""
    text = RECIPE.read_text()
    blocks = re.findall(r"run: \|\n((?:          .*\n)+)|run: (.*)\n", text)
    commands = [(block or line).replace("\\\n", " ") for block, line in blocks]
    return [c for c in commands if "pip install" not in c and "GITHUB_OUTPUT" not in c]


def test_the_ci_recipe_commands_pass(tmp_path):
    """What examples/ci/movenet-smoke.yml runs, in a copy of the checkout's files it reads, with the
    installed command; the golden file it compares with must still hold."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "movenet"
    shim.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m movenet_cli \"$@\"\n")
    shim.chmod(0o755)
    work = tmp_path / "work"
    for rel in ("sample_media/demo_clip.mp4", "examples/ci/golden/demo_clip.json"):
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_bytes((ROOT / rel).read_bytes())
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.setdefault("MOVENET_HOME", str(cache_dir()))  # the workflow sets it; here, the cache the suite uses
    commands = _recipe_commands()
    assert any("MOVENET_OFFLINE=1 movenet video" in c for c in commands)
    assert any("movenet compare" in c for c in commands)
    for command in commands:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=work, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    for name in ("movenet-video.xml", "movenet-compare.xml"):
        root = ET.parse(work / "reports" / name).getroot()
        assert root.get("failures") == "0" and root.get("errors") == "0" and root.get("tests") == "1"
