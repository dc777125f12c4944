"""Buckets on either side of `dir` and `video`, against a real S3 server (moto's, a separate process on
127.0.0.1) through s3fs: the outputs equal a local run's, resume reads one listing, the lock is a
conditional write, a bucket that refuses writes fails before any work, no credential is ever shown.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from helpers import DEMO_CLIP, PERSON_JPG, interrupt_when, invoke, run_movenet, start_movenet

s3fs = pytest.importorskip("s3fs", reason="the s3 extra is not installed (pip install 'movenet-cli[s3]')")
pytest.importorskip("moto.server", reason="moto[server] is not installed")

END = "0.5"  # seconds of each clip: 15 frames
SECRET = "s3cr3t-Value-that-must-not-show"
BUCKET = "footage"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_env():
    """A moto S3 server for the session, and the environment that points s3fs at it."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the moto server did not start")
                time.sleep(0.1)
        env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing-key-id",
               "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1"}
        yield env
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def fs(s3_env):
    """An s3fs client on the test server, with the footage uploaded to s3://footage/in."""
    fs = s3fs.S3FileSystem(key=s3_env["AWS_ACCESS_KEY_ID"], secret=SECRET,
                           client_kwargs={"endpoint_url": s3_env["AWS_ENDPOINT_URL"]}, skip_instance_cache=True)
    fs.mkdir(BUCKET)
    fs.put_file(str(DEMO_CLIP), f"{BUCKET}/in/sub/demo.mp4")
    fs.put_file(str(PERSON_JPG), f"{BUCKET}/in/person.jpg")
    fs.pipe_file(f"{BUCKET}/in/notes.txt", b"not media\n")
    return fs


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    src = tmp_path_factory.mktemp("footage")
    (src / "sub").mkdir()
    shutil.copy(DEMO_CLIP, src / "sub" / "demo.mp4")
    shutil.copy(PERSON_JPG, src / "person.jpg")
    (src / "notes.txt").write_text("not media\n")
    return src


