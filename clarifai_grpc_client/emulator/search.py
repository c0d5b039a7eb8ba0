"""Evaluating a ``Query`` (filters and ranks) over candidate inputs or annotations. Pure logic.

Filters (all must hold; ``negate`` inverts one):

- concepts (``input.data.concepts`` or ``annotation.data.concepts``): value > 0 asks for a
  positive label, value 0 for a negative one; concepts are matched by id, or by name;
- metadata: JSON containment, as PostgreSQL's ``@>`` (objects: every key contained; arrays:
  every element contained; scalars: equal);
- ``input.id`` / ``annotation.input_id`` / ``annotation.id``; ``input.status.code``;
  ``input.data.image.url`` (same URL); ``last_updated_time_range``.

Ranks (scores averaged; ``negate`` gives ``1 - score``): by concepts (the item's label values)
or by similarity: cosine between the query's built-in embedding (of ``annotation.data``, a given
``data.embeddings`` vector, or the stored input ``annotation.input_id``) and each item's,
clamped at 0. Without ranks every match scores 1 and the newest come first.
The legacy ``ands`` clauses are read as filters (input, annotation) or ranks (output).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format

from ..proto.clarifai.api import core_pb2
from ..proto.clarifai.api.concepts_pb2 import Concept
from .models import cosine


class SearchError(ValueError):
    """The query cannot be evaluated; the message says which part and why."""


@dataclass(frozen=True)
class Candidate:
    key: str  # the id of what a hit returns: an input id, or an annotation id
    input_id: str
    seq: int
    concepts: Mapping[str, float]
    metadata: Any
    input_metadata: Any
    embedding: Sequence[float] | None
    status_code: int
    modified_ns: int
    url: str


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float


def contains(doc: Any, pattern: Any) -> bool:
    """JSON containment: does ``doc`` contain ``pattern`` (PostgreSQL ``jsonb @>`` rules)?"""
    if isinstance(pattern, dict):
        return isinstance(doc, dict) and all(k in doc and contains(doc[k], v) for k, v in pattern.items())
    if isinstance(pattern, list):
        if not isinstance(doc, list):
            return False
        return all(any(contains(d, p) for d in doc) for p in pattern)
    if isinstance(doc, list):  # a scalar pattern matches an array holding it, as jsonb does
        return any(contains(d, pattern) for d in doc)
    if isinstance(pattern, bool) or isinstance(doc, bool):
        return type(pattern) is type(doc) and pattern == doc
    return bool(doc == pattern)


def legacy_ands(query: core_pb2.Query) -> tuple[list[core_pb2.Filter], list[core_pb2.Rank]]:
    """The query's filters and ranks, with its legacy ``ands`` translated."""
    filters, ranks = list(query.filters), list(query.ranks)
    for clause in query.ands:
        if clause.HasField("input"):
            filters.append(core_pb2.Filter(input=clause.input, negate=clause.negate))
        if clause.HasField("annotation"):
            filters.append(core_pb2.Filter(annotation=clause.annotation, negate=clause.negate))
        if clause.HasField("output"):
            out = clause.output
            if out.input.HasField("data"):
                ranks.append(core_pb2.Rank(annotation=core_pb2.Annotation(data=out.input.data), negate=clause.negate))
            if len(out.data.concepts):
                filters.append(core_pb2.Filter(annotation=core_pb2.Annotation(data=core_pb2.Data(concepts=out.data.concepts)),
                                               negate=clause.negate))
    return filters, ranks


ConceptResolver = Callable[[Concept], str]


def _concepts_hold(wanted: Sequence[Concept], labels: Mapping[str, float], resolve: ConceptResolver) -> bool:
    for q in wanted:
        value = labels.get(resolve(q))
        if value is None:
            return False
        if (q.value > 0) != (value > 0):
            return False
    return True


def _metadata(data: core_pb2.Data) -> Any:
    return json_format.MessageToDict(data.metadata)


