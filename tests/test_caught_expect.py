"""Expectations on synthetic frames: what is measured and the exact line a user reads."""

from __future__ import annotations

import numpy as np
import pytest

from movenet_cli.errors import EXIT_EXPECTATION, UsageError
from movenet_cli.results.expect import (
    Expectations,
    check_expectations,
    parse_expectations,
    parse_fraction,
    parse_people,
    parse_score,
)
from movenet_cli.results.load import ResultDoc
from movenet_cli.types import FrameResult, Pose


def frames(people: list[int], scores: list[float] | None = None) -> list[FrameResult]:
    """One frame per entry with that many people; person scores taken in turn from ``scores``."""
    pool = iter(scores or [0.5] * sum(people))
    return [FrameResult(i, i / 10, [Pose(np.zeros((17, 3)), next(pool), None, p) for p in range(n)])
            for i, n in enumerate(people)]


def test_people_ranges_parse_as_documented():
    assert parse_people("1") == (1, None)
    assert parse_people(" 1:2 ") == (1, 2)
    assert parse_people(":2") == (0, 2)
    assert parse_people("2:") == (2, None)
    assert parse_people("0:0") == (0, 0)
    for bad in ("", ":", "1:2:3", "a", "-1", "1.5", "２"):
        with pytest.raises(UsageError, match=r"^--expect-people: .* is not MIN\[:MAX\] whole numbers"):
            parse_people(bad)
    with pytest.raises(UsageError, match=r"^--expect-people: '3:1': MAX 1 is below MIN 3$"):
        parse_people("3:1")
    with pytest.raises(UsageError, match="^--my-option: "):
        parse_people("x", "--my-option")


def test_fractions_and_scores_take_0_to_1_and_percentages():
    assert parse_fraction("0.9") == pytest.approx(0.9)
    assert parse_fraction("90%") == pytest.approx(0.9)
    assert parse_fraction("1") == 1.0 and parse_fraction("0") == 0.0 and parse_fraction("100%") == 1.0
    assert parse_score("0.3") == pytest.approx(0.3) and parse_score("1.0") == 1.0
    with pytest.raises(UsageError, match=r"^--expect-detected: '1.1' is not a fraction from 0 to 1 \(e\.g\. 0\.9 or 90%\)$"):
        parse_fraction("1.1")
    with pytest.raises(UsageError, match=r"^--expect-score: 'nan' is not a score from 0 to 1 \(e\.g\. 0\.3\)$"):
        parse_score("nan")
    for bad in ("-0.1", "101%", "inf", "x", "%"):
        with pytest.raises(UsageError):
            parse_fraction(bad)


def test_parse_expectations_leaves_unset_options_unset():
    assert parse_expectations() == Expectations() and not Expectations().any
    assert Expectations().to_dict() == {"people": None, "detected": None, "score": None}
    wanted = parse_expectations(people="1:2", detected="50%", score="0.25")
    assert wanted.to_dict() == {"people": [1, 2], "detected": 0.5, "score": 0.25}
    assert all(Expectations(**{k: v}).any for k, v in (("people", (0, None)), ("detected", 0.0), ("score", 0.0)))


def test_what_is_measured():
    report = check_expectations(frames([0, 1, 2, 2], [0.2, 0.4, 0.6, 0.8, 1.0]), parse_expectations(people="1:2"))
    assert report.measured == {
        "frames": 4, "frames_with_people": 3, "people": 5, "detected": 0.75, "mean_score": pytest.approx(0.6),
        "frames_outside_people_range": 1, "min_people": 0, "max_people": 2,
    }
    nobody = check_expectations(frames([0, 0]), Expectations())
    assert nobody.ok and nobody.measured == {"frames": 2, "frames_with_people": 0, "people": 0, "detected": 0.0,
                                             "mean_score": None}


def test_a_result_document_is_measured_like_its_frames():
    doc = ResultDoc("a.json", "movenet/1", True, {}, {}, frames([1, 1, 0]))
    assert check_expectations(doc, parse_expectations(detected="0.6")).measured["detected"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("spec, line", [
    ("2", "expected at least 2 people per frame (--expect-people 2), measured 0 to 1 people: 2 of 2 frames outside "
          "(frames 0, 1)"),
    ("1", "expected at least 1 person per frame (--expect-people 1), measured 0 to 1 people: 1 of 2 frames outside "
          "(frames 0)"),
    ("1:1", "expected exactly 1 person per frame (--expect-people 1:1), measured 0 to 1 people: 1 of 2 frames outside "
            "(frames 0)"),
    ("0:0", "expected exactly 0 people per frame (--expect-people 0:0), measured 0 to 1 people: 1 of 2 frames outside "
            "(frames 1)"),
    ("2:3", "expected 2 to 3 people per frame (--expect-people 2:3), measured 0 to 1 people: 2 of 2 frames outside "
            "(frames 0, 1)"),
])
def test_people_lines_say_expected_and_measured(spec, line):
    report = check_expectations(frames([0, 1]), parse_expectations(people=spec))
    assert report.violations == [line]
    assert report.line("clip.mp4") == f"clip.mp4: expectation not met: {line}"


def test_long_frame_lists_are_cut_after_five():
    report = check_expectations(frames([0] * 7 + [1]), parse_expectations(people="1"))
    assert report.violations[0].endswith("7 of 8 frames outside (frames 0, 1, 2, 3, 4, ... 2 more)")
    five = check_expectations(frames([0] * 5), parse_expectations(people="1"))
    assert five.violations[0].endswith("(frames 0, 1, 2, 3, 4)")


def test_detected_and_score_lines_and_their_boundaries():
    two_of_four = frames([1, 0, 1, 0], [0.2, 0.3])
    assert check_expectations(two_of_four, parse_expectations(detected="0.5", score="0.25")).ok  # both exactly met
    report = check_expectations(two_of_four, parse_expectations(detected="0.51", score="0.26"))
    assert report.violations == [
        "expected a person in at least 51.0% of frames (--expect-detected 0.51), measured 50.0% (2 of 4 frames)",
        "expected a mean person score of at least 0.26 (--expect-score 0.26), measured 0.2500 over 2 people",
    ]
    assert report.line("a.mp4") == f"a.mp4: expectation not met: {report.violations[0]}; {report.violations[1]}"
    error = report.error("clip.mp4")
    assert error.exit_code == EXIT_EXPECTATION and str(error) == report.line("clip.mp4")


def test_no_frame_meets_no_expectation_and_no_person_no_score():
    for expect in (parse_expectations(people="0"), parse_expectations(detected="0"), parse_expectations(score="0")):
        report = check_expectations([], expect)
        assert report.violations == ["expected results, measured no processed frame"]
        assert report.measured == {"frames": 0, "frames_with_people": 0, "people": 0}
    assert check_expectations([], Expectations()).ok
    report = check_expectations(frames([0, 0]), parse_expectations(score="0.1", detected="0"))
    assert report.violations == ["expected a mean person score of at least 0.1, measured no person"]
