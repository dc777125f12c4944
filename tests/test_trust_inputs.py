"""What the tool reads must not mislead it, and what it prints must not betray the user.

Caches are verified before use, credentials in URLs never reach a line or a file, our own
files that are damaged end in one line naming the file and the field, a file's tags cannot
change what the decoder believes about its frames, and every numeric option has bounds that
are checked before any model loads. Failure cases check the exit code, one line naming the
file or option, no traceback, nothing new at the final paths and every file that was there
byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest

from corpus import ffmpeg
from helpers import DEMO_CLIP, PERSON_JPG, SAMPLES, invoke, movenet_command, run_movenet
from test_url_input import _served


def one_line(result, code: int, *words: str) -> str:
    """Exit ``code``, no traceback, one ``movenet:``/``Error:`` line on stderr holding every word."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(("movenet:", "Error:"))]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def hashes(folder: Path) -> dict[str, str]:
    """Every file under ``folder``, by relative path, with its SHA-256."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def people(path: Path) -> list[list]:
    """The keypoints of every person of every frame of a movenet/1 JSON."""
    return [[p["keypoints"] for p in frame["people"]] for frame in json.loads(path.read_text())["frames"]]


@pytest.fixture
def own_home(tmp_path, store):
    """A MOVENET_HOME of this test's own: the cached models linked in (read only), its own colour cache."""
    home = tmp_path / "home"
    home.mkdir()
    for entry in store.root.iterdir():
        if entry.is_dir() and entry.name != "colour":
            (home / entry.name).symlink_to(entry.resolve())
    return home


# -- verified caches ---------------------------------------------------------------------------


def _table_file(home: Path) -> Path:
    (found,) = (home / "colour").glob("yuv2rgb4-*.bin")
    return found


def test_a_zero_filled_colour_table_is_captured_again(own_home, tmp_path):
    env = {"MOVENET_HOME": str(own_home)}
    first = run_movenet("video", DEMO_CLIP, "-o", tmp_path / "a.mp4", "--end", "0.5", "-q", env=env)
    assert first.returncode == 0, first.stderr
    table = _table_file(own_home)
    table.write_bytes(bytes(table.stat().st_size))  # a crash mid-write, a full disk: the right size, all zeros
    damaged = run_movenet("video", DEMO_CLIP, "-o", tmp_path / "b.mp4", "--end", "0.5", "-q", env=env)
    assert damaged.returncode == 0, damaged.stderr
    warnings = [line for line in damaged.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and warnings[0].startswith("movenet: warning:"), damaged.stderr
    assert table.name in warnings[0] and "colour table" in warnings[0]
    seen = people(tmp_path / "b.json")
    assert seen == people(tmp_path / "a.json") and all(seen), "the same people in every frame as with a good table"
    again = run_movenet("video", DEMO_CLIP, "--no-video", "--json", tmp_path / "c.json", "--end", "0.2", "-q", env=env)
    assert again.returncode == 0 and again.stderr.strip() == "", again.stderr  # rebuilt: trusted from now on


@pytest.fixture(scope="module")
def captured():
    """ffmpeg's conversion, captured once for the module's tests."""
    from movenet_cli.media import yuv

    return yuv._capture(yuv.YUV_COLOURS)


@pytest.fixture
def table_cache(tmp_path, monkeypatch, captured):
    """A colour cache folder holding a sound table; ``captures`` counts the captures made after that."""
    from movenet_cli.media import yuv

    captures = []
    monkeypatch.setattr(yuv, "_TABLES", {})
    monkeypatch.setattr(yuv, "_capture", lambda colours: captures.append(colours) or captured)
    yuv.colour_table(cache=tmp_path)
    monkeypatch.setattr(yuv, "_TABLES", {})
    captures.clear()
    return next(tmp_path.glob("yuv2rgb4-*.bin")), captures


def test_a_table_with_its_checksum_but_wrong_colours_is_refused(table_cache, captured, capsys):
    from movenet_cli.media import yuv

    file, captures = table_cache
    assert yuv.check_table(captured) is None
    yuv.colour_table(cache=file.parent)
    assert captures == [] and capsys.readouterr().err == ""  # a sound table is read, not captured
    yuv._TABLES.clear()
    shifted = yuv.ColourTable(np.roll(captured.r, 40), captured.b, captured.g_index, captured.g_columns)
    yuv.write_table(file, shifted)  # a consistent file: only the known-answer check can tell
    again = yuv.colour_table(cache=file.parent)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "reds are not the matrix's" in err[0] and file.name in err[0]
    assert captures == [yuv.YUV_COLOURS] and again is captured


@pytest.mark.parametrize("damage", [b"", b"\x00" * 100, b"x" * 311328, "flip"], ids=["empty", "short", "garbage", "flip"])
def test_a_truncated_or_foreign_table_is_captured_again(table_cache, capsys, damage):
    from movenet_cli.media import yuv

    file, captures = table_cache
    sound = file.read_bytes()
    if damage == "flip":  # one bit of one green
        damage = bytearray(sound)
        damage[len(sound) - 1000] ^= 1
    file.write_bytes(bytes(damage))
    yuv.colour_table(cache=file.parent)
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert captures == [yuv.YUV_COLOURS] and file.read_bytes() == sound


@pytest.mark.parametrize("manifest", ['{"files": []}', '{"files": {"saved_model/x": 5}}', "[1, 2]", "[" * 50000])
def test_a_model_manifest_of_the_wrong_shape_is_not_trusted(tmp_path, manifest):
    from movenet_cli.models.store import ModelStore

    store = ModelStore(tmp_path)
    entry = store.entry("lightning")
    (entry / "saved_model").mkdir(parents=True)
    (entry / "manifest.json").write_text(manifest)
    assert store.manifest("lightning") is None and not store.is_cached("lightning")


# -- credentials ---------------------------------------------------------------------------------


SECRETS = ("s3cr3t-pw", "tok-0123456789")


def _no_secret_anywhere(result, folder: Path) -> None:
    for secret in SECRETS:
        assert secret not in result.stdout and secret not in result.stderr, secret
        for path in folder.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), (secret, path)


