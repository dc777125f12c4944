"""Publishing an input's outputs all or nothing, and the folder-run lock, on real files."""

from __future__ import annotations

import os
import re
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


# -- temporary names, leftovers, reading and hashing ------------------------------------------------


def test_temporary_names_are_hidden_beside_the_file_and_keep_its_suffix(tmp_path):
    from movenet_cli.util.fs import temp_path_for

    tmp = temp_path_for(tmp_path / "clip.mp4")
    assert tmp.parent == tmp_path and tmp.suffix == ".mp4"
    assert re.fullmatch(r"\.clip\.[0-9a-f]{8}\.partial\.mp4", tmp.name)
    assert re.fullmatch(r"\.clip\.[0-9a-f]{8}\.partial-audio\.mp4", temp_path_for(tmp_path / "clip.mp4", "partial-audio").name)
    assert temp_path_for(tmp_path / "clip.mp4") != tmp
    long = tmp_path / ("é" * 200 + ".json")  # 400 bytes of name
    name = temp_path_for(long, "partial-audio").name
    assert len(name.encode()) <= 255 and name.endswith(".partial-audio.json") and name.startswith(".é")
    fits = "a" * (255 - len("..00000000.partial-audio.json"))
    assert temp_path_for(tmp_path / f"{fits}.json").name.startswith(f".{fits}.")


def test_leftovers_of_a_killed_write_are_removed_and_nothing_else(tmp_path):
    from movenet_cli.util.fs import remove_partials

    final = tmp_path / "a [1].json"
    keep = ["a [1].json", ".a [1].json.bak", ".a [1].12345678.partial.csv", ".b.12345678.partial.json",
            ".a [1].1234567.partial.json", ".a [1].12345678.partial-.json"]
    gone = [".a [1].0123abcd.partial.json", ".a [1].0123abcd.partial-audio.json", ".a [1].ffffffff.partial-old.json"]
    for name in keep + gone:
        (tmp_path / name).write_text("x")
    remove_partials(final)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)
    remove_partials(tmp_path / "missing" / "x.json")  # no folder: nothing to do


def test_atomic_write_text_binary_and_refused_modes(tmp_path):
    from movenet_cli.util.fs import atomic_write, write_json_atomic

    with atomic_write(tmp_path / "t.txt") as fh:
        fh.write("é\n")
    assert (tmp_path / "t.txt").read_bytes() == "é\n".encode("utf-8")
    with atomic_write(tmp_path / "b.bin", "wb") as fh:
        fh.write(b"\x00\xff")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    with atomic_write(tmp_path / "n.csv", newline="") as fh:
        fh.write("a\r\n")
    assert (tmp_path / "n.csv").read_bytes() == b"a\r\n"
    assert oct((tmp_path / "t.txt").stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    for mode in ("a", "x", "r", "w+"):
        with pytest.raises(ValueError, match="modes 'w' and 'wb'"):
            with atomic_write(tmp_path / "m", mode):
                pass
    with pytest.raises(ValueError, match="only valid in text mode"):
        with atomic_write(tmp_path / "m", "wb", encoding="utf-8"):
            pass
    write_json_atomic(tmp_path / "d.json", {"a": [1, 2]})
    assert (tmp_path / "d.json").read_text() == '{\n  "a": [\n    1,\n    2\n  ]\n}\n'
    write_json_atomic(tmp_path / "c.json", {"a": 1}, indent=None)
    assert (tmp_path / "c.json").read_text() == '{"a": 1}\n'
    with pytest.raises(ValueError):
        write_json_atomic(tmp_path / "nan.json", {"a": float("nan")})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin", "c.json", "d.json", "n.csv", "t.txt"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_read_json_names_the_file_and_what_is_wrong(tmp_path):
    from movenet_cli.util.fs import read_json

    class Wrong(MovenetError):
        pass

    (tmp_path / "ok.json").write_text('{"a": 1}')
    assert read_json(tmp_path / "ok.json") == {"a": 1}
    with pytest.raises(Wrong, match=r"^.*missing\.json: no such file$"):
        read_json(tmp_path / "missing.json", Wrong)
    with pytest.raises(MovenetError, match=r"missing\.json: no such file \(run it first\)$"):
        read_json(tmp_path / "missing.json", missing="run it first")
    (tmp_path / "bad.json").write_text('{"a": 1,\n}')
    with pytest.raises(Wrong, match=r"bad\.json: not JSON \(.+ at line 2\)$"):
        read_json(tmp_path / "bad.json", Wrong)
    (tmp_path / "latin.json").write_bytes(b'"\xe9"')
    with pytest.raises(Wrong, match=r"latin\.json: cannot be read \("):
        read_json(tmp_path / "latin.json", Wrong)


def test_hashes_of_a_file_and_a_tree(tmp_path):
    import hashlib

    from movenet_cli.util.fs import hash_tree, sha256_file

    (tmp_path / "sub").mkdir()
    (tmp_path / "a.bin").write_bytes(b"x" * 3000)
    (tmp_path / "sub" / "b.txt").write_text("b")
    (tmp_path / "manifest.json").write_text("{}")
    assert sha256_file(tmp_path / "a.bin", chunk=1024) == hashlib.sha256(b"x" * 3000).hexdigest()
    assert hash_tree(tmp_path) == {"a.bin": hashlib.sha256(b"x" * 3000).hexdigest(),
                                   "sub/b.txt": hashlib.sha256(b"b").hexdigest()}


def test_the_lock_file_names_its_holder_and_goes_with_the_run(tmp_path):
    import socket

    lock = tmp_path / ".lock"
    with run_lock(lock, what="busy"):
        assert lock.read_text() == f"pid {os.getpid()} on {socket.gethostname()}"
    assert not lock.exists()


def test_a_file_replaced_by_a_successful_publication_leaves_no_second_name(tmp_path):
    final = tmp_path / "a.json"
    final.write_text("old")
    other = tmp_path / "b.json"
    other.write_text("old b")
    publication = Publication()
    publication.add(_finished(final, "new"), final)
    publication.add(_finished(other, "new b"), other)
    publication.publish()
    assert _listing(tmp_path) == {"a.json": b"new", "b.json": b"new b"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_a_file_already_at_its_final_path_does_not_stop_the_others(tmp_path):
    there = tmp_path / "a.json"
    there.write_text("written in place")
    later = tmp_path / "b.json"
    publication = Publication()
    publication.add(there, there)
    publication.add(_finished(later, "new b"), later)
    publication.publish()
    assert _listing(tmp_path) == {"a.json": b"written in place", "b.json": b"new b"}
