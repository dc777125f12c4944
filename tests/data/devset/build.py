"""Build the development set: labelled people from the keypoint datasets mmpose samples in its tests.

    python tests/data/devset/build.py /path/to/mmpose          # a checkout or a bare git dir of open-mmlab/mmpose

Reads ``tests/data/`` of open-mmlab/mmpose at the pinned commit :data:`COMMIT` (``git show``, so
a bare mirror works), copies the images byte for byte into ``images/`` and writes three COCO
keypoint ground truths beside this script: ``devset.json`` (every image, with its ``dataset`` and
``split``), ``tune.json`` (the tuning half) and ``check.json`` (the checking half). Run it again
and the files come out the same (the commit is pinned, the split rule is deterministic);
``SOURCES.json`` records the sha256 of every image copied.

Mapping onto COCO-17: each dataset's body joints that COCO also labels (shoulders, elbows,
wrists, hips, knees, ankles) take their COCO slot; what COCO labels and the dataset does not
(nose, eyes, ears) stays ``0, 0, 0``, not labelled, as COCO marks an unlabelled point, so
pycocotools' OKS leaves it out. A point the dataset labels outside the image is also left
unlabelled (COCO never labels one there). Every labelled point gets ``v = 2``.

``bbox``: the dataset's own person box where it labels one (AI Challenger, CrowdPose, MHP,
JHMDB); else (MPII, Human3.6M, whose box is a square around the centre, MPI-INF-3DHP) the
extent of every joint the dataset labels (head top included), padded by 10% of its width and
height on each side and clipped to the image. ``area`` (the OKS scale; COCO's is the person's
segment) is ``0.53 x`` the box's area, as mmpose's CocoMetric does for data without segments.

Split: by image, fixed. Within each dataset (in :data:`DATASETS` order) images go, most
people first, to the half that holds fewer labelled people so far (ties: fewer images, then
the tuning half), so both halves hold every dataset and about as many people.

Left out on purpose: OCHuman, Human-Art, PoseTrack and ExLPose (none of their files is read),
and mmpose's COCO samples (they are ``tests/data/coco-dev``, kept apart).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
COMMIT = "759b39c13fea6ba094afc1fa932f51dc1b11cbf9"  # open-mmlab/mmpose, 2025-08-04
AREA_PER_BOX = 0.53
PAD = 0.10

# COCO-17 slots: 5/6 shoulders, 7/8 elbows, 9/10 wrists, 11/12 hips, 13/14 knees, 15/16 ankles (left/right).
_MPII = {0: 16, 1: 14, 2: 12, 3: 11, 4: 13, 5: 15, 10: 10, 11: 8, 12: 6, 13: 5, 14: 7, 15: 9}
_H36M = {1: 12, 2: 14, 3: 16, 4: 11, 5: 13, 6: 15, 11: 5, 12: 7, 13: 9, 14: 6, 15: 8, 16: 10}

# name: (source annotation, how it is read, joint -> COCO slot, licence of the dataset)
DATASETS = {
    "aic": ("aic/test_aic.json", "coco", {0: 6, 1: 8, 2: 10, 3: 5, 4: 7, 5: 9, 6: 12, 7: 14, 8: 16, 9: 11, 10: 13, 11: 15},
            "AI Challenger keypoint dataset: research use under its terms of use"),
    "crowdpose": ("crowdpose/test_crowdpose.json", "coco", {i: 5 + i for i in range(12)},
                  "CrowdPose annotations: MIT licence; images from COCO/MPII/AI Challenger under theirs"),
    "mhp": ("mhp/test_mhp.json", "coco", _MPII, "LV-MHP v1: research use under its terms"),
    "mpii": ("mpii/test_mpii.json", "mpii", _MPII,
             "MPII Human Pose: annotations Simplified BSD licence; images (YouTube frames) their owners' copyright"),
    "jhmdb": ("jhmdb/test_jhmdb_sub1.json", "coco",
              {3: 6, 4: 5, 5: 12, 6: 11, 7: 8, 8: 7, 9: 14, 10: 13, 11: 10, 12: 9, 13: 16, 14: 15},
              "J-HMDB: research use; frames from HMDB51 (web and film clips)"),
    "h36m": ("h36m/h36m_coco.json", "h36m", _H36M, "Human3.6M: academic, non-commercial licence"),
    "3dhp": ("mpi_inf_3dhp/test_3dhp_test.npz", "3dhp",
             {2: 6, 3: 8, 4: 10, 5: 5, 6: 7, 7: 9, 8: 12, 9: 14, 10: 16, 11: 11, 12: 13, 13: 15},
             "MPI-INF-3DHP: non-commercial research licence"),
}
EXCLUDED = ("ochuman", "humanart", "posetrack18", "exlpose", "coco")


class Source:
    """Files of mmpose's ``tests/data`` at :data:`COMMIT`, read with ``git show``."""

    def __init__(self, repo: Path):
        self.repo = repo

    def read(self, path: str) -> bytes:
        top = path.split("/")[0]
        assert top not in EXCLUDED, path
        return subprocess.run(["git", "-C", str(self.repo), "show", f"{COMMIT}:tests/data/{path}"],
                              check=True, capture_output=True).stdout

    def json(self, path: str):
        return json.loads(self.read(path))


def _image_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.width, im.height


