"""``pytest --fast-only``: only the tests that run no model, no ``movenet`` child process and no browser.

The mutation check (``make mutation``) runs the tests that reach each mutant once per mutant,
so it takes these only. A test is left out when its own code, or the code of any fixture it
uses, names one of :data:`SLOW`; the rest of the suite is arithmetic on synthetic data, hand-made
documents and small files.
"""

from __future__ import annotations

import inspect
import re

import pytest

# What starts a model, a child process or a browser (whole words in a test's or a fixture's code).
SLOW = re.compile(
    r"\b(run_movenet|start_movenet|demo_run|subprocess|Popen|PoseEstimator|estimators|store|person_image"
    r"|process_video|process_images?|run_folder|run_video|ffmpeg\w*|browser|playwright|ray|corpus|clip\w*"
    r"|example_results)\b"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fast-only", action="store_true",
                     help="Run only the tests that start no model, child process or browser.")


def _source(func) -> str:
    try:
        return inspect.getsource(func)
    except (OSError, TypeError):
        return ""


def is_slow(item: pytest.Item) -> bool:
    """Whether the test, or a fixture it uses, names something in :data:`SLOW`."""
    sources = [_source(getattr(item, "function", None))]
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(info, "names_closure", ()):
        if SLOW.fullmatch(name):
            return True
        for definition in info.name2fixturedefs.get(name, ()):
            sources.append(_source(definition.func))
    return any(SLOW.search(text) for text in sources)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--fast-only"):
        return
    slow = [item for item in items if is_slow(item)]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not is_slow(item)]
