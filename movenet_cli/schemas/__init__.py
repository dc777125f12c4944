"""JSON Schemas of the files movenet-cli writes, shipped with the package.

- ``movenet-1.schema.json``: a ``movenet/1`` result (``--json``);
- ``movenet-run-1.schema.json``: the ``movenet-run/1`` manifest of a folder run (``movenet-run.json``).

Both are JSON Schema draft 2020-12, for any validator. :func:`validate` checks a document
against the schema its own ``"schema"`` field names, with ``jsonschema``.

Example::

    import json
    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.schemas import schema_path, validate

    process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4",
                  Outputs(json=Path("out/clip.json")), end=0.5)
    validate(json.loads(Path("out/clip.json").read_text()))   # raises jsonschema.ValidationError if not
    print(schema_path("movenet/1"))          # .../movenet_cli/schemas/movenet-1.schema.json
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

FILES = {"movenet/1": "movenet-1.schema.json", "movenet-run/1": "movenet-run-1.schema.json"}

__all__ = ["FILES", "load_schema", "schema_path", "validate"]


def schema_path(name: str) -> Path:
    """Where the schema ``name`` (``movenet/1`` or ``movenet-run/1``) is installed."""
    try:
        return Path(__file__).with_name(FILES[name])
    except KeyError:
        raise ValueError(f"no schema named {name!r}; known: {', '.join(FILES)}") from None


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``name`` as a dict."""
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


def validate(doc: Any) -> str:
    """Validate ``doc`` against the schema its ``"schema"`` field names; returns that name.

    Raises ``jsonschema.ValidationError`` when the document does not follow it, and
    ``ValueError`` when it names no schema of ours."""
    import jsonschema

    name = doc.get("schema") if isinstance(doc, dict) else None
    schema = load_schema(name if isinstance(name, str) else "")
    jsonschema.Draft202012Validator(schema, format_checker=None).validate(doc)
    return name
