"""The names a folder run writes that tools reading results back need too: the manifest's file
name and schema (written by :mod:`movenet_cli.run.manifest`, compared by :mod:`.compare`)."""

MANIFEST_NAME = "movenet-run.json"
MANIFEST_SCHEMA = "movenet-run/1"
