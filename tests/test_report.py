"""The HTML report: its numbers on synthetic frames, its pictures on a real run, and the page in Chromium.

The browser tests drive Debian's Chromium (``/usr/bin/chromium``, installed by
``tests/browser_setup.sh``) with Playwright; they skip, saying why, only when
either is missing. Each run saves a screenshot of the page to ``out/report.png``
(``MOVENET_REPORT_SCREENSHOT=path.png`` to put it elsewhere); ``docs/report.png`` is one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import imageio_ffmpeg
import numpy as np
import pytest

from movenet_cli.render.report import (
    ReportError,
    bucket_of,
    choose_frames,
    input_stats,
    write_report,
    write_video_report,
)
from movenet_cli.results import load_result
from movenet_cli.types import FrameResult, Pose

ROOT = Path(__file__).resolve().parents[1]
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
CHROMIUM = Path(os.environ.get("MOVENET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
GREY = "sub/grey <none> #1.jpg"  # a name that must be escaped in HTML and percent-encoded in links


def _frame(index: int, scores: list[float]) -> FrameResult:
    people = [Pose(np.zeros((17, 3)), s, None, n + 1) for n, s in enumerate(scores)]
    return FrameResult(index, index / 30, people)


# ---------------------------------------------------------------- numbers on synthetic frames


def test_input_stats_exact():
    frames = [_frame(0, []), _frame(1, [0.5, 0.7]), _frame(2, [0.3]), _frame(3, [])]
    s = input_stats(frames)
    assert (s.frames, s.people_min, s.people_max, s.detections) == (4, 0, 2, 3)
    assert s.people_mean == pytest.approx(0.75)
    assert s.nobody_share == pytest.approx(0.5)
    assert s.mean_score == pytest.approx(0.5)
    empty = input_stats([])
    assert (empty.frames, empty.people_mean, empty.mean_score) == (0, None, None)


def test_choose_frames_most_people_lowest_score_middle():
    frames = [_frame(i, s) for i, s in enumerate([[], [0.9], [0.8, 0.8, 0.7], [0.2], [0.9], [], [0.6]])]
    assert choose_frames(frames) == [("most people", 2), ("lowest score, middle", 3)]
    # One frame: chosen once for every reason; nobody anywhere: no "lowest score".
    assert choose_frames([_frame(0, [0.5])]) == [("most people, lowest score, middle", 0)]
    assert choose_frames([_frame(0, []), _frame(1, []), _frame(2, [])]) == [("most people", 0), ("middle", 1)]
    assert choose_frames([]) == []


def test_buckets():
    ok = input_stats([_frame(0, [0.6])])
    low = input_stats([_frame(0, [0.28])])
    nobody = input_stats([_frame(0, [])])
    assert bucket_of("done", ok) == "done"
    assert bucket_of("skipped", ok) == "done"
    assert bucket_of("done", low) == "low"
    assert bucket_of("done", ok, low_score=0.7) == "low"
    assert bucket_of("done", nobody) == "nobody"
    assert bucket_of("failed", ok) == "failed"  # an incomplete video with outputs is still a failure
    assert bucket_of("failed", None) == "failed"
    assert bucket_of("done", None) == "failed"  # done but nothing to measure: results are missing
    assert bucket_of("pending", None) == "pending"


def test_missing_manifest_is_a_one_line_error(tmp_path):
    with pytest.raises(ReportError) as info:
        write_report(tmp_path)
    assert str(tmp_path / "movenet-run.json") in str(info.value) and "no such file" in str(info.value)
    (tmp_path / "movenet-run.json").write_text("{}")
    with pytest.raises(ReportError, match="not a movenet-run/1 manifest"):
        write_report(tmp_path)


# ---------------------------------------------------------------- a real folder run


def _ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A ``dir`` run over a good clip, a photo, an image with nobody and a broken file, with its report."""
    base = tmp_path_factory.mktemp("report")
    src, out = base / "in", base / "out"
    (src / "sub").mkdir(parents=True)
    _ffmpeg("-i", str(ROOT / "sample_media/demo_clip.mp4"), "-t", "1", "-c", "copy", str(src / "clip.mp4"))
    shutil.copy(ROOT / "sample_media/person.jpg", src / "person.jpg")
    _ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=320x240", "-frames:v", "1", str(src / GREY))
    (src / "broken.mp4").write_text("this is not a video\n")
    (src / "notes.txt").write_text("not media\n")  # not taken: listed in the report with the reason
    cmd = [sys.executable, "-m", "movenet_cli", "dir", str(src), "-o", str(out), "-q", "--report"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr  # one input failed, and the report is still written
    assert f"report: {out / 'report.html'}" in done.stderr and (out / "report.html").is_file()
    # The clip's mean person score is 0.37 and the photo's 0.45: 0.4 puts one in each bucket.
    cmd = [sys.executable, "-m", "movenet_cli", "report", str(out), "--low-score", "0.4"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr.strip() == f"report: {out / 'report.html'}", done.stderr
    return out


def _manifest(out: Path) -> dict:
    return json.loads((out / "movenet-run.json").read_text())


def _decode_frame(path: Path, n: int, width: int = 320) -> np.ndarray:
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{n}),scale={width}:-2",
           "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).astype(float)


def _jpeg_gray(path: Path) -> np.ndarray:
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]
    return np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, np.uint8).astype(float)


