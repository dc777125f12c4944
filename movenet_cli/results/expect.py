"""Expectations on a run's results: ``--expect-people``, ``--expect-detected``, ``--expect-score``.

A run that does not meet them still writes its outputs; the command then exits with
:data:`movenet_cli.errors.EXIT_EXPECTATION` (3) after one line per input saying what
was expected and what was measured. A run that processed no frame meets no expectation.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.results import load_result
    from movenet_cli.results.expect import check_expectations, parse_expectations

    process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4",
                  Outputs(json=Path("out/demo_clip.json")), end=1.0)
    wanted = parse_expectations(people="1:2", detected="0.9", score="0.3")
    report = check_expectations(load_result("out/demo_clip.json"), wanted)
    print(report.ok, report.measured)
    if not report.ok:
        print(report.line("demo_clip.mp4"))   # demo_clip.mp4: expected ...; measured ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import ExpectationError, UsageError
from ..types import FrameResult
from .load import ResultDoc

__all__ = [
    "ExpectationError",
    "ExpectationReport",
    "Expectations",
    "check_expectations",
    "parse_expectations",
    "parse_fraction",
    "parse_people",
    "parse_score",
]


@dataclass(frozen=True)
class Expectations:
    """What a run must show; ``None`` expects nothing of that kind.

    ``people``: (MIN, MAX or None) people in every processed frame; ``detected``: the
    least share of processed frames with at least one person; ``score``: the least mean
    person score over every person found.
    """

    people: tuple[int, int | None] | None = None
    detected: float | None = None
    score: float | None = None

    @property
    def any(self) -> bool:
        return self.people is not None or self.detected is not None or self.score is not None

    def to_dict(self) -> dict[str, Any]:
        people = None if self.people is None else list(self.people)
        return {"people": people, "detected": self.detected, "score": self.score}


def parse_people(text: str, option: str = "--expect-people") -> tuple[int, int | None]:
    """``"1"`` -> (1, None); ``"1:2"`` -> (1, 2); ``"0:0"`` -> nobody; ``":2"`` -> (0, 2); ``"2:"`` -> (2, None)."""
    raw = str(text).strip()
    parts = [part.strip() for part in raw.split(":")]
    if len(parts) > 2 or not any(parts) or not all(p.isascii() and p.isdigit() for p in parts if p):
        raise UsageError(f"{option}: {raw!r} is not MIN[:MAX] whole numbers of people (e.g. 1 or 1:2)")
    minimum = int(parts[0]) if parts[0] else 0
    maximum = int(parts[1]) if len(parts) == 2 and parts[1] else None
    if maximum is not None and maximum < minimum:
        raise UsageError(f"{option}: {raw!r}: MAX {maximum} is below MIN {minimum}")
    return minimum, maximum


def _number(text: str, option: str, what: str) -> float:
    raw = str(text).strip()
    percent = raw.endswith("%")
    try:
        value = float(raw[:-1] if percent else raw)
    except ValueError:
        raise UsageError(f"{option}: {raw!r} is not {what}") from None
    value = value / 100 if percent else value
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise UsageError(f"{option}: {raw!r} is not {what}")
    return value


def parse_fraction(text: str, option: str = "--expect-detected") -> float:
    """A share of frames: ``"0.9"`` or ``"90%"``, from 0 to 1."""
    return _number(text, option, "a fraction from 0 to 1 (e.g. 0.9 or 90%)")


def parse_score(text: str, option: str = "--expect-score") -> float:
    """A mean person score from 0 to 1."""
    return _number(text, option, "a score from 0 to 1 (e.g. 0.3)")


def parse_expectations(
    people: str | None = None, detected: str | None = None, score: str | None = None
) -> Expectations:
    """The expectations from the option texts (``None`` for an option not given); :class:`UsageError` on bad text."""
    return Expectations(
        people=None if people is None else parse_people(people),
        detected=None if detected is None else parse_fraction(detected),
        score=None if score is None else parse_score(score),
    )


@dataclass
class ExpectationReport:
    """What was measured, and the violated expectations as one-line messages (empty when all are met)."""

    measured: dict[str, Any]
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def line(self, source: str) -> str:
        """One line for the terminal: the input, then every violated expectation."""
        return f"{source}: expectation not met: " + "; ".join(self.violations)

    def error(self, source: str) -> ExpectationError:
        """The error to raise (exit code 3) once the outputs are written."""
        return ExpectationError(self.line(source))


def _people_range(people: tuple[int, int | None]) -> str:
    low, high = people
    if high is None:
        return f"at least {low} {'person' if low == 1 else 'people'}"
    if low == high:
        return f"exactly {low} {'person' if low == 1 else 'people'}"
    return f"{low} to {high} people"


def _frame_list(indices: list[int], limit: int = 5) -> str:
    shown = ", ".join(str(i) for i in indices[:limit])
    return shown + (f", ... {len(indices) - limit} more" if len(indices) > limit else "")


def _check_people(frames: list[FrameResult], people: tuple[int, int | None], report: ExpectationReport) -> None:
    low, high = people
    outside = [f.index for f in frames if len(f.people) < low or (high is not None and len(f.people) > high)]
    counts = [len(f.people) for f in frames]
    report.measured.update(
        frames_outside_people_range=len(outside), min_people=min(counts, default=0), max_people=max(counts, default=0)
    )
    if outside:
        spec = str(low) if high is None else f"{low}:{high}"
        report.violations.append(
            f"expected {_people_range(people)} per frame (--expect-people {spec}), "
            f"measured {min(counts)} to {max(counts)} people: {len(outside)} of {len(frames)} frames outside "
            f"(frames {_frame_list(outside)})"
        )


def check_expectations(frames: ResultDoc | Iterable[FrameResult], expect: Expectations) -> ExpectationReport:
    """Measure ``frames`` (a :class:`ResultDoc` or FrameResults) and list the expectations they violate."""
    frames = list(frames.frames if isinstance(frames, ResultDoc) else frames)
    scores = [p.score for f in frames for p in f.people]
    detected = sum(1 for f in frames if f.people)
    report = ExpectationReport({"frames": len(frames), "frames_with_people": detected, "people": len(scores)})
    if not frames:
        if expect.any:
            report.violations.append("expected results, measured no processed frame")
        return report
    report.measured["detected"] = detected / len(frames)
    report.measured["mean_score"] = sum(scores) / len(scores) if scores else None
    if expect.people is not None:
        _check_people(frames, expect.people, report)
    if expect.detected is not None and detected / len(frames) < expect.detected:
        report.violations.append(
            f"expected a person in at least {expect.detected:.1%} of frames (--expect-detected {expect.detected:g}), "
            f"measured {detected / len(frames):.1%} ({detected} of {len(frames)} frames)"
        )
    if expect.score is not None:
        mean = report.measured["mean_score"]
        if mean is None:
            report.violations.append(f"expected a mean person score of at least {expect.score:g}, measured no person")
        elif mean < expect.score:
            report.violations.append(
                f"expected a mean person score of at least {expect.score:g} (--expect-score {expect.score:g}), "
                f"measured {mean:.4f} over {len(scores)} people"
            )
    return report
