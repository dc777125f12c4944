"""`movenet video URL`: the sample clip served over http from this machine (never the real network),
and servers that refuse or never answer."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from helpers import DEMO_CLIP, SAMPLES, run_movenet
from movenet_cli.errors import MediaError
from movenet_cli.media import count_frames, iter_frames, probe_video
from movenet_cli.media.url import display_url, input_args, is_url
from movenet_cli.pipeline import Outputs, process_video

SERVE_AT_MOST_S = 120  # the server stops by itself after this, whatever the tests do


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(SAMPLES), **kwargs)

    def log_message(self, *args):
        pass


@contextmanager
def _served():
    """The sample folder on http://127.0.0.1:PORT/, in a thread, for the block (or SERVE_AT_MOST_S)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    timer = threading.Timer(SERVE_AT_MOST_S, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        timer.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def served():
    with _served() as base:
        yield base


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_url_helpers():
    assert is_url("http://h/x.mp4") and is_url("HTTPS://h/x") and is_url("rtsp://cam:554/live")
    assert not is_url("clip.mp4") and not is_url(Path("http://h/x")) and not is_url("file:///x.mp4")
    assert input_args("http://h/x", 15) == ["-rw_timeout", "15000000"]
    assert input_args("rtsp://h/x", 0.5) == ["-timeout", "500000"]
    assert display_url("rtsp://me:secret@cam/live") == "rtsp://me:***@cam/live"
    assert display_url("http://h/x.mp4") == "http://h/x.mp4"


def test_a_served_clip_gives_the_keypoints_and_times_of_the_file(served, estimators, tmp_path):
    est = estimators("multipose")
    url = served + DEMO_CLIP.name
    info = probe_video(url, url_timeout=10)
    assert (info.width, info.height, info.frame_count) == (960, 540, 90) and info.has_audio
    warned: list[str] = []
    by_file, by_url = tmp_path / "file.json", tmp_path / "url.json"
    process_video(est, DEMO_CLIP, Outputs(None, by_file, None), progress=False)
    stats = process_video(est, url, Outputs(None, by_url, None), progress=False, warn=warned.append)
    assert stats.complete and stats.frames == 90
    a, b = json.loads(by_file.read_text()), json.loads(by_url.read_text())
    assert b["source"]["path"] == url and b["complete"] is True
    assert [f["time"] for f in b["frames"]] == [f["time"] for f in a["frames"]]  # from the decoder's own pts
    assert [f["index"] for f in b["frames"]] == list(range(90))
    assert [f["people"] for f in b["frames"]] == [f["people"] for f in a["frames"]]
    assert len(warned) == 1 and "frame times come from the decoder's own timestamps" in warned[0]
    # A start seek over http keeps the file's indices and times.
    seek = [(f.index, round(f.time, 6)) for f in iter_frames(url, start=2.0, end=2.2)]
    assert seek == [(i, round(i / 30, 6)) for i in range(60, 66)]
    with pytest.raises(MediaError, match="cannot count the frames of a URL"):
        count_frames(url)


def test_cli_video_url_warns_what_it_leaves_out(served, tmp_path):
    out = tmp_path / "clip.mp4"
    r = run_movenet("video", served + DEMO_CLIP.name, "-o", out, "--end", "0.5", "-q")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert any("no audio (audio is not copied from a URL)" in line for line in lines), r.stderr
    assert all(line.startswith("movenet: warning: ") for line in lines), r.stderr
    written = probe_video(out)
    assert not written.has_audio and written.frame_count == 15
    assert json.loads(out.with_suffix(".json").read_text())["source"]["path"] == served + DEMO_CLIP.name
    missing = run_movenet("video", served + "nothing.mp4", "--no-video", "--json", tmp_path / "n.json")
    assert missing.returncode == 1 and "404" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1


def test_unreachable_url_fails_in_one_line_within_the_timeout(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/clip.mp4"
    started = time.monotonic()
    r = run_movenet("video", url, "-o", tmp_path / "out.mp4", "--url-timeout", "5")
    assert time.monotonic() - started < 30  # starting Python and the model, not waiting on the port
    assert r.returncode == 1
    assert r.stderr.strip() == f"movenet: error: {url}: could not connect (connection refused); " \
                               "check the address and that the server runs"
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_never_answers_times_out():
    with socket.socket() as silent:  # accepts connections (the kernel does), never sends a byte
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        for url in (f"http://127.0.0.1:{port}/clip.mp4", f"rtsp://user:pw@127.0.0.1:{port}/live"):
            started = time.monotonic()
            with pytest.raises(MediaError, match=r"timed out after 1 s waiting for the server") as caught:
                probe_video(url, url_timeout=1.0)
            assert time.monotonic() - started < 10
            assert "pw" not in str(caught.value)
