"""PostInputsSearches and PostAnnotationsSearches: filters, ranks, pagination, counts."""

from __future__ import annotations

import pytest

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import imaging

from .conftest import SC, GrpcApi, HttpApi
from .test_inputs import meta, post

Api = GrpcApi | HttpApi

RED = imaging.encode_png(8, 8, bytes([250, 10, 10] * 64))
REDDISH = imaging.encode_png(8, 8, bytes([220, 30, 20] * 60 + [255, 255, 255] * 4))
BLUE = imaging.encode_png(8, 8, bytes([10, 10, 240] * 64))


def search(api: Api, query: p.Query, **kw: object) -> p.MultiSearchResponse:
    r = api.call("PostInputsSearches", p.PostInputsSearchesRequest(searches=[p.Search(query=query)], **kw))  # type: ignore[arg-type]
    assert r.code == SC.SUCCESS, r.msg.status
    return r.msg


@pytest.fixture
def corpus(api: Api) -> Api:
    post(api,
         p.Input(id="red", data=p.Data(image=p.Image(base64=RED), concepts=[p.Concept(id="warm", value=1)],
                                       metadata=meta({"shop": {"id": 1, "tags": ["a", "b"]}, "sale": True}))),
         p.Input(id="reddish", data=p.Data(image=p.Image(base64=REDDISH), concepts=[p.Concept(id="warm", value=1)],
                                           metadata=meta({"shop": {"id": 2}, "sale": True}))),
         p.Input(id="blue", data=p.Data(image=p.Image(base64=BLUE), concepts=[p.Concept(id="warm", value=0)],
                                        metadata=meta({"shop": {"id": 1, "tags": ["b"]}}))),
         p.Input(id="text", data=p.Data(text=p.Text(raw="a dog chasing a cat in the park"))))
    return api


def ids(resp: p.MultiSearchResponse) -> list[str]:
    return [h.input.id for h in resp.hits]


def concept_filter(cid: str, value: float) -> p.Query:
    return p.Query(filters=[p.Filter(annotation=p.Annotation(data=p.Data(concepts=[p.Concept(id=cid, value=value)])))])


def test_filter_by_concept_positive_and_negative(corpus: Api) -> None:
    assert ids(search(corpus, concept_filter("warm", 1))) == ["reddish", "red"]
    neg = search(corpus, concept_filter("warm", 0))
    assert ids(neg) == ["blue"] and neg.hits[0].score == 1.0
    assert neg.hits[0].app_id == "main" and neg.hits[0].user_id == "emulator-user"
    by_name = search(corpus, p.Query(filters=[p.Filter(input=p.Input(data=p.Data(concepts=[p.Concept(name="warm", value=1)])))]))
    assert ids(by_name) == ["reddish", "red"]


def test_filter_by_metadata_containment(corpus: Api) -> None:
    def by(m: dict[str, object]) -> list[str]:
        return ids(search(corpus, p.Query(filters=[p.Filter(input=p.Input(data=p.Data(metadata=meta(m))))])))
    assert by({"shop": {"id": 1}}) == ["blue", "red"]
    assert by({"shop": {"tags": ["b"]}}) == ["blue", "red"]
    assert by({"shop": {"tags": ["a"]}, "sale": True}) == ["red"]
    assert by({"sale": False}) == []


def test_filter_by_input_id_and_negate(corpus: Api) -> None:
    assert ids(search(corpus, p.Query(filters=[p.Filter(input=p.Input(id="blue"))]))) == ["blue"]
    rest = search(corpus, p.Query(filters=[p.Filter(input=p.Input(id="blue"), negate=True)]))
    assert sorted(ids(rest)) == ["red", "reddish", "text"]


def test_rank_by_visual_similarity(corpus: Api) -> None:
    resp = search(corpus, p.Query(ranks=[p.Rank(annotation=p.Annotation(data=p.Data(image=p.Image(base64=RED))))]))
    assert ids(resp)[:2] == ["red", "reddish"]
    score = {h.input.id: h.score for h in resp.hits}
    assert score["reddish"] > 0.5 > score["blue"]
    scores = [h.score for h in resp.hits]
    assert scores == sorted(scores, reverse=True) and scores[0] == pytest.approx(1.0, abs=1e-5)
    by_input = search(corpus, p.Query(ranks=[p.Rank(annotation=p.Annotation(input_id="blue"))]))
    assert ids(by_input)[0] == "blue"
    combined = search(corpus, p.Query(filters=[p.Filter(input=p.Input(data=p.Data(concepts=[p.Concept(id="warm", value=1)])))],
                                      ranks=[p.Rank(annotation=p.Annotation(input_id="blue"))]))
    assert sorted(ids(combined)) == ["red", "reddish"]


def test_rank_by_text_similarity_and_min_value(corpus: Api) -> None:
    q = p.Query(ranks=[p.Rank(annotation=p.Annotation(data=p.Data(text=p.Text(raw="dog in a park"))))])
    resp = search(corpus, q)
    assert ids(resp)[0] == "text" and resp.hits[0].score > 0.3
    r = corpus.call("PostInputsSearches", p.PostInputsSearchesRequest(searches=[p.Search(query=q, min_value=0.3)]))
    assert [h.input.id for h in r.msg.hits] == ["text"]


def test_pagination_and_count(corpus: Api) -> None:
    q = p.Query(ranks=[p.Rank(annotation=p.Annotation(data=p.Data(image=p.Image(base64=RED))))])
    page1 = search(corpus, q, pagination=p.Pagination(page=1, per_page=2))
    page2 = search(corpus, q, pagination=p.Pagination(page=2, per_page=2))
    assert len(page1.hits) == 2 and len(page2.hits) == 2
    assert set(ids(page1)).isdisjoint(ids(page2))
    counted = search(corpus, concept_filter("warm", 1), only_count=True)
    assert counted.hits == [] and counted.hit_counts[0].estimated_total == 2


def test_bad_search_requests(corpus: Api) -> None:
    r = corpus.call("PostInputsSearches", p.PostInputsSearchesRequest())
    assert r.code == SC.SEARCH_INVALID_REQUEST and r.http_status in (None, 400)
    r = corpus.call("PostInputsSearches", p.PostInputsSearchesRequest(searches=[p.Search(query=p.Query(ranks=[p.Rank()]))]))
    assert r.code == SC.SEARCH_INVALID_REQUEST and "rank" in r.msg.status.details


def test_annotation_search(corpus: Api) -> None:
    corpus.call("PostAnnotations", p.PostAnnotationsRequest(annotations=[
        p.Annotation(id="ann-red", input_id="red", data=p.Data(concepts=[p.Concept(id="fruit", value=1)], metadata=meta({"by": "x"}))),
        p.Annotation(id="ann-text", input_id="text", data=p.Data(concepts=[p.Concept(id="animal", value=1)]))]))
    r = corpus.call("PostAnnotationsSearches", p.PostAnnotationsSearchesRequest(searches=[p.Search(query=concept_filter("fruit", 1))]))
    assert r.code == SC.SUCCESS
    assert [(h.annotation.id, h.input.id) for h in r.msg.hits] == [("ann-red", "red")]
    r = corpus.call("PostAnnotationsSearches", p.PostAnnotationsSearchesRequest(searches=[p.Search(query=p.Query(
        filters=[p.Filter(annotation=p.Annotation(data=p.Data(metadata=meta({"by": "x"}))))]))]))
    assert [h.annotation.id for h in r.msg.hits] == ["ann-red"]
    # inputs search sees annotation labels too
    assert ids(search(corpus, concept_filter("animal", 1))) == ["text"]
