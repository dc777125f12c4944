"""Every ``movenet/1`` result and ``movenet-run/1`` manifest the suite writes follows the shipped
JSON Schema: :func:`invalid_documents` walks a folder (the session's ``basetemp``) and
validates each JSON file that names one of those schemas.

Documents a test makes by hand (a minimal manifest for ``compare``, say) are not the tool's:
a document counts as written by the tool when it has the fields only the tool fills in
(:data:`WRITTEN_BY_US`). Tests that damage a tool-written document on purpose (to check that
the tool refuses it) are listed in :data:`EXEMPT` by the name of their ``tmp_path`` folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from movenet_cli.schemas import FILES, validate

# Fields the tool always writes, and a hand-made test document seldom has.
WRITTEN_BY_US = {"movenet/1": ("keypoint_names", "skeleton"), "movenet-run/1": ("movenet_version", "started")}
# tmp_path folders (pytest names them after the test) whose documents are damaged on purpose.
EXEMPT = ("test_caught_", "test_damaged_", "test_manifest_field_", "test_bad_document", "test_corrupt",
          "test_a_manifest_with_a_field_o", "test_a_resumed_run_over_a_dama", "test_a_result_with_a_field_of")


def _exempt(path: Path, base: Path) -> bool:
    first = path.relative_to(base).parts[0]
    return any(first.startswith(prefix) for prefix in EXEMPT)


def invalid_documents(base: Path, limit: int = 2_000_000) -> list[str]:
    """``path: reason`` for each schema document under ``base`` that does not follow its schema."""
    import jsonschema

    bad = []
    for path in sorted(base.rglob("*.json")):
        try:
            if not path.is_file() or path.stat().st_size > limit or _exempt(path, base):
                continue
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue  # not ours, or not JSON (tests make such files on purpose, nested too deep among them)
        if not isinstance(doc, dict) or doc.get("schema") not in FILES:
            continue
        if not all(key in doc for key in WRITTEN_BY_US[doc["schema"]]):
            continue  # made by hand in a test
        try:
            validate(doc)
        except jsonschema.ValidationError as exc:
            where = "/".join(map(str, exc.absolute_path)) or "(top)"
            bad.append(f"{path}: {where}: {exc.message[:200]}")
    return bad
