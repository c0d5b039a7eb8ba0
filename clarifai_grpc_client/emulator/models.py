"""The built-in models: honest, deterministic stand-ins computed from the input's own content.

They are not the service's neural models; they exist so a client can exercise prediction,
workflows and similarity search offline and get outputs that depend on what it sent:

- ``general-embedding`` (``embedder``): a 64-dimensional unit vector. Decodable images
  (PNG/BMP/PPM): a 3x3x3 RGB colour histogram (square-rooted) in dimensions 0-26; text: hashed
  word unigrams and bigrams, other bytes: hashed byte trigrams of the first 64 KiB, both in
  dimensions 27-63 (so pictures and words never look alike). URLs are never fetched, so a
  URL-only input is embedded from the URL's words: identical URLs are identical, nothing more.
- ``color-recognition`` (``color-recognizer``): the dominant colours of a decodable image as
  ``data.colors`` (raw hex of the mean pixel colour, nearest W3C name, share of pixels) and the
  same as concepts named after the W3C colours. JPEG/GIF/WebP and URLs fail per input.
- ``text-keywords`` (``text-classifier``): concepts from a fixed vocabulary of topic keywords;
  a topic's value is ``1 - 0.5 ** hits`` for its keyword hits in ``data.text.raw``.
- ``text-generation`` (``text-to-text``): a generative stand-in whose reply to
  ``data.text.raw`` is the prompt's words in reverse order ("one two three" -> "three two
  one"). ``PostModelOutputs`` answers the whole reply in one message; the streaming RPCs
  (``GenerateModelOutputs``, ``StreamModelOutputs``, see :mod:`.streams`) send it one word per
  message (:func:`generation_chunks`: the first word, then ``" " + word`` for each next one), so
  the concatenated chunks equal the unary reply. The pause between chunks is the emulator's
  stream delay, or per request ``chunk_delay`` (seconds, 0-60) in the model's
  ``output_info.params`` (of ``model.model_version``, else of ``model``).

Every model honours ``output_config.select_concepts``, ``min_value`` and ``max_concepts``.
Pure logic: no I/O.
"""

from __future__ import annotations

import math
import re
import zlib
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from google.protobuf import json_format

from ..proto.clarifai.api import core_pb2, model_config_pb2
from ..proto.clarifai.api.concepts_pb2 import Concept
from ..proto.clarifai.api.media_pb2 import W3C, Color, Embedding, Text
from ..proto.clarifai.api.status import status_code_pb2
from . import colors, imaging
from .auth import PUBLIC_APP_ID, PUBLIC_USER_ID
from .ids import timestamp
from .statuses import make_status

DIMENSIONS = 64
_HIST_LEVELS = 3
_HIST_DIMS = _HIST_LEVELS ** 3  # dimensions [0, 27) hold the colour histogram, the rest hashed features
DEFAULT_MAX_CONCEPTS = 20
_SAMPLE_PIXELS = 20_000
_BYTES_PREFIX = 64 * 1024
_CREATED_NS = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z: built-ins never change
_WORD = re.compile(r"[a-z0-9]+")


class PredictionError(Exception):
    """One input could not be processed; becomes that output's status."""

    def __init__(self, code: int, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Content:
    """What a Data carries for a model: raw bytes, text, or only a URL."""

    kind: str  # "image", "video", "audio", "text" or "" (none)
    raw: bytes = b""
    text: str = ""
    url: str = ""


def content_of(data: core_pb2.Data) -> Content:
    if data.HasField("image") and (data.image.base64 or data.image.url):
        return Content("image", raw=data.image.base64, url=data.image.url)
    if data.HasField("text") and (data.text.raw or data.text.url):
        return Content("text", text=data.text.raw, url=data.text.url)
    if data.HasField("video") and (data.video.base64 or data.video.url):
        return Content("video", raw=data.video.base64, url=data.video.url)
    if data.HasField("audio") and (data.audio.base64 or data.audio.url):
        return Content("audio", raw=data.audio.base64, url=data.audio.url)
    return Content("")


# --- vectors --------------------------------------------------------------------------


def _normalize(vec: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vec))
    return [v / norm for v in vec] if norm > 0 else vec


def _hash_features(features: Sequence[tuple[bytes, float]]) -> list[float]:
    vec = [0.0] * DIMENSIONS
    for feature, weight in features:
        h = zlib.crc32(feature)
        vec[_HIST_DIMS + h % (DIMENSIONS - _HIST_DIMS)] += weight if (h >> 16) & 1 else -weight
    return _normalize(vec)


