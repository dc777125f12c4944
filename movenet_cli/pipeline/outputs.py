"""Where one input's results go, the checks before anything is written, and the JSON header blocks.

Example::

    from pathlib import Path
    from movenet_cli.pipeline.outputs import check_outputs, image_outputs

    image = Path("sample_media/person.jpg")
    outputs = image_outputs(image, Path("out"), single=False, csv=True)
    print(outputs.paths())                  # out/person.jpg, out/person.jpg.json, out/person.jpg.csv
    check_outputs([image], outputs, overwrite=False)   # OutputExistsError if one exists
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import EXIT_FAILED, MovenetError, OutputExistsError, UsageError
from ..media.formats import IMAGE_EXTENSIONS, image_extension
from ..render.jsonl import STDOUT, JsonlSink, is_stream_path
from ..render.sinks import CsvSink, JsonSink
from ..util.fs import Publication, temp_path_for

__all__ = ["CollisionError", "Outputs", "OutputExistsError", "Target", "WriteSet", "check_outputs", "check_unique",
           "image_outputs", "is_own", "mirrored_outputs", "within", "model_info", "open_sinks", "OutputSet", "same_file"]


@dataclass
class Outputs:
    """Where one input's results go; ``None`` skips that output."""

    media: Path | None = None
    json: Path | None = None
    csv: Path | None = None
    plot: Path | None = None  # video only: PNG summary of the run (movenet_cli.render.plot)
    angles: Path | None = None  # *.angles.csv (movenet_cli.pipeline.analysis)
    coco: Path | None = None  # COCO keypoint results
    openpose: Path | None = None  # folder: one OpenPose JSON per frame
    trc: Path | None = None  # folder: one TRC per tracked person

    jsonl: Path | str | None = None  # JSON Lines, one line per frame as it comes; "-" for stdout

    def paths(self) -> list[Path]:
        """The files to check and publish (a JSON Lines stream to stdout, a FIFO or a device is none);
        :meth:`folders` are the export folders."""
        jsonl = None if self.jsonl is None or self.jsonl == STDOUT or is_stream_path(Path(self.jsonl)) else self.jsonl
        return [p for p in (self.media, self.json, self.csv, self.plot, self.angles, self.coco, jsonl) if p is not None]

    def folders(self) -> list[Path]:
        return [p for p in (self.openpose, self.trc) if p is not None]


def _beside(target: Path, ext: str) -> Path:
    """A data file named after the full output name: ``a.jpg`` -> ``a.jpg.json``."""
    return target.with_name(target.name + ext)


def image_outputs(path: Path, output: Path, *, single: bool, csv: bool) -> Outputs:
    """The outputs of ``movenet image``: ``output`` itself for a single image (data files take its
    stem), else ``output/NAME`` with the data files named after the full name."""
    if single:
        return Outputs(output, output.with_suffix(".json"), output.with_suffix(".csv") if csv else None)
    target = output / path.name
    if path.suffix.lower() not in IMAGE_EXTENSIONS:  # the annotated image needs a format its name says
        target = _beside(target, image_extension(path) or ".png")
    return Outputs(target, _beside(target, ".json"), _beside(target, ".csv") if csv else None)


def mirrored_outputs(target: Path, kind: str, *, video: bool, image_csv: bool) -> Outputs:
    """The outputs of one ``dir`` input whose mirrored path under the output folder is ``target``.

    Annotated images keep their name; annotated videos are ``NAME.mp4`` for ``NAME.mp4`` inputs
    and ``NAME.EXT.mp4`` otherwise; data files are the full name plus ``.json`` / ``.csv``.
    """
    if kind == "image":
        return Outputs(target, _beside(target, ".json"), _beside(target, ".csv") if image_csv else None)
    annotated = target if target.suffix.lower() == ".mp4" else _beside(target, ".mp4")
    return Outputs(annotated if video else None, _beside(target, ".json"), _beside(target, ".csv"))


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file: the same path after links are resolved, or one inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


def check_unique(plans: Iterable[tuple[Path, Outputs]]) -> None:
    """Refuse two inputs that would write the same file."""
    writes = WriteSet()
    for source, outputs in plans:
        writes.add_outputs(outputs, input=source, managed=True)
    writes.check(overwrite=True)


def check_outputs(inputs: Iterable[Path], outputs: Outputs, *, overwrite: bool) -> None:
    """Refuse, before any work, outputs that would overwrite each other (links included), an
    input, or, unless asked, an existing file (see :class:`WriteSet`)."""
    writes = WriteSet(inputs)
    writes.add_outputs(outputs)
    writes.check(overwrite=overwrite)


# -- everything a command writes, checked as one set ---------------------------------------