def _person(joints: np.ndarray, mapping: dict, width: int, height: int, box=None) -> dict | None:
    """One COCO annotation from (J, 3) dataset joints (x, y, labelled) mapped onto COCO-17."""
    keypoints = np.zeros((17, 3))
    inside = (joints[:, 0] >= 0) & (joints[:, 0] < width) & (joints[:, 1] >= 0) & (joints[:, 1] < height)
    labelled = (joints[:, 2] > 0) & inside
    for j, slot in mapping.items():
        if labelled[j]:
            keypoints[slot] = (joints[j, 0], joints[j, 1], 2)
    if not (keypoints[:, 2] > 0).any():
        return None
    if box is None:
        xy = joints[labelled, :2]
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        pad_x, pad_y = PAD * (x1 - x0), PAD * (y1 - y0)
        x0, y0 = max(0.0, x0 - pad_x), max(0.0, y0 - pad_y)
        x1, y1 = min(float(width), x1 + pad_x), min(float(height), y1 + pad_y)
        box = [x0, y0, x1 - x0, y1 - y0]
    box = [round(float(v), 2) for v in box]
    return {
        "keypoints": [round(float(v), 2) for v in keypoints.ravel()],
        "num_keypoints": int((keypoints[:, 2] > 0).sum()),
        "bbox": box,
        "area": round(AREA_PER_BOX * box[2] * box[3], 2),
        "iscrowd": 0,
        "category_id": 1,
    }


def _read_dataset(src: Source, name: str) -> list[tuple[str, str, list]]:
    """(source image path, new file name, [(joints (J, 3), box or None)]) per image."""
    path, kind, _, _ = DATASETS[name]
    folder = path.split("/")[0]
    out = []
    if kind == "coco":
        data = src.json(path)
        for image in data["images"]:
            people = [(np.asarray(a["keypoints"], float).reshape(-1, 3), a["bbox"])
                      for a in data["annotations"] if a["image_id"] == image["id"] and not a.get("iscrowd")]
            out.append((f"{folder}/{image['file_name']}", image["file_name"].replace("/", "-"), people))
    elif kind == "mpii":
        for entry in src.json(path):
            joints = np.column_stack([np.asarray(entry["joints"], float), entry["joints_vis"]])
            out.append((f"{folder}/{entry['image']}", entry["image"], [(joints, None)]))
    elif kind == "h36m":  # standard Human3.6M joint order (the file's category names list left and right swapped)
        data = src.json(path)
        for image in data["images"]:
            stem = image["file_name"].rsplit("_", 1)[0]
            people = [(np.asarray(a["keypoints"], float).reshape(-1, 3), None)
                      for a in data["annotations"] if a["image_id"] == image["id"]]
            out.append((f"{folder}/{stem.split('_')[0]}/{stem}/{image['file_name']}", image["file_name"], people))
    else:  # MPI-INF-3DHP, test-set joint order; both npz files of the samples
        for npz in (path, path.replace("_test", "_train")):
            data = np.load(io.BytesIO(src.read(npz)))
            for image, part in zip(data["imgname"], data["part"]):
                out.append((f"{folder}/{image}", str(image), [(np.asarray(part, float), None)]))
    return out


def build(repo: Path, dest: Path = HERE) -> dict:
    src = Source(repo)
    (dest / "images").mkdir(parents=True, exist_ok=True)
    images, annotations, sources = [], [], []
    totals = {"tune": [0, 0], "check": [0, 0]}  # people, images
    for name, (_, _, mapping, licence) in DATASETS.items():
        entries = []
        for source_path, file_name, people in _read_dataset(src, name):
            data = src.read(source_path)
            width, height = _image_size(data)
            anns = [a for joints, box in people if (a := _person(joints, mapping, width, height, box))]
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{name}-{file_name}")
            entries.append((source_path, safe, data, width, height, anns))
        for source_path, file_name, data, width, height, anns in sorted(entries, key=lambda e: (-len(e[5]), e[1])):
            split = min(totals, key=lambda s: (totals[s][0], totals[s][1], s != "tune"))
            totals[split][0] += len(anns)
            totals[split][1] += 1
            image_id = len(images) + 1
            (dest / "images" / file_name).write_bytes(data)
            images.append({"id": image_id, "file_name": file_name, "width": width, "height": height,
                           "dataset": name, "split": split})
            for ann in anns:
                annotations.append({"id": len(annotations) + 1, "image_id": image_id, **ann})
            sources.append({"file": f"images/{file_name}", "from": f"open-mmlab/mmpose@{COMMIT}:tests/data/{source_path}",
                            "sha256": hashlib.sha256(data).hexdigest(), "licence": licence})
    categories = [{"id": 1, "name": "person", "supercategory": "person",
                   "keypoints": ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
                                 "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
                                 "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]}]
    everything = {"images": images, "annotations": annotations, "categories": categories}
    _write(dest / "devset.json", everything)
    for split in ("tune", "check"):
        ids = {im["id"] for im in images if im["split"] == split}
        _write(dest / f"{split}.json", {"images": [im for im in images if im["id"] in ids],
                                        "annotations": [a for a in annotations if a["image_id"] in ids],
                                        "categories": categories})
    _write(dest / "SOURCES.json", sources)
    return {split: {"people": p, "images": n} for split, (p, n) in totals.items()}


def _write(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mmpose", type=Path, help="a clone (or bare git dir) of open-mmlab/mmpose holding COMMIT")
    print(build(parser.parse_args().mmpose))


if __name__ == "__main__":
    main()
