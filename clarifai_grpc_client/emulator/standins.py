"""Stand-ins under the names of the service's own public models, so documented examples run offline.

``general-image-recognition`` (``visual-classifier``) answers an image with concepts from a fixed
vocabulary of general concepts (:data:`GENERAL_CONCEPTS`). It does not look at the picture:

- Each concept's value is drawn from a hash of the image bytes (base64 inputs) or of the URL
  (URL-only inputs, which are never downloaded), mapped into ``[0.5, 0.99)``: the same input
  always gets the same concepts, and different inputs get different ones.
- A word of a URL's path that names a concept (``.../dog.jpg`` -> ``dog``) scores from ``0.99``
  to ``0.999``, ahead of every drawn value, so an example URL can say what it should be recognised as.
- Text, video and audio inputs fail that output with ``MODEL_INVALID_ARGUMENT``.

``output_config`` (``select_concepts``, ``min_value``, ``max_concepts``) applies as for every
built-in model. Pure logic: no I/O. Registered in :data:`.models.BUILTIN_MODELS` at import.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from urllib.parse import urlsplit

from ..proto.clarifai.api import core_pb2, model_config_pb2
from ..proto.clarifai.api.concepts_pb2 import Concept
from ..proto.clarifai.api.status import status_code_pb2
from .auth import PUBLIC_APP_ID
from .models import BUILTIN_MODELS, BuiltinModel, PredictionError, content_of, select

IMAGE_RECOGNITION_ID = "general-image-recognition"

GENERAL_CONCEPTS: tuple[str, ...] = (
    "animal", "architecture", "art", "beach", "bird", "boat", "building", "car", "cat", "city", "daylight",
    "dog", "food", "indoors", "landscape", "light", "man", "mountain", "nature", "no person", "outdoors",
    "people", "portrait", "railway", "road", "sky", "snow", "sport", "street", "subway", "technology", "train",
    "transportation system", "travel", "tree", "urban", "vehicle", "water", "winter", "woman",
)
_WORD = re.compile(r"[a-z]+")
_NAMED = 0.99  # a concept named by the URL's path scores at least this


def _drawn(seed: bytes, name: str) -> float:
    digest = hashlib.sha256(seed + b"\x00" + name.encode()).digest()
    return 0.5 + 0.49 * int.from_bytes(digest[:4], "big") / 2**32


def _named_in(url: str) -> list[str]:
    words = _WORD.findall(urlsplit(url).path.lower())
    joined = " ".join(words)
    return [c for c in GENERAL_CONCEPTS if c in words or (" " in c and c in joined)]


def recognise(data: core_pb2.Data, cfg: model_config_pb2.OutputConfig) -> core_pb2.Data:
    """The concepts of one image input (see the module docstring); raises :class:`.models.PredictionError`."""
    c = content_of(data)
    if c.kind != "image":
        raise PredictionError(status_code_pb2.MODEL_INVALID_ARGUMENT,
                              f"{IMAGE_RECOGNITION_ID} takes image inputs; this input has {c.kind or 'no content'}")
    seed = b"bytes:" + hashlib.sha256(c.raw).digest() if c.raw else b"url:" + c.url.encode()
    named = [] if c.raw else _named_in(c.url)
    scores = {name: _drawn(seed, name) for name in GENERAL_CONCEPTS}
    for name in named:
        scores[name] = _NAMED + 0.009 * (scores[name] - 0.5) / 0.49
    chosen = select([(n, n, v) for n, v in scores.items()], cfg)
    return core_pb2.Data(concepts=[Concept(id=i, name=n, value=round(v, 6), app_id=PUBLIC_APP_ID) for i, n, v in chosen])


IMAGE_RECOGNITION = BuiltinModel(
    IMAGE_RECOGNITION_ID, "General image recognition (emulator)", "visual-classifier",
    f"{zlib.crc32(IMAGE_RECOGNITION_ID.encode()):08x}" * 4,
    "General concepts drawn deterministically from the image bytes or URL (not recognised from the picture)",
    GENERAL_CONCEPTS, ("image",), recognise,
)
BUILTIN_MODELS.setdefault(IMAGE_RECOGNITION.id, IMAGE_RECOGNITION)
