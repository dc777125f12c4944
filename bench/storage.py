"""Buckets at scale: listing 100,000 keys, planning them, resuming a run of 100,000 finished inputs,
and a clip staged against the same clip streamed from a presigned URL.

    python bench/storage.py                          # 100,000 inputs
    python bench/storage.py --count 20000 --moto-count 20000

Two stores, the same code (movenet_cli.storage over fsspec):

- moto's S3 server in a child process, over HTTP through s3fs, as a run against S3 goes. It is filled
  through moto's own backend (no HTTP). moto answers each page of a listing by going over the whole
  bucket, so its listing grows with the square of the bucket: the number it gives for 100,000 keys
  is moto's, not S3's (S3 serves 1,000 keys a request, about 100 requests for 100,000 keys). The
  resume through moto is the real command, timed from start to exit, at ``--moto-resume`` inputs.
- fsspec's in-process memory store (``memory://``), where a listing costs next to nothing: what is
  left is this tool's own work (planning, deciding from the listing, the manifest) at ``--count``.

The finished outputs are made synthetically (an annotated image and its JSON per input, as
`dir --no-video` writes for an image): no model runs.
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


def serve(port: int, count: int, resume: int) -> None:
    """The child: fill moto's backend directly (``count`` inputs in ``bench``, ``resume`` finished
    inputs in ``resume``), then serve it over HTTP."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    from moto.server import ThreadedMotoServer

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for bucket in ("bench", "resume"):
        backend.create_bucket(bucket, "us-east-1")
    for i in range(count):
        backend.put_object("bench", f"in/{_key(i)}", b"jpeg")
    for i in range(resume):
        key = _key(i)
        backend.put_object("resume", f"in/{key}", b"jpeg")
        backend.put_object("resume", f"out/{key}", b"annotated")
        backend.put_object("resume", f"out/{key}.json", b"{}")
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
    print(f"{label:<66} {time.perf_counter() - started:8.2f} s", flush=True)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="inputs in the memory store")
    parser.add_argument("--moto-count", type=int, default=100_000, help="keys listed through moto")
    parser.add_argument("--moto-resume", type=int, default=10_000, help="inputs resumed through moto")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.moto_count, args.moto_resume)
    sys.path.insert(0, str(ROOT))
    _memory(args.count)
    port = _free_port()
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="bench",
               AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1", PYTHONPATH=str(ROOT))
    os.environ.update(env)
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--moto-count", str(args.moto_count),
                               "--moto-resume", str(args.moto_resume)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready", "the server did not start"
        print(f"moto: filled in {time.perf_counter() - started:.1f} s (not a measurement)", flush=True)
        _moto(args.moto_count, args.moto_resume, env)
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _memory(count: int) -> None:
    """This tool's own work at ``count`` inputs, on fsspec's in-process store."""
    import fsspec

    from movenet_cli.run.remote import plan_listing, run_remote
    from movenet_cli.settings import RunSettings
    from movenet_cli.storage import Store

    fs = fsspec.filesystem("memory")
    for i in range(count):
        key = _key(i)
        fs.pipe_file(f"/bench/in/{key}", b"jpeg")
        fs.pipe_file(f"/bench/out/{key}", b"annotated")
        fs.pipe_file(f"/bench/out/{key}.json", b"{}")
    print(f"memory://: {count} inputs, {2 * count} outputs", flush=True)
    listing = _timed(f"  list memory://bench/in ({count} keys)", Store("memory://bench/in").listing)
    plan = _timed(f"  plan {count} inputs from the listing",
                  lambda: plan_listing(listing, "/scratch/in", "/scratch/out", video=False))
    assert len(plan.jobs) == count
    run = _timed(f"  resume {count} finished inputs (run_remote, skip_existing)",
                 lambda: run_remote("memory://bench/in", "memory://bench/out", RunSettings(), skip_existing=True,
                                    video=False))
    assert run.counts["skipped"] == count, run.counts


def _moto(count: int, resume: int, env: dict) -> None:
    from movenet_cli.storage import Store

    print(f"moto S3 server over HTTP (s3fs): {count} inputs", flush=True)
    listing = _timed(f"  list s3://bench/in ({count} keys, one listing)",
                     lambda: Store("s3://bench/in").listing())
    assert len(listing) == count, len(listing)
    command = [sys.executable, "-m", "movenet_cli", "dir", "s3://resume/in", "-o", "s3://resume/out",
               "--skip-existing", "--no-video", "-q"]
    run = _timed(f"  resume: movenet dir s3://resume/in ... --skip-existing ({resume} finished)",
                 lambda: subprocess.run(command, env=env, capture_output=True, text=True))
    assert run.returncode == 0 and f"{resume} skipped" in run.stderr, run.stderr[-2000:]
    startup = [sys.executable, "-m", "movenet_cli", "dir", "--help"]
    _timed("    of which: the command's start-up alone (dir --help)",
           lambda: subprocess.run(startup, env=env, capture_output=True))
    _stream_or_stage(env)


def _stream_or_stage(env: dict) -> None:
    """One clip read from the bucket: fetched whole to scratch first, or streamed by ffmpeg from a presigned URL."""
    from movenet_cli.storage import Store

    store = Store("s3://resume/clips")
    store.publish(CLIP, "clip.mp4")
    url = store.presign("clip.mp4")
    out = Path("/tmp") / f"movenet-bench-{os.getpid()}"
    base = [sys.executable, "-m", "movenet_cli", "video", "--no-video", "-q", "--overwrite", "--json"]
    for label, source in (("staged (fetched to scratch, then read)", "s3://resume/clips/clip.mp4"),
                          ("streamed (ffmpeg reads the presigned URL)", url)):
        run = _timed(f"  video {CLIP.name}, {label}",
                     lambda: subprocess.run(base + [str(out) + ".json", source], env=env, capture_output=True,
                                            text=True))
        assert run.returncode == 0, run.stderr[-2000:]
    Path(str(out) + ".json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
