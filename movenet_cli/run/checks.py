"""What a CI job asks of a run: expectations on each input's results (``--expect-*``) and a JUnit
report (``--junit``), one testcase per input.

An input that failed is an ``error`` testcase; one whose results miss an expectation a
``failure`` (its outputs are written all the same); the command then exits 1 if any
input failed, else 3 (:data:`~movenet_cli.errors.EXIT_EXPECTATION`) if any missed an
expectation.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.results.expect import parse_expectations
    from movenet_cli.run.checks import RunChecks

    checks = RunChecks(parse_expectations(people="1:2"), junit=Path("out/junit.xml"), suite="movenet video")
    frames = []
    process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4",
                  Outputs(), end=1.0, on_result=frames.append)
    print(checks.record("demo_clip.mp4", frames=frames))   # None, or the line to print
    checks.record("bad.mp4", error="bad.mp4: not a video file")
    checks.write()                           # out/junit.xml: one testcase per input
    print(checks.exit_code())                # 1: an input failed
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..errors import EXIT_EXPECTATION, EXIT_FAILED, EXIT_OK, MovenetError, describe, first_line
from ..pipeline.outputs import WriteSet
from ..results import load_result
from ..results.expect import Expectations, check_expectations
from ..results.junit import JUnitCase, JUnitError, JUnitSuite, case_for_input, suite_from_manifest, write_junit
from ..results.load import read_json
from ..types import FrameResult
from .folder import FolderRun


class Refusal:
    """What :meth:`RunChecks.on_refusal` is told as the command goes: the input being checked."""

    culprit: str | None = None


def _about(exc: BaseException, path: Path) -> bool:
    """Whether ``exc`` leaves ``path`` unwritable: it cannot be written, or it collides with, or may
    not replace, something (when the outputs were refused as a set, whatever the first problem was)."""
    writes = getattr(exc, "writes", None)
    if writes is None:  # stopped before the outputs were checked: the report alone, replacing nothing
        writes = WriteSet()
        writes.add(path, "--junit", rebuilds="junit")
    return isinstance(exc, JUnitError) or not writes.allows(path)


@dataclass
class RunChecks:
    """The expectations of one command and the testcases of its inputs, in the order recorded."""

    expect: Expectations = field(default_factory=Expectations)
    junit: Path | None = None
    suite: str = "movenet"
    cases: list[JUnitCase] = field(default_factory=list)
    _lap: float = field(default_factory=time.perf_counter)

    @property
    def active(self) -> bool:
        return self.expect.any or self.junit is not None

    def lap(self) -> float:
        """Seconds since the last record (or since these checks were made)."""
        now = time.perf_counter()
        seconds, self._lap = now - self._lap, now
        return seconds

    def record(self, name: str, *, frames: Iterable[FrameResult] | None = None, error: str | None = None,
               seconds: float | None = None) -> str | None:
        """One input's outcome; returns the line to print when it missed an expectation."""
        seconds = self.lap() if seconds is None else seconds
        report = check_expectations(list(frames), self.expect) if frames is not None and not error else None
        violations = report.violations if report is not None else []
        self.cases.append(case_for_input(name, seconds, error=error, violations=violations, classname=self.suite))
        return report.line(name) if violations else None

    def record_refusal(self, names: Iterable[str], error: str, *, culprit: str | None = None) -> None:
        """The command stopped early with ``error``: each input not yet recorded is an ``error``
        testcase (with ``culprit``, only that input; the others are ``skipped``, not run)."""
        recorded = {case.name for case in self.cases}
        for name in dict.fromkeys(names):
            if name in recorded:
                continue
            if culprit is None or name == culprit:
                self.cases.append(case_for_input(name, 0.0, error=error, classname=self.suite))
            else:
                self.cases.append(JUnitCase(name, self.suite, 0.0, "skipped", f"not run: {error}"))

    @contextlib.contextmanager
    def on_refusal(self, names: Callable[[], Iterable[str]]) -> Iterator[Refusal]:
        """However early the command stops (a missing input, stdin with nothing on it, outputs that
        collide, a usage error found after parsing), the JUnit report is written: an ``error``
        testcase for each input of ``names()`` not yet recorded, or, when the yielded
        ``Refusal.culprit`` names the input being checked, for that one (the others ``skipped``).
        Not when the JUnit path itself is the problem."""
        refusal = Refusal()
        try:
            yield refusal
        except Exception as exc:
            if self.junit is not None and not _about(exc, self.junit):
                message = exc.format_message() if hasattr(exc, "format_message") else describe(exc)
                self.record_refusal(names(), first_line(message), culprit=refusal.culprit)
                with contextlib.suppress(MovenetError, OSError):
                    self.write()
            raise

    def exit_code(self) -> int:
        if any(case.outcome == "error" for case in self.cases):
            return EXIT_FAILED
        return EXIT_EXPECTATION if any(case.outcome == "failure" for case in self.cases) else EXIT_OK

    def write(self, suites: list[JUnitSuite] | None = None) -> None:
        """Write the JUnit report, if one was asked for."""
        if self.junit is not None:
            write_junit(self.junit, suites or [JUnitSuite(self.suite, self.cases)])


def check_folder_run(run: FolderRun, checks: RunChecks) -> list[str]:
    """Check every processed input of a folder run against the expectations (from its written JSON) and
    write the JUnit report from the run's manifest; returns the lines for the inputs that missed."""
    manifest = read_json(run.manifest_path)
    violations: dict[str, list[str]] = {}
    lines = []
    for entry, record in zip(manifest.get("files", []), run.records):
        if record.status not in ("done", "skipped") or record.outputs.json is None or not checks.expect.any:
            continue
        report = check_expectations(load_result(record.outputs.json), checks.expect)
        if not report.ok:
            violations[str(entry["input"])] = report.violations
            lines.append(report.line(str(entry["input"])))
    suite = suite_from_manifest(manifest, violations, name=checks.suite)
    checks.cases = suite.cases
    checks.write([suite])
    return lines
