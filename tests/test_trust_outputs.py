"""No lost file, no silent wrong answer: what a command writes is one set, checked before any work.

Each refusal asserts the exact exit code, one error line naming the file or option, no
traceback, nothing new anywhere in the folder, and every file that was there byte-identical
afterwards. The cases: outputs that name one file (options of one command, links, ``..``,
the run manifest, a file inside an export folder, an input), files the report did not make,
JUnit reports for inputs that fail early, ``-`` for an output, a dangling link in a folder
run, a closed stdout, and TensorFlow's log lines during the first conversion of a model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from helpers import DEMO_CLIP, PERSON_JPG, movenet_command, run_movenet
from movenet_cli.util.fs import sha256_file


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry below ``folder`` (hidden ones and folders included): a file's SHA-256, else its kind."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            entries[rel] = "link to " + os.readlink(path)
        elif path.is_file():
            entries[rel] = sha256_file(path)
        else:
            entries[rel] = "folder"
    return entries


def refused(result, code: int, *words: str) -> str:
    """The command exited ``code`` with one error line holding every one of ``words``, no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(("movenet:", "Error:"))]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def work(tmp_path):
    """A folder holding a file of the user's, a JSON result and a link to another name."""
    (tmp_path / "keep.txt").write_text("the user's notes\n")
    (tmp_path / "link.json").symlink_to(tmp_path / "target.xml")
    return tmp_path