def test_thumbnails_are_the_chosen_frames_of_the_annotated_video(run_dir):
    doc = load_result(run_dir / "clip.mp4.json")
    chosen = choose_frames(doc.frames)
    assert len(chosen) == 3
    files = sorted((run_dir / "report_files").glob("clip.mp4-*.jpg"))
    assert len(files) == 3
    for _, position in chosen:
        thumb = next(f for f in files if f.stem.endswith(f"-f{doc.frames[position].index}"))
        _assert_is_frame(thumb, run_dir / "clip.mp4", position, len(doc.frames))


def _assert_is_frame(thumb: Path, video: Path, position: int, count: int) -> None:
    """``thumb`` looks more like frame ``position`` of ``video`` than like any of its neighbours."""
    picture = _jpeg_gray(thumb)
    assert picture.size == 320 * 180
    near = range(max(0, position - 2), min(count, position + 3))
    diffs = {n: np.abs(picture - _decode_frame(video, n)).mean() for n in near}
    assert min(diffs, key=diffs.get) == position, diffs


def test_page_content_and_escaping(run_dir):
    html = (run_dir / "report.html").read_text()
    assert "grey &lt;none&gt; #1.jpg" in html and "<none>" not in html
    assert "grey%20%3Cnone%3E%20%231.jpg.json" in html
    for needle in ("http://", "https://", "//cdn", "@import", "url("):
        assert needle not in html
    names = [row.split('class="name">')[1].split("<")[0] for row in html.split("<tr data-bucket=")[1:]]
    assert names == ["broken.mp4", "sub/grey &lt;none&gt; #1.jpg", "clip.mp4", "person.jpg"]
    not_taken = html.split('<ul class="not-taken">')[1].split("</ul>")[0]
    assert 'class="name">notes.txt</span>' in not_taken and "not an image or video" in not_taken
    assert "<b>1</b><span>not taken</span>" in html


def test_video_report_from_the_command_line(run_dir, tmp_path):
    clip = run_dir.parent / "in" / "clip.mp4"
    page = tmp_path / "clip.html"
    cmd = [sys.executable, "-m", "movenet_cli", "video", str(clip), "--no-video", "--json", str(tmp_path / "c.json"),
           "--end", "0.5", "--report", str(page)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"report: {page}" in done.stderr
    assert len(list((tmp_path / "clip_files").glob("*.jpg"))) >= 2 and "<svg" in page.read_text()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)  # outputs exist now
    assert done.returncode == 1 and "already exists" in done.stderr
    cmd[-1] = str(tmp_path / "clip.txt")
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "must end in .html" in done.stderr


