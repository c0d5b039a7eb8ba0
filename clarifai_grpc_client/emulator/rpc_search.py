"""Handlers for searches: PostInputsSearches and PostAnnotationsSearches (see :mod:`.search` for the query semantics)."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import json_format

from ..proto.clarifai.api import annotations_service_pb2, common_pb2, core_pb2, search_pb2, search_service_pb2
from ..proto.clarifai.api.concepts_pb2 import Concept
from ..proto.clarifai.api.status import status_code_pb2
from . import models, search
from .context import CallContext, page_bounds, rpc
from .ids import new_id
from .statuses import ApiFailure
from .storage import InputRow

DEFAULT_PER_PAGE = 20
_CODE = status_code_pb2.SEARCH_INVALID_REQUEST


def _one_search(searches: Sequence[core_pb2.Search]) -> core_pb2.Search:
    if len(searches) != 1:
        raise ApiFailure(_CODE, f"send exactly one search in 'searches' (got {len(searches)})")
    return searches[0]


def _resolver(names: dict[str, str]) -> search.ConceptResolver:
    def resolve(c: Concept) -> str:
        return c.id or names.get(c.name.lower(), c.name)
    return resolve


def _embed(data: core_pb2.Data) -> list[float]:
    try:
        return models.embed(data)
    except models.PredictionError as err:
        raise search.SearchError(f"cannot embed the rank's data: {err.details}") from None


def _run(query: core_pb2.Query, candidates: Sequence[search.Candidate], rows: dict[str, InputRow],
         names: dict[str, str], min_value: float) -> list[search.Scored]:
    def vector_of_input(input_id: str) -> Sequence[float] | None:
        row = rows.get(input_id)
        return row.embedding if row is not None else None
    try:
        return search.run(query, candidates, resolve=_resolver(names), vector_of_input=vector_of_input, embed=_embed,
                          min_value=min_value)
    except search.SearchError as exc:
        raise ApiFailure(_CODE, str(exc)) from None


def _load(ctx: CallContext) -> tuple[dict[str, InputRow], dict[str, dict[str, float]], dict[str, str]]:
    with ctx.storage.read() as tx:
        rows = {r.input.id: r for r in tx.input_rows(ctx.app)}
        labels = tx.concept_labels(ctx.app)
        names = {c.name.lower(): c.id for c in tx.list_concepts(ctx.app)}
    return rows, labels, names


def _url(inp: core_pb2.Input) -> str:
    d = inp.data
    return d.image.url or d.video.url or d.audio.url or d.text.url


def _respond(ctx: CallContext, s: core_pb2.Search, hits: list[search.Scored], pagination: common_pb2.Pagination,
             only_count: bool) -> tuple[search_service_pb2.MultiSearchResponse, list[search.Scored]]:
    """The response with the search echoed and one scored hit per result of the page; and that page."""
    echo = core_pb2.Search()
    echo.CopyFrom(s)
    echo.id = echo.id or new_id()
    resp = search_service_pb2.MultiSearchResponse(id=echo.id, searches=[echo], query=s.query)
    if only_count:
        resp.hit_counts.append(search_pb2.HitCount(estimated_total=len(hits)))
        return resp, []
    offset, limit = page_bounds(pagination.page, pagination.per_page, default=DEFAULT_PER_PAGE)
    page = hits[offset:offset + limit]
    for h in page:
        resp.hits.add(score=h.score, user_id=ctx.user_id, app_id=ctx.app_id)
    return resp, page


@rpc("PostInputsSearches")
def post_inputs_searches(ctx: CallContext, req: search_service_pb2.PostInputsSearchesRequest) -> search_service_pb2.MultiSearchResponse:
    s = _one_search(req.searches)
    rows, labels, names = _load(ctx)
    candidates = [search.Candidate(key=r.input.id, input_id=r.input.id, seq=r.seq, concepts=labels.get(r.input.id, {}),
                                   metadata=r.metadata, input_metadata=r.metadata, embedding=r.embedding,
                                   status_code=r.status, modified_ns=r.modified_ns, url=_url(r.input))
                  for r in rows.values()]
    hits = _run(s.query, candidates, rows, names, s.min_value)
    resp, page = _respond(ctx, s, hits, req.pagination, req.only_count)
    for hit, scored in zip(resp.hits, page):
        hit.input.CopyFrom(rows[scored.candidate.input_id].input)
    return resp


@rpc("PostAnnotationsSearches")
def post_annotations_searches(ctx: CallContext,
                              req: annotations_service_pb2.PostAnnotationsSearchesRequest) -> search_service_pb2.MultiSearchResponse:
    s = _one_search(req.searches)
    rows, _labels, names = _load(ctx)
    with ctx.storage.read() as tx:
        anns = {a.id: a for a in tx.list_annotations(ctx.app)}
    candidates = []
    for seq, a in enumerate(reversed(list(anns.values()))):
        row = rows.get(a.input_id)
        if row is None:
            continue
        own: dict[str, float] = {}
        for c in a.data.concepts:
            own[c.id] = max(own.get(c.id, c.value), c.value)
        meta = json_format.MessageToDict(a.data.metadata) if a.data.HasField("metadata") else {}
        candidates.append(search.Candidate(key=a.id, input_id=a.input_id, seq=seq, concepts=own, metadata=meta,
                                           input_metadata=row.metadata, embedding=row.embedding, status_code=row.status,
                                           modified_ns=a.modified_at.ToNanoseconds(), url=_url(row.input)))
    hits = _run(s.query, candidates, rows, names, s.min_value)
    resp, page = _respond(ctx, s, hits, req.pagination, False)
    for hit, scored in zip(resp.hits, page):
        hit.annotation.CopyFrom(anns[scored.candidate.key])
        hit.input.CopyFrom(rows[scored.candidate.input_id].input)
    return resp
