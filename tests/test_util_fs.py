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


def test_publication_renames_folders_into_place_whole(tmp_path):
    from movenet_cli.util.fs import Publication, temp_folder_for

    final = tmp_path / "clip_json"
    tmp = temp_folder_for(final)
    assert tmp.parent == tmp_path and tmp.name.startswith(".clip_json.") and tmp.is_dir()
    (tmp / "a.json").write_text("new")
    publication = Publication()
    publication.add(tmp, final)
    publication.publish()
    assert os.listdir(tmp_path) == ["clip_json"] and os.listdir(final) == ["a.json"]
    # replacing a folder replaces it whole: nothing of the old one stays
    tmp = temp_folder_for(final)
    (tmp / "b.json").write_text("newer")
    publication = Publication()
    publication.add(tmp, final)
    publication.publish()
    assert os.listdir(tmp_path) == ["clip_json"] and os.listdir(final) == ["b.json"]


def test_a_publication_that_fails_half_way_puts_everything_back(tmp_path):
    """Files and folders renamed before the failure go again; what they replaced comes back."""
    from movenet_cli.util.fs import Publication, temp_folder_for, temp_path_for

    old_file, old_folder = tmp_path / "a.json", tmp_path / "a_json"
    old_file.write_text("old json")
    old_folder.mkdir()
    (old_folder / "old.json").write_text("old")
    publication = Publication()
    tmp_file = temp_path_for(old_file)
    tmp_file.write_text("new json")
    publication.add(tmp_file, old_file)
    tmp_folder = temp_folder_for(old_folder)
    (tmp_folder / "new.json").write_text("new")
    publication.add(tmp_folder, old_folder)
    new_file = tmp_path / "a.csv"
    tmp_csv = temp_path_for(new_file)
    tmp_csv.write_text("x")
    publication.add(tmp_csv, new_file)
    publication.add(tmp_path / "missing.partial", tmp_path / "a.png")  # its rename fails
    with pytest.raises(FileNotFoundError):
        publication.publish()
    assert sorted(os.listdir(tmp_path)) == ["a.json", "a_json"]
    assert old_file.read_text() == "old json" and os.listdir(old_folder) == ["old.json"]