def test_credentials_reach_no_line_and_no_file(tmp_path):
    out = tmp_path / "out"
    with _served() as base:  # http://127.0.0.1:PORT/, the sample folder, in a thread of this process
        url = base.replace("http://", f"http://me:{SECRETS[0]}@") + f"demo_clip.mp4?token={SECRETS[1]}&n=1"
        result = run_movenet("video", url, "-o", out / "clip.mp4", "--jsonl", out / "clip.jsonl", "--junit",
                             out / "j.xml", "--report", out / "r.html", "--expect-people", "5", "--end", "0.5")
    assert result.returncode == 3, result.stderr
    _no_secret_anywhere(result, out)
    shown = "me:***@127.0.0.1"
    assert shown in (out / "j.xml").read_text() and shown in json.loads((out / "clip.json").read_text())["source"]["path"]
    assert any(shown in line and "expectation not met" in line for line in result.stderr.splitlines())
    assert any(shown in line and "frames in" in line for line in result.stderr.splitlines())  # the summary
    assert "token=***" in (out / "j.xml").read_text()


def test_a_refused_connection_keeps_the_password(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"rtsp://me:{SECRETS[0]}@127.0.0.1:{port}/live?auth_token={SECRETS[1]}"
    result = run_movenet("video", url, "-o", tmp_path / "clip.mp4", "--junit", tmp_path / "j.xml",
                         "--url-timeout", "2")
    one_line(result, 1, "me:***@127.0.0.1")
    _no_secret_anywhere(result, tmp_path)
    assert "me:***@" in (tmp_path / "j.xml").read_text()
    assert not (tmp_path / "clip.mp4").exists()


@pytest.mark.parametrize("text, shown", [
    ("http://u:pw@h/x.mp4", "http://u:***@h/x.mp4"),
    ("rtsp://TOKEN123@cam/live", "rtsp://***@cam/live"),
    ("https://h/x.mp4?X-Amz-Signature=abc&X-Amz-Credential=k&n=1", "https://h/x.mp4?X-Amz-Signature=***&X-Amz-Credential=***&n=1"),
    ("[http @ 0x55] HTTP error 401 for https://a:b:c@h/p?password=q", "[http @ 0x55] HTTP error 401 for https://a:***@h/p?password=***"),
    ("two: http://a:b@h and rtsp://c:d@g/x", "two: http://a:***@h and rtsp://c:***@g/x"),
    ("http://h/x?monkey=1&keyframe=2", "http://h/x?monkey=1&keyframe=2"),
    ("user:pass@host without a scheme", "user:pass@host without a scheme"),
])  # fmt: skip
def test_redaction(text, shown):
    from movenet_cli.errors import redact, safe_name
    from movenet_cli.media.url import display_url
    from movenet_cli.results.junit import xml_text

    assert redact(text) == shown == display_url(text) == xml_text(text) == safe_name(text)


# -- our own files, damaged or unusual -------------------------------------------------------------


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory):
    """A finished `movenet dir` run over one image whose name is not UTF-8."""
    base = tmp_path_factory.mktemp("run")
    inputs = base / "in"
    inputs.mkdir()
    name = os.fsdecode(b"caf\xe9.jpg")
    (inputs / name).write_bytes(PERSON_JPG.read_bytes())
    result = run_movenet("dir", inputs, "-o", base / "out", "-q")
    assert result.returncode == 0, result.stderr
    return base / "out", name