@pytest.fixture(scope="module")
def local_run(footage, tmp_path_factory, store):
    out = tmp_path_factory.mktemp("local") / "out"
    result = run_movenet("dir", footage, "-o", out, "--end", END, "-q", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    return out


def _dir(s3_env, *args, **kw):
    return run_movenet("dir", *args, "--end", END, "-q", env=s3_env, **kw)


def _frames(data: bytes) -> bytes:
    return data[data.index(b'"frames": ['):]


def _stable(manifest: dict) -> list:
    return [{k: v for k, v in f.items() if k not in ("seconds", "fps", "worker")} for f in manifest["files"]]


def _no_secret(*texts):
    for text in texts:
        assert SECRET not in (text if isinstance(text, str) else text.decode("utf-8", "replace"))


def _assert_like_local(fs, prefix: str, local_run: Path, result, *, video=True):
    assert result.returncode == 0, result.stderr
    _no_secret(result.stdout, result.stderr)
    listed = {key[len(prefix) + 1:] for key in fs.find(prefix)}
    assert listed == {"movenet-run.json", "person.jpg", "person.jpg.json", "sub/demo.mp4.json",
                      "sub/demo.mp4.csv"} | ({"sub/demo.mp4"} if video else set())
    for name in ("person.jpg.json", "sub/demo.mp4.json"):
        assert _frames(fs.cat(f"{prefix}/{name}")) == _frames((local_run / name).read_bytes()), name
    assert fs.cat(f"{prefix}/sub/demo.mp4.csv") == (local_run / "sub/demo.mp4.csv").read_bytes()
    raw = fs.cat(f"{prefix}/movenet-run.json")
    _no_secret(raw)
    manifest, local = json.loads(raw), json.loads((local_run / "movenet-run.json").read_text())
    assert manifest["status"] == "complete" and manifest["output_dir"] == f"s3://{prefix}"
    if video:
        assert _stable(manifest) == _stable(local)
    assert manifest["not_taken"] == local["not_taken"]
    return manifest


def test_bucket_to_bucket_with_worker_processes_equals_a_local_run(s3_env, fs, local_run, tmp_path):
    result = _dir(s3_env, f"s3://{BUCKET}/in", "-o", f"s3://{BUCKET}/p2", "--jobs", "2")
    manifest = _assert_like_local(fs, f"{BUCKET}/p2", local_run, result)
    assert manifest["input_dir"] == f"s3://{BUCKET}/in" and manifest["engine"]["jobs"] == 2
    assert json.loads(fs.cat(f"{BUCKET}/p2/person.jpg.json"))["source"]["path"] == f"s3://{BUCKET}/in/person.jpg"

    # resume: one listing says everything is there; report and JUnit as for a folder
    stamps = {k: v["LastModified"] for k, v in fs.find(f"{BUCKET}/p2", detail=True).items()}
    junit = tmp_path / "junit.xml"
    again = run_movenet("dir", f"s3://{BUCKET}/in", "-o", f"s3://{BUCKET}/p2", "--end", END, "--skip-existing",
                        "--jobs", "1", "--report", "--junit", junit, "--expect-people", "0:9", env=s3_env)
    assert again.returncode == 0, again.stderr
    assert "0 done, 0 failed, 2 skipped" in again.stderr and f"report: s3://{BUCKET}/p2/report.html" in again.stderr
    assert f"s3://{BUCKET}/in/sub/demo.mp4: skipped" in again.stderr
    fs.invalidate_cache()
    after = fs.find(f"{BUCKET}/p2", detail=True)
    for key, stamp in stamps.items():
        if not key.endswith("movenet-run.json"):
            assert after[key]["LastModified"] == stamp, key  # nothing published again
    resumed = json.loads(fs.cat(f"{BUCKET}/p2/movenet-run.json"))
    assert resumed["counts"] == {"done": 0, "failed": 0, "skipped": 2, "pending": 0}
    by_input = {f["input"]: f for f in resumed["files"]}
    assert by_input["sub/demo.mp4"]["frames"] == 15 and by_input["person.jpg"]["people"] >= 1
    assert b"demo.mp4" in fs.cat(f"{BUCKET}/p2/report.html")
    assert junit.read_text().count("<testcase") == 2
    _no_secret(again.stdout, again.stderr, junit.read_text(), fs.cat(f"{BUCKET}/p2/report.html"))

    # a run over it without --skip-existing/--overwrite is refused in one line
    refused = invoke("dir", f"s3://{BUCKET}/in", "-o", f"s3://{BUCKET}/p2", "--jobs", "1", env=s3_env)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"movenet: error: s3://{BUCKET}/p2/movenet-run.json: an earlier run wrote here; pass --skip-existing to "
        "resume it or --overwrite to redo it"]


def test_bucket_in_local_out_in_this_process(s3_env, fs, local_run, tmp_path):
    out = tmp_path / "out"
    result = invoke("dir", f"s3://{BUCKET}/in", "-o", out, "--end", END, "-q", "--jobs", "1", "--no-video", env=s3_env)
    assert result.returncode == 0, result.stderr
    for name in ("person.jpg.json", "sub/demo.mp4.json"):
        assert _frames((out / name).read_bytes()) == _frames((local_run / name).read_bytes()), name
    manifest = json.loads((out / "movenet-run.json").read_text())
    assert manifest["input_dir"] == f"s3://{BUCKET}/in" and manifest["status"] == "complete"
    assert not list(out.rglob(".*partial*")) and not (out / ".movenet-run.lock").exists()


def test_local_in_bucket_out_with_include_and_exclude(s3_env, fs, footage, tmp_path):
    junit = tmp_path / "junit.xml"
    result = invoke("dir", footage, "-o", f"s3://{BUCKET}/mixed", "--end", END, "-q", "--jobs", "1", "--no-video",
                    "--exclude", "sub/*", "--expect-people", "1:1", "--junit", junit, env=s3_env)
    assert result.returncode == 0, result.stderr  # the expectations read the JSON back from the bucket
    assert 'tests="1" failures="0" errors="0"' in junit.read_text()
    assert sorted(k.rsplit("/mixed/", 1)[1] for k in fs.find(f"{BUCKET}/mixed")) == [
        "movenet-run.json", "person.jpg", "person.jpg.json"]
    manifest = json.loads(fs.cat(f"{BUCKET}/mixed/movenet-run.json"))
    reasons = {e["path"]: e["reason"] for e in manifest["not_taken"]}
    assert reasons["sub/demo.mp4"] == "excluded by --exclude sub/*" and "notes.txt" in reasons