def filter_matches(f: core_pb2.Filter, c: Candidate, resolve: ConceptResolver) -> bool:
    ok = True
    if f.HasField("input"):
        inp = f.input
        if inp.id and c.input_id != inp.id:
            ok = False
        if inp.HasField("status") and inp.status.code and c.status_code != inp.status.code:
            ok = False
        d = inp.data
        if len(d.concepts) and not _concepts_hold(d.concepts, c.concepts, resolve):
            ok = False
        if d.HasField("metadata") and not contains(c.input_metadata, _metadata(d)):
            ok = False
        if d.image.url and c.url != d.image.url:
            ok = False
    if f.HasField("annotation"):
        ann = f.annotation
        if ann.input_id and c.input_id != ann.input_id:
            ok = False
        if ann.id and c.key != ann.id:
            ok = False
        d = ann.data
        if len(d.concepts) and not _concepts_hold(d.concepts, c.concepts, resolve):
            ok = False
        if d.HasField("metadata") and not contains(c.metadata, _metadata(d)):
            ok = False
    if f.HasField("last_updated_time_range"):
        r = f.last_updated_time_range
        if r.HasField("start_time") and c.modified_ns < r.start_time.ToNanoseconds():
            ok = False
        if r.HasField("end_time") and c.modified_ns > r.end_time.ToNanoseconds():
            ok = False
    return ok != f.negate


@dataclass(frozen=True)
class _PreparedRank:
    concepts: tuple[Concept, ...]
    vector: Sequence[float] | None
    negate: bool

    def score(self, c: Candidate, resolve: ConceptResolver) -> float:
        parts: list[float] = []
        if self.concepts:
            parts.append(sum(max(0.0, c.concepts.get(resolve(q), 0.0)) for q in self.concepts) / len(self.concepts))
        if self.vector is not None:
            parts.append(max(0.0, cosine(self.vector, c.embedding)) if c.embedding else 0.0)
        s = sum(parts) / len(parts) if parts else 0.0
        return 1.0 - s if self.negate else s


def _has_content(data: core_pb2.Data) -> bool:
    return bool(data.image.url or data.image.base64 or data.text.raw or data.text.url or data.video.url
                or data.video.base64 or data.audio.url or data.audio.base64 or len(data.embeddings))


def prepare_rank(rank: core_pb2.Rank, vector_of_input: Callable[[str], Sequence[float] | None],
                 embed: Callable[[core_pb2.Data], Sequence[float]]) -> _PreparedRank:
    ann = rank.annotation
    vector: Sequence[float] | None = None
    if _has_content(ann.data):
        vector = embed(ann.data)
    elif ann.input_id:
        vector = vector_of_input(ann.input_id)
        if vector is None:
            raise SearchError(f"rank by input {ann.input_id!r}: no such input (or it has no embedding)")
    concepts = tuple(ann.data.concepts)
    if vector is None and not concepts:
        raise SearchError("a rank needs concepts, content (image/text/video/audio/embedding) or an input_id to rank by")
    return _PreparedRank(concepts, vector, rank.negate)


def run(query: core_pb2.Query, candidates: Sequence[Candidate], *, resolve: ConceptResolver,
        vector_of_input: Callable[[str], Sequence[float] | None],
        embed: Callable[[core_pb2.Data], Sequence[float]], min_value: float = 0.0) -> list[Scored]:
    """The candidates that pass every filter, scored by the ranks, best (or newest) first."""
    filters, ranks = legacy_ands(query)
    prepared = [prepare_rank(r, vector_of_input, embed) for r in ranks]
    hits: list[Scored] = []
    for c in candidates:
        if not all(filter_matches(f, c, resolve) for f in filters):
            continue
        score = sum(p.score(c, resolve) for p in prepared) / len(prepared) if prepared else 1.0
        if min_value and score < min_value:
            continue
        hits.append(Scored(c, score))
    hits.sort(key=lambda h: (-h.score, -h.candidate.seq) if prepared else (-h.candidate.seq,))
    return hits