def test_a_name_that_is_not_utf8_is_shown_escaped_in_the_report(folder_run, tmp_path):
    out, name = folder_run
    page = tmp_path / "r.html"
    result = run_movenet("report", out, "-o", page)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    html = page.read_text(encoding="utf-8")
    assert "caf\\udce9.jpg" in html and 'href="' in html and "caf%E9.jpg" in html


MANIFEST_DAMAGE = [
    ("files[0].outputs", lambda d: d["files"][0].update(outputs=[])),
    ("files[0].input", lambda d: d["files"][0].update(input=5)),
    ("files[0].frames", lambda d: d["files"][0].update(frames="12")),
    ("files[0].status", lambda d: d["files"][0].update(status="finished")),
    ("counts", lambda d: d.update(counts="2")),
    ("settings", lambda d: d.update(settings=[])),
    ("not_taken[0]", lambda d: d.update(not_taken=[7])),
    ("files is", lambda d: d.update(files={})),
]


@pytest.mark.parametrize("field, damage", MANIFEST_DAMAGE, ids=[m[0] for m in MANIFEST_DAMAGE])
def test_a_manifest_with_a_field_of_the_wrong_type_names_it(folder_run, tmp_path, field, damage):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(folder_run[0], out)
    manifest = out / "movenet-run.json"
    data = json.loads(manifest.read_text())
    damage(data)
    manifest.write_text(json.dumps(data))
    before = hashes(tmp_path)
    page = tmp_path / "page.html"
    one_line(run_movenet("report", out, "-o", page), 1, "movenet-run.json", field)
    compared = run_movenet("compare", manifest, manifest)
    assert compared.returncode == 1 and "Traceback" not in compared.stderr and field in compared.stdout, compared
    assert hashes(tmp_path) == before and not page.exists() and not (tmp_path / "page_files").exists()


def test_a_resumed_run_over_a_damaged_manifest_checks_the_outputs(folder_run, tmp_path):
    import shutil

    from movenet_cli.run.manifest import read_manifest

    out = tmp_path / "out"
    shutil.copytree(folder_run[0], out)
    manifest = out / "movenet-run.json"
    manifest.write_text(manifest.read_text().replace('"settings": {', '"settings": [{', 1).replace(
        '"options":', '"ignored": 0}], "options":', 1))
    assert read_manifest(out) is None
    inputs = folder_run[0].parent / "in"
    result = run_movenet("dir", inputs, "-o", out, "--skip-existing", "-q")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert json.loads(manifest.read_text())["counts"]["skipped"] == 1


