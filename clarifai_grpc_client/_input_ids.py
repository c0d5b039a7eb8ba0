"""Input ids derived from what an input holds, so uploading the same thing twice names it once.

``derive_input_id(data, source)`` is a pure function: the first 32 hex digits of a SHA-256 over
a version tag, the ``source`` (a file's absolute path, or ``""``) and the deterministic protobuf
encoding of ``data`` (the image or file bytes, the text, or the URL, with any metadata). The
same data from the same source always gets the same id, on any machine and in any process, so
a rerun upload (or a batch job that splits one upload across workers) meets the ids it stored
before instead of storing copies. The ids have the shape the service gives its own (32
lowercase hex digits). ``random_input_id()`` is the alternative for callers who want every
upload stored anew.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .proto import Data

_VERSION = b"clarifai-input-id/1\0"


def derive_input_id(data: Data, source: str = "") -> str:
    """The id for an input holding ``data``, read from ``source`` (a file path, or "" when it has none)."""
    import hashlib  # here: only derived ids need it

    digest = hashlib.sha256(_VERSION)
    digest.update(source.encode("utf-8"))
    digest.update(b"\0")
    digest.update(data.SerializeToString(deterministic=True))
    return digest.hexdigest()[:32]


def random_input_id() -> str:
    """A fresh random id (32 lowercase hex digits): the same item uploaded twice is stored twice."""
    import uuid  # here: the module (and the platform probing it does) costs the package's import time

    return uuid.uuid4().hex
