"""Publishing an input's outputs all or nothing, and the folder-run lock, on real files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from movenet_cli.errors import MovenetError
from movenet_cli.util.fs import Publication, run_lock, temp_path_for


def _finished(final, text: str):
    """A file finished under its temporary name beside ``final``."""
    tmp = temp_path_for(final)
    tmp.write_bytes(text.encode())
    return tmp


def _listing(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("failing", [1, 2])
def test_a_publication_that_fails_half_way_puts_back_what_was_there(tmp_path, failing):
    out = tmp_path / "out"
    out.mkdir()
    names = ["a.json", "b.csv", "c.jsonl", "d.png"]
    finals = [out / name for name in names]
    finals[0].write_bytes(b"the user's a.json \x00\xff")  # there before: overwritten by the run, so kept
    finals[3].write_bytes(b"the user's d.png")
    blocker = finals[failing]  # an entry the rename cannot replace: a folder with a file in it
    blocker.mkdir()
    (blocker / "keep").write_text("x")
    before = _listing(out)
    publication = Publication()
    for final in finals:
        publication.add(_finished(final, f"new {final.name}"), final)
    with pytest.raises(OSError):
        publication.publish()
    assert _listing(out) == before  # nothing new at a final path, the old files byte-identical
    assert sorted(p.name for p in out.iterdir()) == sorted([*before, blocker.name])  # no temporary file left
    assert (blocker / "keep").read_text() == "x"


def test_a_publication_that_succeeds_replaces_every_file_and_leaves_no_temporary_one(tmp_path):
    finals = [tmp_path / "a.json", tmp_path / "b.csv"]
    finals[0].write_text("old")
    publication = Publication()
    for final in finals:
        publication.add(_finished(final, f"new {final.name}"), final)
    publication.publish()
    assert _listing(tmp_path) == {"a.json": b"new a.json", "b.csv": b"new b.csv"}


def test_a_discarded_publication_leaves_the_old_files(tmp_path):
    final = tmp_path / "a.json"
    final.write_text("old")
    publication = Publication()
    publication.add(_finished(final, "new"), final)
    publication.discard()
    assert _listing(tmp_path) == {"a.json": b"old"}


# -- the folder-run lock ---------------------------------------------------------------------------

HOLDER = textwrap.dedent("""
    import sys, time
    from movenet_cli.util.fs import run_lock
    with run_lock(sys.argv[1], what="busy"):
        print("held", flush=True)
        sys.stdin.read()
""")


def test_the_run_lock_is_exclusive_between_processes(tmp_path):
    lock = tmp_path / ".movenet-run.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(MovenetError, match=rf"^busy \(pid {holder.pid} on .+\); wait for it to finish"):
            with run_lock(lock, what="busy"):
                pytest.fail("a second holder got the lock")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert holder.returncode == 0
    with run_lock(lock, what="busy"):  # free again once the holder has gone
        assert lock.exists()
    assert not lock.exists()


def test_the_run_lock_is_exclusive_within_one_process(tmp_path):
    lock = tmp_path / ".movenet-run.lock"
    with run_lock(lock, what="busy"):
        with pytest.raises(MovenetError, match="busy"):
            with run_lock(lock, what="busy"):
                pass