@pytest.mark.parametrize("command", [["compare", "{deep}", "{deep}"], ["angles", "{deep}"], ["export", "{deep}", "--format", "coco"]])
def test_json_nested_thousands_deep_is_refused_by_name(tmp_path, command):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    before = hashes(tmp_path)
    result = run_movenet(*(part.format(deep=deep) for part in command))
    assert result.returncode == 1 and "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert "nested too deeply" in result.stdout + result.stderr and "deep.json" in result.stdout + result.stderr
    assert hashes(tmp_path) == before


def test_a_result_with_a_field_of_the_wrong_type_names_it(clip_second, tmp_path):
    from movenet_cli.results.load import ResultError, load_result

    data = json.loads(Path(clip_second.path).read_text())
    data["frames"][3]["people"][0]["keypoints"][5] = ["x", 1, 0.5]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ResultError, match=r"bad.json: .*frames\[3\]\.people\[0\]\.keypoints\[5\]"):
        load_result(bad)
    one_line(run_movenet("angles", bad, "-o", tmp_path / "a.csv"), 1, "bad.json", "frames[3]")
    assert not (tmp_path / "a.csv").exists()


# -- the decoder believes the probe, not a file's tags ------------------------------------------------


def test_tags_imitating_ffmpeg_s_output_line_change_nothing(corpus, tmp_path):
    forged = corpus("forged_output")
    clean = tmp_path / "untagged.mp4"
    ffmpeg("-i", forged, "-map_metadata", "-1", "-map_metadata:s:v", "-1", "-c", "copy", clean)
    for name in ("forged", "clean"):
        source = forged if name == "forged" else clean
        for mode, args in (("planes", ["-o", tmp_path / f"{name}.mp4"]),
                           ("pixels", ["--no-video", "--json", tmp_path / f"{name}-pixels.json"])):
            result = run_movenet("video", source, *args, "--end", "0.5", "-q")
            assert result.returncode == 0 and result.stderr.strip() == "", (name, mode, result.stderr)
    assert people(tmp_path / "forged.json") == people(tmp_path / "clean.json")
    assert people(tmp_path / "forged-pixels.json") == people(tmp_path / "clean-pixels.json")
    assert all(people(tmp_path / "forged.json"))


def test_forged_tags_do_not_change_the_decoded_frames(corpus):
    from movenet_cli.media import iter_frames

    frames = list(iter_frames(corpus("forged_output"), end=0.2))
    assert frames and all(f.image.shape == (540, 960, 3) for f in frames)
    assert float(frames[0].image.mean()) > 20  # a picture, not 8x8 pixels read as a frame


# -- bounds and causes -----------------------------------------------------------------------------------


def _commands(tmp: Path) -> dict[str, list]:
    result = tmp / "r.json"
    return {
        "image": ["image", PERSON_JPG, "-o", tmp / "o.jpg"],
        "video": ["video", DEMO_CLIP, "-o", tmp / "o.mp4"],
        "dir": ["dir", SAMPLES, "-o", tmp / "out"],
        "eval": ["eval", tmp / "gt.json", SAMPLES],
        "compare": ["compare", result, result],
        "angles": ["angles", result, "-o", tmp / "a.csv"],
        "export": ["export", result, "--format", "coco"],
        "report": ["report", tmp, "-o", tmp / "r.html"],
    }


HUGE = "99999999999999999999"
# Values each numeric option must refuse: huge (past every bound), 0 where 0 cannot work, negative.
ABSURD = {
    "threshold": [HUGE, "-0.1", "1.5"], "min_pose_score": [HUGE, "-1"], "input_size": [HUGE, "0", "-32"],
    "start": [HUGE, "-1"], "end": [HUGE, "-1"], "every": [HUGE, "0", "-1"], "crf": [HUGE, "-1"],
    "scale": [HUGE, "0", "-1", "2"],
    "max_tracks": [HUGE, "0", "-1"], "max_age": [HUGE, "0", "-5"], "min_similarity": [HUGE, "-0.5"],
    "threads": [HUGE, "0", "-2"], "batch_size": [HUGE, "0", "-2"], "height": [HUGE, "0", "-1.7"],
    "max_gap": [HUGE, "0", "-3"], "line_width": [HUGE, "0", "-1"], "point_radius": [HUGE, "0", "-1"],
    "url_timeout": [HUGE, "0", "-1"], "low_score": [HUGE, "-0.1"], "jobs": [HUGE, "0", "-1"],
    "tolerance": ["-0.1"], "tolerance_px": ["-1"], "score_tolerance": ["-0.1"], "person": ["-1"],
}  # fmt: skip