@pytest.fixture(scope="module")
def result_json(tmp_path_factory) -> Path:
    """A movenet/1 result of 0.3 s of the sample clip."""
    out = tmp_path_factory.mktemp("result") / "clip.json"
    done = run_movenet("video", DEMO_CLIP, "--no-video", "--json", out, "--end", "0.3", "-q")
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A finished ``dir --report`` run over one photo and footage with a ``report_files`` sub-folder."""
    base = tmp_path_factory.mktemp("run")
    src = base / "in"
    (src / "report_files").mkdir(parents=True)
    shutil.copy(PERSON_JPG, src / "a.jpg")
    shutil.copy(PERSON_JPG, src / "report_files" / "shot.jpg")
    done = run_movenet("dir", src, "-o", base / "out", "--report", "-q")
    assert done.returncode == 0, done.stderr
    return base


def copy_run(finished_run: Path, tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(finished_run, tmp_path / "run", symlinks=True)
    # The manifest names the input folder: point the copy at its own.
    manifest = tmp_path / "run" / "out" / "movenet-run.json"
    doc = json.loads(manifest.read_text())
    doc["input_dir"] = str(tmp_path / "run" / "in")
    manifest.write_text(json.dumps(doc, indent=2))
    return tmp_path / "run" / "in", tmp_path / "run" / "out"


# -- 1. outputs that collide, checked as one set -----------------------------------------------


@pytest.mark.parametrize("args, code, words", [
    (["--json", "{d}/a.html", "--report", "{d}/a.html"], 2, ["two outputs", "--json", "--report"]),
    (["--json", "{d}/a.json", "--junit", "{d}/a.json"], 2, ["two outputs", "--json", "--junit"]),
    (["--json", "{d}/a.json", "--jsonl", "{d}/a.json"], 2, ["two outputs", "--jsonl"]),
    (["--json", "{d}/a.json", "--csv", "{d}/sub/../a.json"], 2, ["two outputs", "--csv"]),
    (["--json", "{d}/a.json", "--junit", "{d}/link.json", "--csv", "{d}/target.xml"], 2, ["two outputs", "--junit"]),
    (["--json", "{d}/c.json", "--csv", "{d}/c_json", "--format", "openpose"], 2,
     ["two outputs", "--csv", "--format openpose"]),
    (["--json", "{d}/c.json", "--plot", "{d}/c_trc/p.png", "--format", "trc"], 2, ["--plot", "inside", "--format trc"]),
    (["--json", "{d}/r_files/.movenet-report.json", "--report", "{d}/r.html"], 2, ["two outputs", "pictures listing"]),
    (["--json", "{d}/a.json", "--junit", "{d}/keep.txt"], 1, ["keep.txt", "already exists", "--junit"]),
    (["--json", "{d}/a.json", "--report", "{d}/keep.html"], 1, ["keep.html", "already exists", "--report"]),
    (["--json", "{d}/a.json", "--junit", "{d}/clip.mp4"], 1, ["--junit", "its input"]),
], ids=["json-report", "json-junit", "json-jsonl", "dotdot", "link-junit", "csv-export-folder", "plot-in-export",
        "report-listing", "junit-user-file", "report-user-page", "junit-input"])
def test_video_outputs_are_one_set(work, args, code, words):
    (work / "keep.html").write_text("<html><title>my page</title></html>\n")
    shutil.copy(DEMO_CLIP, work / "clip.mp4")  # the input may be the target: never the sample itself
    before = snapshot(work)
    result = run_movenet("video", work / "clip.mp4", "--no-video", "--end", "0.2", *[a.format(d=work) for a in args])
    refused(result, code, *words)
    assert snapshot(work) == before


def test_image_outputs_and_junit_are_one_set(work):
    (work / "a").mkdir()
    (work / "a" / "person.jpg").symlink_to(PERSON_JPG)
    before = snapshot(work)
    result = run_movenet("image", PERSON_JPG, work / "a" / "person.jpg", "-o", work / "out")
    refused(result, 1, "would both write", "out/person.jpg")  # two inputs of one name, one output folder
    refused(run_movenet("image", PERSON_JPG, PERSON_JPG, "-o", work / "out"), 2, "given twice")
    result = run_movenet("image", PERSON_JPG, work / "a" / "person.jpg", "-o", work / "out", "--junit",
                         work / "out" / "person.jpg.json")
    refused(result, 1, "would both write")
    result = run_movenet("image", PERSON_JPG, "-o", work / "p.jpg", "--csv", "--junit", work / "p.csv")
    refused(result, 2, "two outputs", "--junit")
    assert snapshot(work) == before


def test_compare_never_writes_over_its_input(work, result_json):
    golden, actual = work / "golden.json", work / "actual.json"
    shutil.copy(result_json, golden)
    shutil.copy(result_json, actual)
    (work / "runs").mkdir()
    shutil.copy(result_json, work / "runs" / "clip.json")
    before = snapshot(work)
    refused(run_movenet("compare", golden, actual, "--report", actual), 1, "--report", "its input")
    refused(run_movenet("compare", golden, actual, "--junit", golden), 1, "--junit", "its input")
    refused(run_movenet("compare", golden, actual, "--report", work / "x.json", "--junit", work / "x.json"), 2,
            "two outputs")
    refused(run_movenet("compare", golden, actual, "--report", work / "keep.txt"), 1, "keep.txt", "already exists")
    refused(run_movenet("compare", work / "runs", work / "runs", "--report", work / "runs" / "diff.json"), 2,
            "inside the input folder")
    assert snapshot(work) == before
    # An earlier report of compare's own is replaced, as CI reruns need.
    for _ in range(2):
        done = run_movenet("compare", golden, actual, "--report", work / "diff.json", "--junit", work / "j.xml", "-q")
        assert done.returncode == 0, done.stderr


def test_dir_junit_cannot_replace_the_manifest_or_an_output(finished_run, tmp_path):
    src, out = copy_run(finished_run, tmp_path)
    before = snapshot(tmp_path)
    for junit, words in ((out / "movenet-run.json", ["the run manifest", "--junit"]),
                         (out / "a.jpg.json", ["two outputs", "--junit"]),
                         (out / "report.html", ["two outputs", "--report", "--junit"])):
        result = run_movenet("dir", src, "-o", out, "--skip-existing", "--report", "--junit", junit)
        refused(result, 2, *words)
        assert snapshot(tmp_path) == before
    done = run_movenet("report", out)  # the manifest is intact
    assert done.returncode == 0, done.stderr


def test_report_removes_only_its_own_pictures(finished_run, tmp_path):
    """Footage with a report_files/ sub-folder: its outputs share the report's picture folder."""
    src, out = copy_run(finished_run, tmp_path)
    pictures = out / "report_files"
    (pictures / "mine.jpg").write_bytes(PERSON_JPG.read_bytes())  # a file of the user's
    listing = json.loads((pictures / ".movenet-report.json").read_text())
    (pictures / "old-1234abcd-f0.jpg").write_bytes(b"an earlier report's picture")
    listing["pictures"].append("old-1234abcd-f0.jpg")
    (pictures / ".movenet-report.json").write_text(json.dumps(listing))
    theirs = {name: digest for name, digest in snapshot(out).items()
              if name.startswith("report_files/shot.jpg") or name == "report_files/mine.jpg"}
    assert len(theirs) == 3  # the annotated shot.jpg, its JSON, the user's mine.jpg
    done = run_movenet("report", out)
    assert done.returncode == 0, done.stderr
    after = snapshot(out)
    assert {name: after.get(name) for name in theirs} == theirs
    assert "report_files/old-1234abcd-f0.jpg" not in after
    assert len([n for n in after if n.startswith("report_files/") and "-f0.jpg" in n]) == 2