def text_vector(text: str, prefix: str = "w") -> list[float]:
    words = _WORD.findall(text.lower())
    feats = [(f"{prefix}:{w}".encode(), 1.0) for w in words]
    feats += [(f"{prefix}2:{a} {b}".encode(), 0.5) for a, b in zip(words, words[1:])]
    return _hash_features(feats)


def bytes_vector(raw: bytes) -> list[float]:
    data = raw[:_BYTES_PREFIX]
    return _hash_features([(data[i:i + 3], 1.0) for i in range(max(0, len(data) - 2))])


def _sampled(img: imaging.RGBImage) -> list[tuple[int, int, int]]:
    n = img.width * img.height
    step = max(1, n // _SAMPLE_PIXELS)
    p = img.pixels
    return [(p[3 * i], p[3 * i + 1], p[3 * i + 2]) for i in range(0, n, step)]


def image_vector(img: imaging.RGBImage) -> list[float]:
    hist = [0.0] * DIMENSIONS
    pixels = _sampled(img)
    n = _HIST_LEVELS
    for r, g, b in pixels:
        hist[(r * n >> 8) * n * n + (g * n >> 8) * n + (b * n >> 8)] += 1.0
    return _normalize([math.sqrt(v / len(pixels)) for v in hist])


def embed(data: core_pb2.Data) -> list[float]:
    """The built-in embedding of ``data`` (see the module docstring); raises :class:`PredictionError`."""
    if len(data.embeddings) and len(data.embeddings[0].vector) == DIMENSIONS:
        return _normalize(list(data.embeddings[0].vector))
    c = content_of(data)
    if not c.kind:
        raise PredictionError(status_code_pb2.INPUT_INVALID_ARGUMENT, "the input has no image, text, video or audio to embed")
    if c.kind == "text" and c.text:
        return text_vector(c.text)
    if c.raw:
        if c.kind == "image":
            try:
                return image_vector(imaging.decode(c.raw))
            except imaging.ImageError:
                pass
        return bytes_vector(c.raw)
    return text_vector(c.url, prefix="u")


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b) or not a:
        return 0.0
    dot = sum(x * y for x, y in zip(a, b))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na > 0 and nb > 0 else 0.0


def pack_vector(vec: Sequence[float]) -> bytes:
    return array("f", vec).tobytes()


def unpack_vector(blob: bytes | None) -> list[float] | None:
    if not blob:
        return None
    out = array("f")
    out.frombytes(blob)
    return list(out)


# --- concept selection ----------------------------------------------------------------


def select(scored: Sequence[tuple[str, str, float]], cfg: model_config_pb2.OutputConfig) -> list[tuple[str, str, float]]:
    """Apply ``select_concepts``, ``min_value`` and ``max_concepts`` to (id, name, value) triples.

    Without ``select_concepts`` zero-valued concepts are left out; ``max_concepts`` 0 means 20.
    """
    if len(cfg.select_concepts):
        wanted = {c.id.lower() for c in cfg.select_concepts if c.id} | {c.name.lower() for c in cfg.select_concepts if c.name}
        kept = [s for s in scored if s[0].lower() in wanted or s[1].lower() in wanted]
    else:
        kept = [s for s in scored if s[2] > 0]
    if cfg.min_value > 0:
        kept = [s for s in kept if s[2] >= cfg.min_value - 1e-7]
    kept.sort(key=lambda s: (-s[2], s[0]))
    return kept[:cfg.max_concepts or DEFAULT_MAX_CONCEPTS]


def _concepts(triples: Sequence[tuple[str, str, float]]) -> list[Concept]:
    return [Concept(id=i, name=n, value=round(v, 6), app_id=PUBLIC_APP_ID) for i, n, v in triples]


# --- the three models -----------------------------------------------------------------


def _need_bytes(c: Content, what: str) -> bytes:
    if c.kind != "image":
        raise PredictionError(status_code_pb2.MODEL_INVALID_ARGUMENT, f"{what} takes image inputs; this input has {c.kind or 'no content'}")
    if not c.raw:
        raise PredictionError(status_code_pb2.MP_DOWNLOAD_ERROR,
                              f"the emulator does not download URLs ({c.url!r}); send the image bytes as base64")
    return c.raw


def predict_embedding(data: core_pb2.Data, cfg: model_config_pb2.OutputConfig) -> core_pb2.Data:
    vec = embed(data)
    return core_pb2.Data(embeddings=[Embedding(vector=vec, num_dimensions=DIMENSIONS)])


