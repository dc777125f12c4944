"""The commands' parsing, messages and exit codes, run in-process (Click's runner): one error
line naming the file and the reason, no traceback, nothing written."""

from __future__ import annotations

import shutil

from helpers import PERSON_JPG, assert_ok, assert_one_line, invoke

_ok = assert_ok


def _one_line_error(result, code, *needles):
    return assert_one_line(result, code, *needles)


def test_errors_are_one_line(tmp_path):
    _one_line_error(invoke("video", tmp_path / "missing.mp4", "-o", tmp_path / "o.mp4"), 1, "missing.mp4")
    _one_line_error(invoke("video", tmp_path, "-o", tmp_path / "o.mp4"), 1, str(tmp_path))
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    _one_line_error(invoke("image", bad, "-o", tmp_path / "bad_out.jpg"), 1, "bad.jpg")
    assert not (tmp_path / "bad_out.jpg").exists() and not (tmp_path / "bad_out.json").exists()


def test_existing_outputs_are_kept_unless_overwrite(tmp_path):
    target = tmp_path / "p.jpg"
    target.write_bytes(b"precious")
    _one_line_error(invoke("image", PERSON_JPG, "-o", target), 1, "p.jpg", "--overwrite")
    assert target.read_bytes() == b"precious"
    _ok(invoke("image", PERSON_JPG, "-o", target, "--overwrite", "-q"))
    assert target.read_bytes() != b"precious"
    same = tmp_path / "in.jpg"
    shutil.copy(PERSON_JPG, same)
    _one_line_error(invoke("image", same, "-o", same, "--overwrite"), 1, "in.jpg")


def test_models_commands(store):
    listing = _ok(invoke("models", "list")).stdout
    for name in ("lightning", "thunder", "multipose"):
        assert name in listing
    path = _ok(invoke("models", "path", "thunder")).stdout.strip()
    assert path == str(store.path("thunder"))
    assert "Usage" in invoke("--help").stdout