def test_report_page_checked_against_what_it_reads(finished_run, tmp_path):
    src, out = copy_run(finished_run, tmp_path)
    (out / "notes.html").write_text("<html>mine</html>\n")
    before = snapshot(tmp_path)
    refused(run_movenet("report", out, "-o", out / "notes.html"), 1, "notes.html", "already exists")
    refused(run_movenet("report", out, "-o", src / "r.html"), 2, "inside the input folder")
    refused(run_movenet("report", out, "-o", out / "movenet-run.json"), 2, "must end in .html")
    assert snapshot(tmp_path) == before


# -- 8. a JUnit report however early the run stops --------------------------------------------


def junit_cases(path: Path) -> list[tuple[str, str, str]]:
    """(name, outcome, message) of every testcase."""
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        child = next(iter(case), None)
        cases.append((case.get("name"), child.tag if child is not None else "passed",
                      child.get("message") if child is not None else ""))
    return cases


def test_junit_when_stdin_is_empty(tmp_path):
    with open(os.devnull, "rb") as empty:
        result = subprocess.run(movenet_command("video", "-", "--no-video", "--json", tmp_path / "o.json",
                                                "--junit", tmp_path / "j.xml"),
                                stdin=empty, capture_output=True, text=True, timeout=120)
    refused(result, 1, "stdin")
    [(name, outcome, message)] = junit_cases(tmp_path / "j.xml")
    assert (name, outcome) == ("-", "error") and "stdin" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.xml"]


def test_junit_when_one_image_is_missing(tmp_path):
    missing = tmp_path / "missing.jpg"
    result = run_movenet("image", PERSON_JPG, missing, "-o", tmp_path / "out", "--junit", tmp_path / "j.xml")
    refused(result, 1, "missing.jpg", "no such file")
    cases = junit_cases(tmp_path / "j.xml")
    assert [(n, o) for n, o, _ in cases] == [(str(PERSON_JPG), "skipped"), (str(missing), "error")]
    assert "no such file" in cases[1][2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.xml"]


@pytest.mark.parametrize("command, code, words", [
    (["video", "{d}/missing.mp4", "-o", "{d}/o.mp4"], 1, ["missing.mp4", "no such file"]),
    (["dir", "{d}/missing", "-o", "{d}/out"], 2, ["missing", "no such folder"]),
    (["compare", "{d}/missing.json", str(DEMO_CLIP)], 1, ["missing.json"]),
    (["video", str(DEMO_CLIP), "-o", "{d}/o.mp4", "--json", "{d}/o.mp4"], 2, ["two outputs"]),
    (["image", str(PERSON_JPG), "-o", "-"], 2, ["- is not a file here"]),
], ids=["video-missing", "dir-missing", "compare-missing", "video-collision", "image-usage"])
def test_junit_for_every_early_failure(tmp_path, command, code, words):
    args = [a.format(d=tmp_path) for a in command]
    result = run_movenet(*args, "--junit", tmp_path / "j.xml", cwd=tmp_path)
    refused(result, code, *words)
    cases = junit_cases(tmp_path / "j.xml")
    assert len(cases) == 1 and cases[0][1] == "error" and words[0] in cases[0][2], cases
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.xml"]


def test_no_junit_when_the_junit_path_is_the_problem(work):
    before = snapshot(work)
    refused(run_movenet("video", "missing.mp4", "-o", work / "o.mp4", "--junit", work / "keep.txt"), 1, "missing.mp4")
    assert snapshot(work) == before


# -- 11. smaller surprises ----------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["video", str(DEMO_CLIP), "--no-video", "--json", "-"],
    ["video", str(DEMO_CLIP), "--no-video", "--csv", "-"],
    ["video", str(DEMO_CLIP), "--no-video", "--json", "o.json", "--junit", "-"],
    ["image", str(PERSON_JPG), "-o", "-"],
    ["compare", "{r}", "{r}", "--report", "-"],
    ["angles", "{r}", "-o", "-"],
    ["eval", "gt.json", ".", "--save-predictions", "-"],
    ["dir", ".", "-o", "-"],
], ids=["json", "csv", "junit", "image-output", "compare-report", "angles", "eval", "dir-output"])
def test_dash_is_stdout_only_for_jsonl(tmp_path, result_json, args):
    (tmp_path / "gt.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": []}))
    before = snapshot(tmp_path)
    result = run_movenet(*[a.format(r=result_json) for a in args], cwd=tmp_path)
    refused(result, 2, "- is not a file here")
    assert snapshot(tmp_path) == before


