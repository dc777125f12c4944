"""Every module docstring's ``Example::`` block runs, as written, on the real models and media.

The blocks are read from the source (the indented lines after ``Example::``), so this test
checks what a reader sees. They run the way a reader would run them: from the repository
root, where ``sample_media/`` and ``tests/data/`` are, with an empty ``out/`` folder for what
they write. Here that root is a fresh temporary folder per module with those two folders
linked in, so nothing lands in the checkout and no example can lean on another's files.

All blocks run in one child process, so TensorFlow and the models load once; the child
reports one line of JSON per module and the tests below turn each into a pass, a failure
naming the module and the error, or a skip. A block whose first line is
``# example: not run (REASON)`` is skipped with that reason (for what needs a Ray cluster,
the network or a GPU).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "movenet_cli"
NOT_RUN = re.compile(r"#\s*example:\s*not run\s*\((.+)\)\s*$")
CHILD_TIMEOUT_S = 240  # for all the blocks together
# Examples that show a known bug: expected to fail until it is fixed (strict: a fix makes them pass).
KNOWN_BUGS: dict[str, str] = {}  # module -> the bug its example shows (an expected failure until fixed)


def example_blocks(docstring: str) -> list[str]:
    """The dedented blocks that follow each ``Example::`` line of a docstring."""
    lines = docstring.expandtabs().splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if not line.rstrip().endswith("Example::"):
            continue
        marker_indent = len(line) - len(line.lstrip())
        body = []
        for follow in lines[i + 1 :]:
            if follow.strip() and len(follow) - len(follow.lstrip()) <= marker_indent:
                break
            body.append(follow)
        blocks.append(textwrap.dedent("\n".join(body)).strip("\n"))
    return blocks


def module_examples() -> dict[str, list[str]]:
    """``{module name: [block, ...]}`` for every module under movenet_cli with an example."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False)
        blocks = example_blocks(doc or "")
        if blocks:
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = blocks
    return found


def not_run_reason(block: str) -> str | None:
    match = NOT_RUN.match(block.splitlines()[0].strip()) if block else None
    return match.group(1) if match else None


# The child: run each module's blocks in a fresh namespace and a fresh working folder.
CHILD = r"""
import contextlib, io, json, os, sys, tempfile, time, traceback
from pathlib import Path

root, examples = Path(sys.argv[1]), json.load(sys.stdin)
base = Path(tempfile.mkdtemp(prefix="movenet-examples-"))
for name, blocks in examples.items():
    work = base / name
    (work / "tests").mkdir(parents=True)
    (work / "out").mkdir()
    (work / "sample_media").symlink_to(root / "sample_media")
    (work / "tests" / "data").symlink_to(root / "tests" / "data")
    os.chdir(work)
    printed = io.StringIO()
    error, started = None, time.perf_counter()
    try:
        with contextlib.redirect_stdout(printed):
            for block in blocks:
                exec(compile(block, f"<{name} example>", "exec"), {"__name__": "__example__"})
    except SystemExit as exc:
        if exc.code not in (None, 0):
            error = f"SystemExit({exc.code!r})"
    except BaseException:
        error = traceback.format_exc(limit=-3).strip()
    seconds = round(time.perf_counter() - started, 2)
    print(json.dumps({"module": name, "error": error, "seconds": seconds, "stdout": printed.getvalue()[-2000:]}), flush=True)
"""


@pytest.fixture(scope="module")
def example_results(tmp_path_factory):
    """``{module: (error or None, printed)}`` from one child running every runnable block."""
    runnable = {
        name: blocks for name, blocks in module_examples().items() if not any(map(not_run_reason, blocks))
    }
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    env["TMPDIR"] = str(tmp_path_factory.mktemp("examples"))
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT)],
        input=json.dumps(runnable), capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT_S,
    )  # fmt: skip
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith('{"module"'):
            record = json.loads(line)
            results[record["module"]] = (record["error"], record["stdout"])
    results["<child>"] = (proc.returncode, proc.stderr[-3000:])
    return results


EXAMPLES = module_examples()


def test_examples_are_found():
    """The extraction finds the package's examples (a broken extractor would pass everything)."""
    assert len(EXAMPLES) >= 40, sorted(EXAMPLES)
    assert all(block.strip() for blocks in EXAMPLES.values() for block in blocks)
    assert "movenet_cli.pose.estimator" in EXAMPLES


@pytest.mark.parametrize("module", sorted(EXAMPLES))
def test_module_example_runs(module, example_results):
    for block in EXAMPLES[module]:  # every block parses, also those not run
        compile(block, f"<{module} example>", "exec")
    reasons = [r for r in map(not_run_reason, EXAMPLES[module]) if r]
    if reasons:
        pytest.skip(f"{module}: example not run ({reasons[0]})")
    if module not in example_results:
        code, stderr = example_results["<child>"]
        pytest.fail(f"{module}: the example child stopped before it (exit {code}):\n{stderr}")
    error, printed = example_results[module]
    if module in KNOWN_BUGS:
        assert error is not None, f"{module}: its example passes now; remove it from KNOWN_BUGS"
        pytest.xfail(KNOWN_BUGS[module])
    assert error is None, f"{module}: its docstring example failed:\n{error}\n--- printed ---\n{printed}"
