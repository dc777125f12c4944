"""``pytest --fast-only``: only the tests that run no model, no ``movenet`` child process and no browser.

The mutation check (``make mutation``) runs the tests that reach each mutant once per mutant,
so it takes these only. A test is left out when it uses a fixture of :data:`SLOW_FIXTURES`, or when
its own code or a fixture's makes a call of :data:`SLOW_CALLS`; the rest of the suite is arithmetic on
synthetic data, hand-made documents and small files.
"""

from __future__ import annotations

import inspect
import re

import pytest

# Fixtures that run a model, a child process or a browser (whole names) ...
SLOW_FIXTURES = re.compile(r"store|estimators|person_image|clip\w*|corpus|browser|example_results")
# ... and calls that do (in a test's or a fixture's code).
SLOW_CALLS = re.compile(
    r"\b(run_movenet|start_movenet|demo_run|PoseEstimator|process_video|process_images?|run_folder|run_video"
    r"|ffmpeg_exe|sync_playwright|Popen)\s*\(|\bsubprocess\.(run|Popen|check_\w+|call)\b"
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
    """Whether the test uses a fixture in :data:`SLOW_FIXTURES`, or its code or a fixture's calls :data:`SLOW_CALLS`."""
    sources = [_source(getattr(item, "function", None))]
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(info, "names_closure", ()):
        if SLOW_FIXTURES.fullmatch(name):
            return True
        for definition in info.name2fixturedefs.get(name, ()):
            sources.append(_source(definition.func))
    return any(SLOW_CALLS.search(text) for text in sources)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--fast-only"):
        return
    slow = [item for item in items if is_slow(item)]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not is_slow(item)]
