"""Buckets at scale, against moto's S3 server: listing 100,000 keys, planning them, resuming a run of
100,000 finished inputs, and a clip staged against the same clip streamed from a presigned URL.

    python bench/storage.py                 # 100,000 inputs (about a minute to fill the server)
    python bench/storage.py --count 20000

The server runs in a child process; it is filled through moto's own backend (no HTTP), then everything
measured goes over HTTP through s3fs, as a run does. The finished outputs are made synthetically (an
annotated image and its JSON per input, as `dir --no-video` writes for an image): no model runs. The
resume is the real command, `movenet dir s3://bench/in -o s3://bench/out --skip-existing --no-video`,
timed from start to exit (Python and TensorFlow start-up included).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT / "sample_media" / "demo_clip.mp4"


def _key(i: int) -> str:
    return f"d{i // 1000:03d}/img{i:06d}.jpg"


def serve(port: int, count: int) -> None:
    """The child: fill moto's backend directly, then serve it over HTTP."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket("bench", "us-east-1")
    for i in range(count):
        key = _key(i)
        backend.put_object("bench", f"in/{key}", b"jpeg")
        backend.put_object("bench", f"out/{key}", b"annotated")
        backend.put_object("bench", f"out/{key}.json", b"{}")
    server = ThreadedMotoServer("127.0.0.1", port, verbose=False)
    server.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _timed(label: str, fn):
    started = time.perf_counter()
    value = fn()
    print(f"{label:<58} {time.perf_counter() - started:8.2f} s", flush=True)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.count)
    port = _free_port()
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="bench",
               AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1", PYTHONPATH=str(ROOT))
    os.environ.update(env)
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--count", str(args.count)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready", "the server did not start"
        print(f"moto server filled with {args.count} inputs and {2 * args.count} outputs in "
              f"{time.perf_counter() - started:.1f} s (not a measurement)")
        _measure(args.count, env)
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _measure(count: int, env: dict) -> None:
    sys.path.insert(0, str(ROOT))
    from movenet_cli.run.remote import plan_listing
    from movenet_cli.storage import Store

    listing = _timed(f"list s3://bench/in ({count} keys, one listing)", Store("s3://bench/in").listing)
    assert len(listing) == count, len(listing)
    plan = _timed(f"plan {count} inputs from the listing", lambda: plan_listing(listing, "/scratch/in",
                                                                                "/scratch/out", video=False))
    assert len(plan.jobs) == count
    _timed(f"list s3://bench/out ({2 * count} keys)", Store("s3://bench/out").listing)
    command = [sys.executable, "-m", "movenet_cli", "dir", "s3://bench/in", "-o", "s3://bench/out",
               "--skip-existing", "--no-video", "-q"]
    run = _timed(f"resume: movenet dir ... --skip-existing ({count} finished)",
                 lambda: subprocess.run(command, env=env, capture_output=True, text=True))
    assert run.returncode == 0 and f"{count} skipped" in run.stderr, run.stderr[-2000:]
    startup = [sys.executable, "-m", "movenet_cli", "dir", "--help"]
    _timed("  of which: the command's start-up alone (dir --help)", lambda: subprocess.run(startup, env=env,
                                                                                          capture_output=True))
    _stream_or_stage(env)


def _stream_or_stage(env: dict) -> None:
    """One clip read from the bucket: fetched whole to scratch first, or streamed by ffmpeg from a presigned URL."""
    from movenet_cli.storage import Store

    store = Store("s3://bench/clips")
    store.publish(CLIP, "clip.mp4")
    url = store.presign("clip.mp4")
    out = Path("/tmp") / f"movenet-bench-{os.getpid()}"
    base = [sys.executable, "-m", "movenet_cli", "video", "--no-video", "-q", "--overwrite", "--json"]
    for label, source in (("staged (fetched to scratch, then read)", "s3://bench/clips/clip.mp4"),
                          ("streamed (ffmpeg reads the presigned URL)", url)):
        run = _timed(f"video {CLIP.name}, {label}",
                     lambda: subprocess.run(base + [str(out) + ".json", source], env=env, capture_output=True,
                                            text=True))
        assert run.returncode == 0, run.stderr[-2000:]
    Path(str(out) + ".json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