def test_a_dangling_link_in_a_folder_fails(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(PERSON_JPG, src / "a.jpg")
    (src / "clip.mp4").symlink_to(tmp_path / "gone.mp4")
    result = run_movenet("dir", src, "-o", tmp_path / "out", "-q")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "1 done, 1 failed" in result.stderr and "clip.mp4: a link to" in result.stderr
    files = {f["input"]: f for f in json.loads((tmp_path / "out" / "movenet-run.json").read_text())["files"]}
    assert files["clip.mp4"]["status"] == "failed" and "does not exist" in files["clip.mp4"]["reason"]
    assert not any(p.name.startswith("clip.mp4") for p in (tmp_path / "out").iterdir())


def test_a_closed_stdout_ends_quietly(result_json):
    """`movenet compare ... | head -1`: the reader has gone before the summary is printed."""
    child = subprocess.Popen(movenet_command("compare", result_json, result_json), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    child.stdout.close()
    _, err = child.communicate(timeout=120)
    assert child.returncode == 141, err
    assert err == "", err


def test_first_conversion_prints_no_tensorflow_log(store, tmp_path):
    """A fresh cache holding the SavedModel only: the first run converts it to TFLite, quietly."""
    home = tmp_path / "home"
    entry = home / "lightning"
    shutil.copytree(store.entry("lightning") / "saved_model", entry / "saved_model")
    manifest = json.loads((store.entry("lightning") / "manifest.json").read_text())
    manifest["files"] = {k: v for k, v in manifest["files"].items() if k.startswith("saved_model/")}
    (entry / "manifest.json").write_text(json.dumps(manifest, indent=2))
    result = run_movenet("image", PERSON_JPG, "-m", "lightning", "--accuracy", "standard", "-o", tmp_path / "p.jpg",
                         env={"MOVENET_HOME": str(home), "MOVENET_OFFLINE": "1"}, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (entry / "model.tflite").is_file()
    lines = result.stderr.splitlines()
    assert lines[0] == "Converting model 'lightning' to TFLite (once per machine) ...", lines
    assert lines[1:] == [f"{PERSON_JPG}: 1 person -> {tmp_path / 'p.jpg'}, {tmp_path / 'p.json'}"], lines


# -- the set itself, on synthetic paths --------------------------------------------------------


def test_names_that_differ_in_case_collide_where_the_folder_ignores_case(tmp_path, monkeypatch):
    from movenet_cli.pipeline import outputs
    from movenet_cli.pipeline.outputs import CollisionError, WriteSet

    writes = WriteSet()
    writes.add(tmp_path / "Clip.json", "--json")
    writes.add(tmp_path / "clip.json", "--junit")
    writes.check(overwrite=False)  # this folder tells case apart: two files
    monkeypatch.setattr(outputs, "_ignores_case", lambda folder: True)
    with pytest.raises(CollisionError, match=r"two outputs \(--json and --junit\)"):
        writes.check(overwrite=False)


def test_an_earlier_report_of_ours_is_rebuilt_another_file_is_not(tmp_path):
    from movenet_cli.pipeline.outputs import ExistingOutput, WriteSet
    from movenet_cli.results.junit import JUnitSuite, write_junit

    write_junit(tmp_path / "ours.xml", [JUnitSuite("movenet video", [])])
    (tmp_path / "theirs.xml").write_text("<testsuites name='pytest'/>\n")
    for name, allowed in (("ours.xml", True), ("theirs.xml", False)):
        writes = WriteSet()
        writes.add(tmp_path / name, "--junit", rebuilds="junit")
        if allowed:
            writes.check(overwrite=False)
        else:
            with pytest.raises(ExistingOutput, match="not an earlier JUnit report"):
                writes.check(overwrite=False)
        writes.check(overwrite=True)