def _numeric_options():
    """(command, option, flag) of every option of every command whose type is a number."""
    import click

    from movenet_cli.cli import cli
    from movenet_cli.cli.options import Number

    numeric = (Number, click.IntRange, click.FloatRange, click.types.IntParamType, click.types.FloatParamType)
    for name in _commands(Path("/tmp")):
        for param in cli.commands[name].params:
            if isinstance(param, click.Option) and isinstance(param.type, numeric):
                yield name, param.name, param.opts[0]


def test_every_numeric_option_has_its_absurd_values_listed():
    missing = sorted({f"{cmd} {flag}" for cmd, name, flag in _numeric_options() if name not in ABSURD})
    assert not missing, f"numeric options without bounds checked here: {missing}"


@pytest.mark.parametrize("command, name, flag", list(_numeric_options()))
def test_absurd_numbers_are_usage_errors_before_any_model_loads(tmp_path, command, name, flag):
    empty = tmp_path / "home"  # no models: a run that reached the model would fail with exit 1
    args = _commands(tmp_path)[command]
    for value in ABSURD[name]:
        before = hashes(tmp_path)
        result = invoke(*args, f"{flag}={value}", env={"MOVENET_HOME": str(empty), "MOVENET_OFFLINE": "1"})
        one_line(result, 2, flag)
        assert hashes(tmp_path) == before and not empty.exists(), (flag, value)


def test_settings_hold_the_same_bounds_for_the_api():
    from movenet_cli.errors import UsageError
    from movenet_cli.settings import AnalysisSettings, RunSettings, VideoQuality

    for bad in (dict(every=10**20), dict(every=0), dict(end=1e300), dict(crf=52),
                dict(quality=VideoQuality(max_tracks=10**20)), dict(quality=VideoQuality(max_age=float("inf"))),
                dict(analysis=AnalysisSettings(max_gap=10**20)), dict(analysis=AnalysisSettings(height=1e300))):
        with pytest.raises(UsageError):
            RunSettings(**bad).check()
    RunSettings(every=1000, end=1e8).check()
    from movenet_cli.render.draw import DrawStyle

    for bad in (dict(line_width=10**20), dict(point_radius=0), dict(line_width=2.5)):
        with pytest.raises(UsageError):
            DrawStyle(**bad).check()


def test_movenet_home_at_a_regular_file_names_the_variable(tmp_path):
    home = tmp_path / "home"
    home.write_bytes(b"not a folder")
    result = run_movenet("image", PERSON_JPG, "-o", tmp_path / "o.jpg", env={"MOVENET_HOME": str(home)})
    one_line(result, 1, str(home), "MOVENET_HOME", "not a folder")
    assert "Errno" not in result.stderr and home.read_bytes() == b"not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def _limited(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_stdin_larger_than_the_temporary_folder_takes_names_tmpdir(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    with open(DEMO_CLIP, "rb") as clip:
        result = subprocess.run(movenet_command("video", "-", "-o", tmp_path / "o.mp4"), stdin=clip,
                                capture_output=True, text=True, env=dict(os.environ, TMPDIR=str(spool)),
                                preexec_fn=_limited(100_000), timeout=120)
    one_line(result, 1, "TMPDIR", str(spool), "stdin")
    assert "Errno" not in result.stderr
    assert list(spool.iterdir()) == [] and not (tmp_path / "o.mp4").exists()


def test_os_errors_say_what_and_where():
    from movenet_cli.errors import describe

    try:
        os.makedirs(PERSON_JPG, exist_ok=True)
    except OSError as exc:
        line = describe(exc, doing="creating the output folder")
    assert line.startswith(str(PERSON_JPG)) and "creating the output folder" in line and "Errno" not in line
    assert describe(OSError(28, "No space left on device"), "-") == "-: No space left on device"