def predict_colors(data: core_pb2.Data, cfg: model_config_pb2.OutputConfig) -> core_pb2.Data:
    raw = _need_bytes(content_of(data), "color-recognition")
    try:
        img = imaging.decode(raw)
    except imaging.ImageError as exc:
        raise PredictionError(status_code_pb2.MP_IMAGE_DECODE_ERROR, str(exc)) from None
    counts: dict[str, list[int]] = {}
    pixels = _sampled(img)
    for r, g, b in pixels:
        name = colors.nearest_name(r & 0xF0 | 0x08, g & 0xF0 | 0x08, b & 0xF0 | 0x08)
        acc = counts.setdefault(name, [0, 0, 0, 0])
        acc[0] += 1
        acc[1] += r
        acc[2] += g
        acc[3] += b
    scored = [(name, name, acc[0] / len(pixels)) for name, acc in counts.items()]
    chosen = select(scored, cfg)
    out = core_pb2.Data(concepts=_concepts(chosen))
    for name, _, value in chosen:
        got = counts.get(name)
        raw_hex = (colors.rgb_to_hex(got[1] // got[0], got[2] // got[0], got[3] // got[0]) if got
                   else colors.W3C_COLORS[name].lower())
        out.colors.append(Color(raw_hex=raw_hex, w3c=W3C(hex=colors.W3C_COLORS[name].lower(), name=name), value=round(value, 6)))
    return out


KEYWORDS: dict[str, tuple[str, ...]] = {
    "animal": ("animal", "dog", "puppy", "cat", "kitten", "bird", "horse", "cow", "fish", "pet", "wildlife", "lion", "tiger", "bear"),
    "food": ("food", "pizza", "bread", "cheese", "fruit", "apple", "banana", "soup", "pasta", "coffee", "tea", "breakfast",
             "dinner", "lunch", "restaurant", "cook", "recipe", "eat"),
    "sport": ("sport", "football", "soccer", "basketball", "tennis", "golf", "baseball", "match", "team", "goal", "player",
              "olympics", "race"),
    "technology": ("technology", "computer", "software", "internet", "phone", "app", "robot", "ai", "data", "code",
                   "programming", "digital", "device", "laptop", "network"),
    "weather": ("weather", "rain", "snow", "sun", "sunny", "storm", "wind", "cloud", "cloudy", "temperature", "forecast"),
    "travel": ("travel", "trip", "flight", "airport", "hotel", "beach", "vacation", "holiday", "tourist", "journey", "passport"),
    "finance": ("finance", "money", "bank", "stock", "market", "price", "invest", "investment", "dollar", "euro", "tax",
                "loan", "profit", "economy"),
    "health": ("health", "doctor", "hospital", "medicine", "disease", "fitness", "exercise", "diet", "nurse", "patient", "vaccine"),
    "music": ("music", "song", "guitar", "piano", "concert", "band", "singer", "album", "melody", "drum", "jazz"),
    "nature": ("nature", "tree", "forest", "mountain", "river", "lake", "ocean", "flower", "garden", "grass", "leaf", "park"),
    "vehicle": ("vehicle", "car", "bus", "truck", "bike", "bicycle", "motorcycle", "drive", "road", "traffic", "engine", "boat"),
    "people": ("people", "person", "man", "woman", "child", "children", "family", "friend", "crowd", "girl", "boy", "baby"),
}
_KEYWORD_TOPIC = {kw: topic for topic, kws in KEYWORDS.items() for kw in kws}


def keyword_hits(text: str) -> dict[str, int]:
    hits: dict[str, int] = {}
    for word in _WORD.findall(text.lower()):
        topic = _KEYWORD_TOPIC.get(word) or (_KEYWORD_TOPIC.get(word[:-1]) if word.endswith("s") else None)
        if topic:
            hits[topic] = hits.get(topic, 0) + 1
    return hits


def predict_keywords(data: core_pb2.Data, cfg: model_config_pb2.OutputConfig) -> core_pb2.Data:
    c = content_of(data)
    if c.kind != "text":
        raise PredictionError(status_code_pb2.MODEL_INVALID_ARGUMENT, f"text-keywords takes text inputs; this input has {c.kind or 'no content'}")
    if not c.text:
        raise PredictionError(status_code_pb2.MP_DOWNLOAD_ERROR, f"the emulator does not download URLs ({c.url!r}); send data.text.raw")
    hits = keyword_hits(c.text)
    scored = [(topic, topic, 1 - 0.5 ** hits.get(topic, 0)) for topic in KEYWORDS]
    return core_pb2.Data(concepts=_concepts(select(scored, cfg)))


GENERATION_MODEL_ID = "text-generation"
MAX_CHUNK_DELAY = 60.0


def generation_chunks(prompt: str) -> list[str]:
    """The stand-in generative reply to ``prompt``, one word per chunk (see the module docstring)."""
    words = prompt.split()[::-1]
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


def chunk_delay(model: core_pb2.Model) -> float | None:
    """The request's ``chunk_delay`` param (the version's wins), None when not set; raises PredictionError."""
    for info in (model.model_version.output_info, model.output_info):
        if info.HasField("params") and "chunk_delay" in info.params.fields:
            value = info.params.fields["chunk_delay"]
            number = value.number_value if value.WhichOneof("kind") == "number_value" else None
            if number is None or not 0.0 <= number <= MAX_CHUNK_DELAY:
                raise PredictionError(status_code_pb2.MODEL_INVALID_ARGUMENT,
                                      f"output_info.params.chunk_delay must be a number of seconds from 0 to "
                                      f"{MAX_CHUNK_DELAY:g}, got {json_format.MessageToJson(value, indent=None)}")
            return number
    return None


def prompt_of(data: core_pb2.Data) -> str:
    """The prompt of a text-to-text input; raises :class:`PredictionError` for anything else."""
    c = content_of(data)
    if c.kind != "text":
        raise PredictionError(status_code_pb2.MODEL_INVALID_ARGUMENT,
                              f"{GENERATION_MODEL_ID} takes text inputs; this input has {c.kind or 'no content'}")
    if not c.text.strip():
        raise PredictionError(status_code_pb2.MP_DOWNLOAD_ERROR if c.url else status_code_pb2.MODEL_INVALID_ARGUMENT,
                              f"the emulator does not download URLs ({c.url!r}); send data.text.raw" if c.url
                              else "the prompt (data.text.raw) has no words")
    return c.text


def predict_generation(data: core_pb2.Data, cfg: model_config_pb2.OutputConfig) -> core_pb2.Data:
    """The whole reply in one Data (``PostModelOutputs``)."""
    return core_pb2.Data(text=Text(raw="".join(generation_chunks(prompt_of(data)))))


# --- the registry ---------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltinModel:
    id: str
    name: str
    model_type_id: str
    version_id: str
    description: str
    concepts: tuple[str, ...]
    inputs: tuple[str, ...]
    run: Callable[[core_pb2.Data, model_config_pb2.OutputConfig], core_pb2.Data]

    def message(self) -> core_pb2.Model:
        """The ``Model`` (with its one trained version) as GetModel/ListModels return it."""
        created = timestamp(_CREATED_NS)
        concepts = [Concept(id=c, name=c, value=1.0, app_id=PUBLIC_APP_ID) for c in self.concepts]
        output_info = core_pb2.OutputInfo(
            data=core_pb2.Data(concepts=concepts),
            output_config=model_config_pb2.OutputConfig(max_concepts=DEFAULT_MAX_CONCEPTS),
            message="emulator built-in model: a deterministic stand-in computed from the input's content",
        )
        version = core_pb2.ModelVersion(
            id=self.version_id, created_at=created, completed_at=created, modified_at=created,
            status=make_status(status_code_pb2.MODEL_TRAINED), active_concept_count=len(self.concepts),
            app_id=PUBLIC_APP_ID, user_id=PUBLIC_USER_ID, description=self.description, output_info=output_info,
        )
        return core_pb2.Model(
            id=self.id, name=self.name, display_name=self.name, created_at=created, modified_at=created,
            app_id=PUBLIC_APP_ID, user_id=PUBLIC_USER_ID, model_type_id=self.model_type_id,
            description=self.description, notes="Built into the local Clarifai emulator; not the service's model.",
            output_info=output_info, model_version=version, languages=["en"], version_count=1,
            creator=PUBLIC_USER_ID, source=core_pb2.Model.HOSTED,
        )


def _version(model_id: str) -> str:
    return f"{zlib.crc32(model_id.encode()):08x}" * 4


BUILTIN_MODELS: dict[str, BuiltinModel] = {
    m.id: m for m in (
        BuiltinModel("general-embedding", "General embedding (emulator)", "embedder", _version("general-embedding"),
                     "64-dim feature-hashing / colour-histogram embedding of images and text", (), ("image", "text"),
                     predict_embedding),
        BuiltinModel("color-recognition", "Color recognition (emulator)", "color-recognizer", _version("color-recognition"),
                     "Dominant colours of PNG/BMP/PPM images with their W3C names", tuple(colors.W3C_COLORS), ("image",),
                     predict_colors),
        BuiltinModel("text-keywords", "Text keywords (emulator)", "text-classifier", _version("text-keywords"),
                     "Topics of a text from a fixed keyword vocabulary", tuple(KEYWORDS), ("text",), predict_keywords),
        BuiltinModel(GENERATION_MODEL_ID, "Text generation (emulator)", "text-to-text", _version(GENERATION_MODEL_ID),
                     "Replies with the prompt's words in reverse order, one word per streamed chunk", (), ("text",),
                     predict_generation),
    )
}
EMBEDDING_MODEL_ID = "general-embedding"