def test_unreadable_results_are_reported_as_failed(run_dir, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(run_dir, out)
    (out / "person.jpg.json").write_text('{"schema": "movenet/1", "frames": [')
    html = write_report(out).read_text()
    row = next(r for r in html.split("<tr data-bucket=")[1:] if 'class="name">person.jpg<' in r)
    assert row.startswith('"failed"') and "results cannot be read" in row and "not JSON" in row
    assert 'data-bucket="failed" aria-pressed="false">Failed (2)' in html


def test_video_report_draws_the_skeleton_over_the_source(run_dir, tmp_path):
    src = Path(json.loads((run_dir / "clip.mp4.json").read_text())["source"]["path"])
    assert src.is_file()
    annotated = write_video_report(run_dir / "clip.mp4.json", run_dir / "clip.mp4", tmp_path / "clip.html")
    plain = write_video_report(run_dir / "clip.mp4.json", None, tmp_path / "plain.html")
    assert "<svg" not in annotated.read_text()  # the annotated video has the skeleton already
    page = plain.read_text()
    assert page.count("<svg") == 3 and page.count("<line") > 20
    doc = load_result(run_dir / "clip.mp4.json")
    for _, position in choose_frames(doc.frames):  # cut from the source at the frame's own time
        (thumb,) = (tmp_path / "plain_files").glob(f"*-f{doc.frames[position].index}.jpg")
        _assert_is_frame(thumb, src, doc.frames[position].index, len(doc.frames))
    with pytest.raises(ReportError, match="no such file"):
        write_video_report(tmp_path / "none.json", None, tmp_path / "none.html")


# ---------------------------------------------------------------- the page in a real browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (run tests/browser_setup.sh, or apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(browser, page_path: Path, width: int = 1280):
    """Open the report; return the page and the problems seen while loading it."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url} {r.failure}"))
    page.on("request", lambda r: None if r.url.startswith("file://") else problems.append(f"network: {r.url}"))
    page.goto(page_path.as_uri())
    page.wait_for_load_state("load")
    return page, problems


def _column(page, name: str) -> list[str]:
    index = page.eval_on_selector_all("#inputs thead th", f"hs => hs.findIndex(h => h.textContent.trim() === {name!r})")
    return page.eval_on_selector_all(
        "#inputs tbody tr", f"rs => rs.filter(r => !r.hidden).map(r => r.cells[{index}].getAttribute('data-v'))"
    )


def _names(page) -> list[str]:
    script = "rs => rs.filter(r => !r.hidden).map(r => r.querySelector('.name').textContent)"
    return page.eval_on_selector_all("#inputs tbody tr", script)


def test_report_in_chromium(browser, run_dir):
    page, problems = _open(browser, run_dir / "report.html")
    shot = Path(os.environ.get("MOVENET_REPORT_SCREENSHOT") or ROOT / "out" / "report.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)  # as the page first opens
    images = page.eval_on_selector_all("img", "is => is.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])")
    assert len(images) == 5  # clip 3, photo 1, grey image 1
    assert all(complete and width > 0 for _, complete, width in images), images
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1  # no sideways scroll
    first = page.locator("#inputs tbody tr").first
    assert first.get_attribute("data-bucket") == "failed"
    assert "broken.mp4" in first.inner_text() and "not a video file" in first.inner_text()
    assert _names(page) == ["broken.mp4", GREY, "clip.mp4", "person.jpg"]

    page.click("#inputs th >> text=Frames")
    assert _column(page, "Frames") == ["1.0", "1.0", "32.0", ""]  # unknown last
    page.click("#inputs th >> text=Frames")
    assert _column(page, "Frames") == ["32.0", "1.0", "1.0", ""]
    page.click("#inputs th >> text=Input")
    assert _names(page) == ["broken.mp4", "clip.mp4", "person.jpg", GREY]

    page.click(".filters >> text=Nobody found")
    assert _names(page) == [GREY]
    assert page.locator("#inputs tbody tr", has_text="clip.mp4").is_hidden()
    page.click(".filters >> text=Low score")
    assert _names(page) == ["clip.mp4"]
    page.click(".filters >> text=All")
    assert len(_names(page)) == 4

    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
    assert len(hrefs) == 8  # manifest; clip video, JSON, CSV; photo image, JSON; grey image, JSON
    for href in hrefs:
        url = urlparse(href)
        assert url.scheme == "file" and Path(unquote(url.path)).is_file(), href
    page.close()
    assert problems == []


def test_report_survives_a_move_and_fits_a_phone(browser, run_dir, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(run_dir, moved)
    page, problems = _open(browser, moved / "report.html", width=390)
    images = page.eval_on_selector_all("img", "is => is.map(i => i.naturalWidth)")
    assert images and all(w > 0 for w in images)
    sources = page.eval_on_selector_all("img", "is => is.map(i => i.src)")
    assert all(unquote(urlparse(s).path).startswith(str(moved)) for s in sources), sources
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow} px wider than a 390 px phone screen"
    page.close()
    assert problems == []
