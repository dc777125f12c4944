"""Storage behind one seam: a bucket URL (``s3://``, ``gs://``, ``az://``/``abfs://``) looks like a folder.

Everything that lists, reads, publishes or locks on object storage goes through :class:`Store`,
with fsspec and its maintained back ends underneath (``s3fs``, ``gcsfs``, ``adlfs``: the extras
``movenet-cli[s3]``, ``[gcs]``, ``[azure]``). Credentials are the back end's business, taken the
ways it documents (environment, profiles, instance roles); they are never printed: every message
goes through :func:`redact`. An S3-compatible store is reached by setting ``AWS_ENDPOINT_URL``
(or ``AWS_ENDPOINT_URL_S3``), as botocore documents.

- :meth:`Store.listing` is one recursive listing (relative key -> size): planning and resume read
  it instead of asking key by key.
- :meth:`Store.publish` uploads a finished local file to its final key: the object appears whole
  or not at all (a multipart upload is aborted on failure by the back end).
- :meth:`Store.lock` is a conditional write (``If-None-Match: *``): the second writer is refused.

Example::

    from movenet_cli.storage import as_url, redact

    print(as_url("s3://footage/day1"))            # s3://footage/day1
    print(as_url("footage/day1"))                 # None: a local path
    print(redact("s3://KEY:SECRET@footage/x"))    # s3://KEY:***@footage/x
"""

from __future__ import annotations

from .store import SCHEMES, Store, StorageError, as_url, redact

__all__ = ["SCHEMES", "Store", "StorageError", "as_url", "redact"]
