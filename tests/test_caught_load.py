"""Reading ``movenet/1`` documents: what is taken, and every malformed field refused naming file and field."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from movenet_cli.results.load import ResultError, load_result, parse_result

GOOD = {
    "schema": "movenet/1", "complete": True, "source": {"path": "in.mp4", "width": 64}, "model": {"name": "m"},
    "frames": [{"index": 3, "time": 0.1, "people": [
        {"id": 2, "score": 0.75, "bbox": [1, 2, 30, 40], "keypoints": [[k, 2 * k, 0.5] for k in range(17)]},
        {"score": 1, "keypoints": [[0, 0, 0]] * 17},
    ]}],
}


def test_a_document_is_read_whole(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(GOOD))
    doc = load_result(path)
    assert (doc.path, doc.schema, doc.complete) == (path, "movenet/1", True)
    assert doc.source == GOOD["source"] and doc.model == GOOD["model"]
    (frame,) = doc.frames
    assert (frame.index, frame.time) == (3, 0.1)
    first, second = frame.people
    assert (first.id, first.score, first.bbox) == (2, 0.75, (1.0, 2.0, 30.0, 40.0))
    assert first.keypoints.shape == (17, 3) and np.array_equal(first.keypoints[16], [16.0, 32.0, 0.5])
    assert (second.id, second.score, second.bbox) == (0, 1.0, None)


@pytest.mark.parametrize("complete, read", [(True, True), (False, False), (None, False), ("true", False), (1, False)])
def test_complete_is_true_only_when_it_says_true(complete, read):
    data = dict(GOOD, complete=complete)
    assert parse_result(data).complete is read
    assert parse_result({k: v for k, v in GOOD.items() if k != "complete"}).complete is True


def _broken(edit):
    data = copy.deepcopy(GOOD)
    edit(data)
    return data


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.clear(), "schema is None"),
    (lambda d: d.update(schema="movenet/2"), "schema is 'movenet/2'"),
    (lambda d: d.update(source=[]), "source is not an object"),
    (lambda d: d.update(model=None), "model is not an object"),
    (lambda d: d.update(frames={}), "frames is not a list"),
    (lambda d: d["frames"].append([]), "frames[1] has no people list"),
    (lambda d: d["frames"][0].update(index="3"), "frames[0].index is not an integer"),
    (lambda d: d["frames"][0].update(index=True), "frames[0].index is not an integer"),
    (lambda d: d["frames"][0].update(time=None), "frames[0].time is not a finite number"),
    (lambda d: d["frames"][0]["people"].append(3), "frames[0].people[2] is not an object"),
    (lambda d: d["frames"][0]["people"][0].update(keypoints=[[0, 0, 0]] * 16), "frames[0].people[0].keypoints does not hold 17"),
    (lambda d: d["frames"][0]["people"][0]["keypoints"].__setitem__(4, [0, 0]), "frames[0].people[0].keypoints[4] is not [x, y, score]"),
    (lambda d: d["frames"][0]["people"][0]["keypoints"].__setitem__(5, [0, float("inf"), 0]), "frames[0].people[0].keypoints[5] is not a finite"),
    (lambda d: d["frames"][0]["people"][0]["keypoints"].__setitem__(6, [0, True, 0]), "frames[0].people[0].keypoints[6] is not a finite"),
    (lambda d: d["frames"][0]["people"][0].update(bbox=[0, 0, 1]), "frames[0].people[0].bbox is not [x_min, y_min, x_max, y_max]"),
    (lambda d: d["frames"][0]["people"][0].update(bbox=[0, 0, 1, "x"]), "frames[0].people[0].bbox is not a finite"),
    (lambda d: d["frames"][0]["people"][0].update(id=1.0), "frames[0].people[0].id is not an integer"),
    (lambda d: d["frames"][0]["people"][0].update(id=False), "frames[0].people[0].id is not an integer"),
    (lambda d: d["frames"][0]["people"][1].pop("score"), "frames[0].people[1].score is not a finite number"),
])
def test_a_malformed_field_is_named(edit, field):
    with pytest.raises(ResultError) as caught:
        parse_result(_broken(edit), "dir/r.json")
    assert str(caught.value).startswith("dir/r.json: not a movenet/1 result (")
    assert f"({field}" in str(caught.value)


def test_a_file_that_is_not_json_is_named(tmp_path):
    (tmp_path / "r.json").write_text("[")
    with pytest.raises(ResultError, match=r"r\.json: not JSON"):
        load_result(tmp_path / "r.json")
    with pytest.raises(ResultError, match=r"<result>: not a movenet/1 result \(not a JSON object\)"):
        parse_result([])
