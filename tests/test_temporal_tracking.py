"""temporal/tracking.py: stable ids across the frames of the sample clip, never reused."""

from __future__ import annotations

import copy

import pytest

from helpers import DEMO_CLIP
from movenet_cli.temporal.tracking import make_tracker


def _centres(results):
    """id -> {frame index: box centre x}"""
    out: dict[int, dict[int, float]] = {}
    for r in results:
        for p in r.people:
            out.setdefault(p.id, {})[r.index] = (p.bbox[0] + p.bbox[2]) / 2
    return out


def test_tracking_gives_each_person_one_id(clip_runs):
    """A woman walks right to left past a man standing on a box; MultiPose loses him now
    and then (never for a second), so there are two ids, each staying on one person."""
    raw, smoothed = clip_runs
    for r in raw:
        ids = [p.id for p in r.people]
        assert len(ids) == len(set(ids))
    tracks = _centres(raw)
    assert sorted(tracks) == [1, 2]
    width = 960
    for pid, centres in tracks.items():
        frames = sorted(centres)
        steps = [abs(centres[b] - centres[a]) for a, b in zip(frames, frames[1:])]
        assert max(steps) < 0.05 * width, (pid, max(steps))  # never jumps to the other person
    walker = max(tracks, key=lambda pid: len(tracks[pid]))
    assert len(tracks[walker]) >= len(raw) - 5  # she is found in nearly every frame
    assert tracks[walker][0] - tracks[walker][len(raw) - 1] > 300
    # the tracker sees the poses before smoothing, so smoothing never changes ids
    assert [[p.id for p in r.people] for r in raw] == [[p.id for p in r.people] for r in smoothed]


@pytest.mark.parametrize("kind", ["box", "keypoints"])
def test_ids_start_at_one_and_are_never_reused(estimators, kind):
    from movenet_cli.media import iter_frames

    first = next(iter_frames(DEMO_CLIP)).image
    height, width = first.shape[:2]
    people = estimators("multipose")(first)
    assert len(people) == 2
    tracker = make_tracker(kind, width, height, max_age=500)

    def ids(poses, ms):
        return sorted(p.id for p in tracker.apply(copy.deepcopy(poses), ms))

    assert ids(people, 0) == [1, 2]
    assert ids(people, 33) == [1, 2]
    assert ids([], 300) == []
    assert ids(people, 500) == [1, 2]  # unseen for less than max_age: same people
    moved = copy.deepcopy(people)
    for p in moved:  # the same poses a frame width away are other people
        p.keypoints[:, 0] += width
        p.bbox = (p.bbox[0] + width, p.bbox[1], p.bbox[2] + width, p.bbox[3])
    assert ids(moved, 533) == [3, 4]
    assert ids(people, 1200) == [5, 6]  # the first two were gone for longer than max_age
    assert tracker.ids == {5, 6}