def test_ray_workers_fetch_from_and_publish_to_the_bucket(s3_env, fs, local_run):
    pytest.importorskip("ray")
    ray_tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit
    try:
        result = _dir(dict(s3_env, RAY_TMPDIR=ray_tmp), f"s3://{BUCKET}/in", "-o", f"s3://{BUCKET}/ray",
                      "--engine", "ray", "--no-video", timeout=240)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    manifest = _assert_like_local(fs, f"{BUCKET}/ray", local_run, result, video=False)
    assert manifest["engine"]["name"] == "ray"


def test_a_bucket_that_refuses_writes_fails_in_one_line_before_any_work(s3_env, fs):
    import boto3

    client = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"], aws_access_key_id="k",
                          aws_secret_access_key=SECRET, region_name="us-east-1")
    client.create_bucket(Bucket="read-only")
    client.put_bucket_policy(Bucket="read-only", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::read-only/*"}]}))
    started = time.monotonic()
    result = invoke("dir", f"s3://{BUCKET}/in", "-o", "s3://read-only/out", env=s3_env)
    assert result.returncode == 1 and time.monotonic() - started < 30
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("movenet: error: s3://read-only/out: cannot write here (")
    assert client.list_objects_v2(Bucket="read-only").get("KeyCount", 0) == 0
    _no_secret(result.stdout, result.stderr)


def test_a_second_run_into_a_locked_prefix_is_refused(s3_env, fs):
    fs.pipe_file(f"{BUCKET}/locked/.movenet-run.lock", b"pid 4242 on node7")
    result = invoke("dir", f"s3://{BUCKET}/in", "-o", f"s3://{BUCKET}/locked", "--jobs", "1", env=s3_env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"movenet: error: s3://{BUCKET}/locked is being written by another movenet run (pid 4242 on node7; if that "
        f"run is gone, delete s3://{BUCKET}/locked/.movenet-run.lock)"]
    assert fs.find(f"{BUCKET}/locked") == [f"{BUCKET}/locked/.movenet-run.lock"]


def test_credentials_in_the_endpoint_or_environment_are_never_shown(s3_env):
    env = dict(s3_env, AWS_ENDPOINT_URL=f"http://user:{SECRET}@127.0.0.1:{_free_port()}")
    result = _dir(env, f"s3://{BUCKET}/in", "-o", f"s3://{BUCKET}/x", timeout=120)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    _no_secret(result.stdout, result.stderr)


def test_an_interrupted_run_leaves_no_partial_object_and_resumes(s3_env, fs, tmp_path):
    for i in range(3):
        fs.copy(f"{BUCKET}/in/sub/demo.mp4", f"{BUCKET}/many/clip{i}.mp4")
    prefix = f"{BUCKET}/many-out"
    proc = start_movenet("dir", f"s3://{BUCKET}/many", "-o", f"s3://{prefix}", "--jobs", "2", "--end", END, "-q",
                         "--no-video",
                         env=dict(os.environ, **s3_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    def published():
        fs.invalidate_cache()
        return fs.exists(f"{prefix}/clip0.mp4.json") or fs.exists(f"{prefix}/clip1.mp4.json")

    stderr = interrupt_when(proc, published)
    assert proc.returncode == 130, stderr
    fs.invalidate_cache()
    manifest = json.loads(fs.cat(f"{prefix}/movenet-run.json"))
    assert manifest["status"] == "interrupted" and manifest["counts"]["done"] >= 1
    listed = {key[len(prefix) + 1:] for key in fs.find(prefix)}
    for entry in manifest["files"]:
        names = {p for p in entry["outputs"].values() if p}
        if entry["status"] == "done":
            assert names <= listed, entry
            assert json.loads(fs.cat(f"{prefix}/{entry['outputs']['json']}"))["complete"] is True
        else:  # interrupted before its record came back: all of its outputs, or none
            assert not names & listed or names <= listed, entry
    assert ".movenet-run.lock" not in listed
    bucket_uploads = fs.call_s3("list_multipart_uploads", Bucket=BUCKET).get("Uploads", [])
    assert not [u for u in bucket_uploads if u["Key"].startswith("many-out/")]

    resumed = _dir(s3_env, f"s3://{BUCKET}/many", "-o", f"s3://{prefix}", "--jobs", "2", "--skip-existing",
                   "--no-video")
    assert resumed.returncode == 0, resumed.stderr
    counts = json.loads(fs.cat(f"{prefix}/movenet-run.json"))["counts"]
    whole = sum({p for p in e["outputs"].values() if p} <= listed for e in manifest["files"])
    assert counts["skipped"] == whole >= manifest["counts"]["done"] and counts["done"] + counts["skipped"] == 3


def test_video_from_a_bucket_to_a_bucket_equals_a_local_run(s3_env, fs, local_run):
    local = local_run / "sub" / "demo.mp4"  # `dir` and `video` write the same data for one clip
    url = f"s3://{BUCKET}/video/demo.mp4"
    result = run_movenet("video", f"s3://{BUCKET}/in/sub/demo.mp4", "-o", url, "--end", END, "-q", env=s3_env)
    assert result.returncode == 0, result.stderr
    assert _frames(fs.cat(f"{BUCKET}/video/demo.json")) == _frames(Path(f"{local}.json").read_bytes())
    assert fs.cat(f"{BUCKET}/video/demo.csv") == Path(f"{local}.csv").read_bytes()
    assert fs.size(f"{BUCKET}/video/demo.mp4") > 1000
    again = invoke("video", f"s3://{BUCKET}/in/sub/demo.mp4", "-o", url, "--end", END, "-q", env=s3_env)
    assert again.returncode == 1
    assert again.stderr.strip().endswith(f"{url}: already exists; pass --overwrite to replace it")
    _no_secret(result.stderr, again.stderr)


def test_a_listing_plans_as_a_folder_walk_does(footage):
    from movenet_cli.run.plan import plan_folder
    from movenet_cli.run.remote import plan_listing

    (footage / ".hidden.jpg").write_bytes(b"x")
    try:
        walked = plan_folder(footage, "/out", exclude=["person*"])
        listing = {p.relative_to(footage).as_posix(): p.stat().st_size for p in footage.rglob("*") if p.is_file()}
        listed = plan_listing(listing, footage, "/out", exclude=["person*"])
    finally:
        (footage / ".hidden.jpg").unlink()
    assert [(j.input, j.kind, j.outputs) for j in listed.jobs] == [(j.input, j.kind, j.outputs) for j in walked.jobs]
    assert [(e.path, e.reason) for e in listed.not_taken] == [(e.path, e.reason) for e in walked.not_taken]
    inside = plan_listing({"a.jpg": 1, "res/a.jpg": 1, "res/a.jpg.json": 1}, "/in", "/in/res", skip="res/")
    assert [str(job.input) for job in inside.jobs] == ["/in/a.jpg"] and not inside.not_taken  # output prefix left out


def test_redact_removes_what_could_be_a_credential(monkeypatch):
    from movenet_cli.storage import as_url, redact

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    text = f"http://me:pw@host:9/x?X-Amz-Signature=abc&AWSAccessKeyId=AK&n=1 and {SECRET}"
    assert redact(text) == "http://me:***@host:9/x?X-Amz-Signature=***&AWSAccessKeyId=***&n=1 and ***"
    assert redact("abfs://container@account.dfs.core.windows.net/x") == "abfs://container@account.dfs.core.windows.net/x"
    assert as_url(Path("s3://bucket/key")) == "s3://bucket/key" and as_url("s3x://b") is None


def test_a_ray_worker_checks_the_buckets_not_the_folders(s3_env, fs, monkeypatch):
    from movenet_cli.run.engines.ray import check_storage
    from movenet_cli.storage.staging import Stage

    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    scratch = Path("/nonexistent/scratch")  # the driver's scratch: no worker needs to see it
    reachable = Stage(scratch / "in/person.jpg", f"s3://{BUCKET}/in/person.jpg",
                      {scratch / "out/person.jpg.json": f"s3://{BUCKET}/checked/person.jpg.json"})
    assert check_storage(str(scratch / "in"), str(scratch / "out"), reachable) is None
    unwritable = Stage(scratch / "in/person.jpg", f"s3://{BUCKET}/in/person.jpg",
                       {scratch / "out/person.jpg.json": "s3://no-such-bucket/out/person.jpg.json"})
    line = check_storage(str(scratch / "in"), str(scratch / "out"), unwritable)
    assert line.startswith("s3://no-such-bucket/out: cannot write here (") and "from a worker on" in line
    assert SECRET not in line
