"""Shared fixtures: the real models from the user's cache, the real sample media."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus import build
from fast_only import pytest_addoption, pytest_collection_modifyitems  # noqa: F401 (--fast-only)
from helpers import PERSON_JPG


@pytest.fixture(scope="session")
def store():
    """The model store the CLI uses (``MOVENET_HOME`` or the user cache), with every model fetched."""
    from movenet_cli.models.store import ModelStore

    s = ModelStore()
    s.fetch()
    return s


@pytest.fixture(scope="session")
def estimators(store):
    """One estimator per (model, backend), built lazily and shared."""
    from movenet_cli import PoseEstimator

    made = {}

    def get(model="multipose", backend="tflite", **kw):
        key = (model, backend, tuple(sorted(kw.items())))
        if key not in made:
            made[key] = PoseEstimator(model, backend=backend, store=store, **kw)
        return made[key]

    return get


@pytest.fixture(scope="session")
def person_image():
    from movenet_cli.media import read_image

    return read_image(PERSON_JPG)


@pytest.fixture(scope="session")
def clip_runs(estimators):
    """MultiPose over the sample clip, tracked, without and with smoothing (FrameResults)."""
    from helpers import run_video
    from movenet_cli.settings import VideoQuality

    est = estimators("multipose")
    return run_video(est, VideoQuality(smooth=False)), run_video(est, VideoQuality())


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """``corpus(name)``: the path of a tests/corpus.py file, made once per test session."""
    folder = tmp_path_factory.mktemp("corpus")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = build(name, folder)
        return made[name]

    return get


@pytest.fixture(scope="session")
def clip_second(tmp_path_factory):
    """The movenet/1 result of the first second of the sample clip, made once through the command."""
    from helpers import DEMO_CLIP, run_movenet
    from movenet_cli.results import load_result

    out = tmp_path_factory.mktemp("clip-second") / "demo_clip.json"
    run = run_movenet("video", DEMO_CLIP, "--no-video", "--json", out, "--end", "1", "-q")
    assert run.returncode == 0, run.stderr
    return load_result(out)


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when a movenet/1 result or run manifest the suite wrote breaks the shipped schema."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or session.config.option.collectonly:
        return
    try:
        base = factory.getbasetemp()
    except Exception:  # noqa: BLE001 - no temporary folder: nothing was written
        return
    from schema_check import invalid_documents

    bad = invalid_documents(Path(base))
    if bad:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"{len(bad)} JSON document(s) written by the suite break the movenet JSON Schema:", *bad[:20]]
        if reporter is not None:
            reporter.write_sep("=", "schema check failed", red=True)
            for line in lines:
                reporter.write_line(line)
        session.exitstatus = 1
