"""util/fs.py: atomic writes leave nothing half-written under the final name."""

from __future__ import annotations

import os

import pytest

from movenet_cli.util.fs import atomic_path, atomic_write


def test_atomic_write_leaves_nothing_on_exception(tmp_path):
    target = tmp_path / "result.json"
    with pytest.raises(KeyError):
        with atomic_write(target) as fh:
            fh.write("{half")
            raise KeyError("boom")
    assert os.listdir(tmp_path) == []

    target.write_text("old")
    with pytest.raises(KeyError):
        with atomic_write(target, "wb") as fh:
            fh.write(b"new")
            raise KeyError("boom")
    assert os.listdir(tmp_path) == ["result.json"] and target.read_text() == "old"

    with atomic_write(target) as fh:
        fh.write("new")
    assert os.listdir(tmp_path) == ["result.json"] and target.read_text() == "new"

    with pytest.raises(ValueError):
        with atomic_path(tmp_path / "a.png") as tmp:
            tmp.write_bytes(b"x")
            raise ValueError
    assert os.listdir(tmp_path) == ["result.json"]