# The reports a command rebuilds: an earlier one it wrote (known by how it starts) is replaced
# without --overwrite; any other file at that path is not.
_OWN_MARKS = {
    "junit": (b"<testsuites name=\"movenet",),
    "compare": (b'"schema": "movenet-compare/1"',),
    "report": (b"<title>movenet report", b'<meta name="generator" content="movenet'),
}
_FIELDS = {"media": "the annotated media", "json": "the JSON", "csv": "the CSV", "plot": "the plot",
           "angles": "the --angles CSV", "coco": "the --format coco file", "jsonl": "the JSON Lines",
           "openpose": "the --format openpose folder", "trc": "the --format trc folder"}
_KINDS = {"junit": "JUnit report", "compare": "compare report", "report": "HTML report"}


@dataclass(frozen=True)
class Target:
    """One file or folder a command writes, and how the user named it (``option``)."""

    path: Path
    option: str
    folder: bool = False  # a folder of files (an export): nothing else may be written in it
    shared: bool = False  # a folder the tool adds its own named files to (report pictures)
    rebuilds: str | None = None  # a report of this kind: an earlier one of ours is replaced
    managed: bool = False  # whether it may exist is the command's own business (resume, manifest)
    input: Path | None = None  # the input whose output it is


def is_own(path: Path, kind: str) -> bool:
    """Whether ``path`` is a report of ``kind`` (see :data:`_OWN_MARKS`) that this tool wrote."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return any(mark in head for mark in _OWN_MARKS[kind])


class WriteSet:
    """Everything one command will write, declared before any work, and checked as one set:
    against itself (the same file twice, links, ``..``, names that differ only in case on a
    folder that ignores case, a file inside an export folder), against the inputs (and, with
    ``sealed``, inside input folders), and against what exists (refused unless ``overwrite``,
    but for an earlier report of the tool's own).

    Example::

        writes = WriteSet([Path("in.mp4")])
        writes.add_outputs(Outputs(Path("out/a.mp4"), Path("out/a.json")), options={"json": "--json"})
        writes.add(Path("out/a.json"), "--junit", rebuilds="junit")
        writes.check(overwrite=False)  # UsageError: out/a.json: given for two outputs (--json and --junit)
    """

    def __init__(self, inputs: Iterable[str | os.PathLike] = (), *, sealed: Iterable[str | os.PathLike] = ()):
        self.inputs = [Path(p) for p in inputs]
        self.sealed = [Path(p) for p in sealed]  # input folders nothing may be written into
        self.targets: list[Target] = []
        self.overwrite = False  # as the last check was made

    def add(self, path: str | os.PathLike | None, option: str, **how) -> Target | None:
        if path is None:
            return None
        target = Target(Path(path), option, **how)
        self.targets.append(target)
        return target

    def add_outputs(self, outputs: Outputs, *, input: Path | None = None, managed: bool = False,
                    options: dict[str, str] | None = None) -> None:
        """The files and folders of one input's :class:`Outputs`; ``options`` names the ones the user gave."""
        named = {**_FIELDS, **(options or {})}
        jsonl = outputs.jsonl
        if jsonl is not None and (str(jsonl) == STDOUT or is_stream_path(Path(jsonl))):
            jsonl = None  # stdout, a FIFO or a device: a stream, not a file
        files = {"media": outputs.media, "json": outputs.json, "csv": outputs.csv, "plot": outputs.plot,
                 "angles": outputs.angles, "coco": outputs.coco, "jsonl": jsonl}
        for key, path in files.items():
            self.add(path, named[key], input=input, managed=managed)
        for key in ("openpose", "trc"):
            self.add(getattr(outputs, key), named[key], folder=True, input=input, managed=managed)

    def paths(self) -> list[Path]:
        """The files (not the folders) of the set."""
        return [t.path for t in self.targets if not (t.folder or t.shared)]

    def check(self, *, overwrite: bool) -> None:
        """Refuse the set, in one line naming the path and the options involved, before any work.
        The error keeps the set (``writes``), to ask which of its files may still be written."""
        self.overwrite = overwrite
        try:
            self._check(overwrite)
        except MovenetError as exc:
            exc.writes = self
            raise

    def allows(self, path: str | os.PathLike) -> bool:
        """Whether the file ``path`` of this set is free to be written, whatever else was refused:
        no other output or input is that file (or holds it), and it may replace what is there. So
        a JUnit report can still say why the command stopped."""
        target = next((t for t in self.targets if t.path == Path(path)), None)
        if target is None:
            return False
        for other in self.targets:
            if other is not target and (same_file(other.path, path) or (other.folder and within(path, other.path))):
                return False
        if any(same_file(path, p) for p in self.inputs) or any(within(path, d) for d in self.sealed):
            return False
        try:
            _check_existing(target, self.overwrite)
        except ExistingOutput:
            return False
        return Path(path).parts[:1] != (STDOUT,)

    def _check(self, overwrite: bool) -> None:
        for target in self.targets:  # "-" is stdin for a source, stdout for --jsonl: never a file's name
            if target.path.parts[:1] == (STDOUT,):
                raise UsageError(f"{target.option}: - is not a file here (only --jsonl - writes to stdout); "
                                 "give a file name")
        keys = _Keys()
        for target in self.targets:
            other = keys.claim(target)
            if other is not None:
                raise _collision(target, other)
        folders = {keys.real[id(t)]: t for t in self.targets if t.folder}
        for target in self.targets:  # nothing inside an export folder but its own files
            folder = _enclosing(keys.real[id(target)], folders, strict=True)
            if folder is not None:
                raise CollisionError(f"{target.path}: {target.option} would be written inside {folder.option} "
                                     f"({folder.path}); give each output its own path", target, folder)
        self._check_inputs(keys, folders)
        for target in self.targets:
            if not target.managed:
                _check_existing(target, overwrite)

    def _check_inputs(self, keys: "_Keys", folders: dict[str, Target]) -> None:
        sealed = {os.path.realpath(p): p for p in self.sealed}
        for source in self.inputs:
            real = os.path.realpath(source)
            target = keys.find(real, source)
            if target is None:
                target = _enclosing(real, folders, strict=False)
            if target is not None:
                raise CollisionError(f"{target.path}: {target.option} would overwrite its input {source}; "
                                     "choose another output path", target, exit_code=EXIT_FAILED)
        for target in self.targets:
            folder = _enclosing(keys.real[id(target)], sealed, strict=False)
            if folder is not None:
                raise CollisionError(f"{target.path}: {target.option} would be written inside the input folder "
                                     f"{folder}; choose a path outside it", target)


class CollisionError(UsageError):
    """Two outputs, or an output and an input, name one file; ``targets`` are the outputs involved."""

    def __init__(self, message: str, *targets: Target, exit_code: int | None = None):
        super().__init__(message, exit_code=exit_code)
        self.targets = targets


def _collision(target: Target, other: Target) -> CollisionError:
    if target.input is not None and target.input == other.input and target.option == other.option:
        return CollisionError(f"{target.input}: given twice; give each input once", target, other)
    if target.input is not None and other.input is not None and target.input != other.input:
        return CollisionError(f"{other.input} and {target.input} would both write {target.path}; use separate runs",
                              target, other, exit_code=EXIT_FAILED)
    return CollisionError(f"{target.path}: given for two outputs ({other.option} and {target.option}); "
                          "give each output its own path", target, other)


def within(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether ``path`` is ``folder`` or below it, links and ``..`` resolved."""
    return _enclosing(os.path.realpath(path), {os.path.realpath(folder): True}, strict=False) is not None


def _enclosing(real: str, folders: dict[str, Any], *, strict: bool):
    """The entry of ``folders`` (by real path) that holds ``real`` (or is it, unless ``strict``)."""
    here = real if not strict else os.path.dirname(real)
    while True:
        if here in folders:
            return folders[here]
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


class ExistingOutput(OutputExistsError):
    """An output path that already holds something the command may not replace."""

    def __init__(self, message: str, target: Target):
        super().__init__(message)
        self.targets = (target,)


def _check_existing(target: Target, overwrite: bool) -> None:
    path = target.path
    if target.folder or target.shared:
        if (path.exists() or path.is_symlink()) and not path.is_dir():
            raise ExistingOutput(f"{path}: {target.option} exists and is not a folder", target)
        if target.folder and path.is_dir() and any(path.iterdir()) and not overwrite:
            raise ExistingOutput(f"{path}: {target.option} already holds files; pass --overwrite to write into it",
                                 target)
        return
    if path.is_dir():
        raise ExistingOutput(f"{path}: {target.option} is a directory", target)
    if (path.exists() or path.is_symlink()) and not overwrite:
        if target.rebuilds is None:
            raise ExistingOutput(f"{path}: already exists; pass --overwrite to replace it", target)
        if not path.is_file() or path.is_symlink() or not is_own(path, target.rebuilds):
            raise ExistingOutput(f"{path}: already exists and is not an earlier {_KINDS[target.rebuilds]} of movenet "
                                 f"({target.option}); pass --overwrite to replace it", target)


class _Keys:
    """The names under which each target is known: its real path (links and ``..`` resolved), its
    inode when it exists, and its case-folded real path where the folder ignores case (probed only
    when two names differ only in case)."""

    def __init__(self) -> None:
        self.seen: dict[object, Target] = {}
        self.folded: dict[str, tuple[str, Target]] = {}
        self.real: dict[int, str] = {}

    @staticmethod
    def _keys(real: str) -> list[object]:
        keys: list[object] = [real]
        try:
            st = os.stat(real)
            keys.append((st.st_dev, st.st_ino))
        except OSError:
            pass
        return keys

    def find(self, real: str, path: Path) -> Target | None:
        """The target that is the file ``path`` (real path ``real``), if any."""
        for key in self._keys(real):
            if key in self.seen:
                return self.seen[key]
        earlier = self.folded.get(real.casefold())
        if earlier is not None and earlier[0] != real and _ignores_case(os.path.dirname(real)):
            return earlier[1]
        return None

    def claim(self, target: Target) -> Target | None:
        """Record ``target``; return the target recorded earlier under one of its names, if any."""
        real = os.path.realpath(target.path)
        self.real[id(target)] = real
        other = self.find(real, target.path)
        if other is not None:
            return other
        self.folded.setdefault(real.casefold(), (real, target))
        for key in self._keys(real):
            self.seen[key] = target
        return None


def _ignores_case(folder: str) -> bool:
    """Whether the file system holding ``folder`` (or its nearest existing parent) ignores case."""
    while folder and not os.path.isdir(folder):
        folder = os.path.dirname(folder.rstrip(os.sep)) or os.sep
        if folder == os.sep:
            break
    try:
        with tempfile.NamedTemporaryFile(prefix=".movenet-case-a", dir=folder) as probe:
            name = os.path.basename(probe.name)
            return os.path.exists(os.path.join(folder, name.swapcase()))
    except OSError:
        return False


def model_info(estimator, input_shape: tuple[int, int]) -> dict[str, Any]:
    """The JSON ``model`` block: what made the keypoints."""
    return {
        "name": estimator.model,
        "input_size": list(input_shape),
        "backend": estimator.backend,
        "weights_sha256": estimator.weights_sha256,
        "threshold": estimator.threshold,
        "min_pose_score": estimator.min_pose_score,
        "refine": None if estimator.refiner is None else estimator.refiner.model,
        "accuracy": estimator.accuracy_info(),
    }


class OutputSet:
    """The outputs of one input, published together when the ``with`` block ends without an error:
    each is finished under its temporary name first, then all are renamed into place. On an
    error nothing is published, so a rerun never meets half of an input's results.

    Example::

        with OutputSet() as outs:
            sink = outs.add(JsonSink(path, source=source, model=model))
            sink.add(result)
            outs.add_file(Path("out/p.png"), lambda tmp: figure.savefig(tmp))
    """

    def __init__(self) -> None:
        self.parts: list = []  # objects with path, finish() -> temporary path, abort()
        self._files: list[tuple[Path, Callable[[Path], None]]] = []

    def add(self, part):
        self.parts.append(part)
        return part

    def add_file(self, path: Path, write: Callable[[Path], None]) -> None:
        """A file made in one go at the end: ``write(tmp)`` writes it under a temporary name."""
        self._files.append((path, write))

    def __enter__(self) -> "OutputSet":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._abort()
            return
        publication = Publication()
        try:
            for part in self.parts:
                if part.path is not None:  # a stream (path None) ends once the files are in place
                    publication.add(part.finish(), part.path)
            for path, write in self._files:
                tmp = temp_path_for(path)
                publication.add(tmp, path)
                write(tmp)
        except BaseException:
            self._abort()
            publication.discard()
            raise
        publication.publish()
        for part in self.parts:
            if part.path is None:
                part.finish()

    def _abort(self) -> None:
        for part in self.parts:
            part.abort()


def open_sinks(outs: OutputSet, outputs: Outputs, source: dict, model: dict) -> list:
    """The JSON, CSV and JSON Lines sinks the outputs ask for, published with ``outs``."""
    sinks = []
    if outputs.json is not None:
        sinks.append(outs.add(JsonSink(outputs.json, source=source, model=model)))
    if outputs.csv is not None:
        sinks.append(outs.add(CsvSink(outputs.csv)))
    if outputs.jsonl is not None:
        sinks.append(outs.add(JsonlSink(outputs.jsonl, source, model)))
    return sinks


def source_info(path: str | os.PathLike, width: int, height: int, fps: float | None = None, rotation: int = 0,
                video=None) -> dict:
    """The JSON ``source`` block (``frame_count`` is added by the sink); for a video, ``video`` is
    its :class:`~movenet_cli.media.VideoInfo`: which stream was read, and its pixel shape."""
    block = {"path": str(path), "width": width, "height": height, "fps": fps, "rotation": rotation}
    if video is not None:
        sar = video.sample_aspect_ratio
        block["video_stream"] = {"index": video.stream_index, "chosen": video.stream_reason}
        block["sample_aspect_ratio"] = [sar.numerator, sar.denominator]
        block["display_width"], block["display_height"] = video.display_size
    return block
