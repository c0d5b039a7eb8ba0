"""Inputs over every transport: add, read, list, stream, patch, delete, count; transactional batches."""

from __future__ import annotations

import threading

from google.protobuf import json_format

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import imaging
from clarifai_grpc_client.proto import Struct

from .conftest import SC, GrpcApi, HttpApi

Api = GrpcApi | HttpApi


def meta(d: dict[str, object]) -> Struct:
    s = Struct()
    s.update(d)
    return s


def text_input(i: str, raw: str = "hello", **data: object) -> p.Input:
    return p.Input(id=i, data=p.Data(text=p.Text(raw=raw), **data))  # type: ignore[arg-type]


def post(api: Api, *inputs: p.Input) -> p.MultiInputResponse:
    res = api.call("PostInputs", p.PostInputsRequest(inputs=list(inputs)))
    assert res.code == SC.SUCCESS, res.msg.status
    return res.msg


def test_post_get_list_inputs(api: Api) -> None:
    png = imaging.encode_png(2, 2, bytes([255, 0, 0] * 4))
    resp = post(api,
                p.Input(id="img-url", data=p.Data(image=p.Image(url="https://example.com/cat.jpg"), metadata=meta({"kind": "url"}))),
                p.Input(data=p.Data(image=p.Image(base64=png), geo=p.Geo(geo_point=p.GeoPoint(longitude=2.5, latitude=48.8)))),
                p.Input(id="txt", data=p.Data(text=p.Text(raw="a dog"), concepts=[p.Concept(id="dog", value=1)])))
    assert [i.id for i in resp.inputs][0::2] == ["img-url", "txt"]
    generated = resp.inputs[1].id
    assert len(generated) == 32
    assert resp.status.req_id
    for inp in resp.inputs:
        assert inp.status.code == SC.INPUT_DOWNLOAD_SUCCESS
        assert inp.HasField("created_at")
    got = api.call("GetInput", p.GetInputRequest(input_id=generated)).msg
    assert got.input.data.image.base64 == png
    assert got.input.data.image.image_info.width == 2 and got.input.data.image.image_info.format == "PNG"
    assert abs(got.input.data.geo.geo_point.latitude - 48.8) < 1e-4
    url = api.call("GetInput", p.GetInputRequest(input_id="img-url")).msg.input
    assert url.data.image.url == "https://example.com/cat.jpg"
    assert json_format.MessageToDict(url.data.metadata) == {"kind": "url"}
    listed = api.call("ListInputs", p.ListInputsRequest()).msg
    assert [i.id for i in listed.inputs] == ["txt", generated, "img-url"]  # newest first
    # concepts on inputs become concepts of the app
    concepts = api.call("ListConcepts", p.ListConceptsRequest()).msg.concepts
    assert [c.id for c in concepts] == ["dog"]


def test_get_missing_input(api: Api) -> None:
    res = api.call("GetInput", p.GetInputRequest(input_id="nope"))
    assert res.code == SC.INPUT_DOES_NOT_EXIST
    assert res.http_status in (None, 404)
    assert "nope" in res.msg.status.details


def test_duplicate_in_batch_writes_nothing(api: Api) -> None:
    res = api.call("PostInputs", p.PostInputsRequest(inputs=[text_input("a"), text_input("b"), text_input("a")]))
    assert res.code == SC.INPUT_DUPLICATE
    assert res.http_status in (None, 409)
    assert [i.status.code for i in res.msg.inputs] == [SC.INPUT_DUPLICATE, 0, SC.INPUT_DUPLICATE]
    assert len(api.call("ListInputs", p.ListInputsRequest()).msg.inputs) == 0


def test_existing_id_fails_whole_batch(api: Api) -> None:
    post(api, text_input("a", concepts=[p.Concept(id="first", value=1)]))
    res = api.call("PostInputs", p.PostInputsRequest(inputs=[text_input("new", concepts=[p.Concept(id="second", value=1)]),
                                                             text_input("a")]))
    assert res.code == SC.INPUT_DUPLICATE
    assert "a" in res.msg.status.details
    ids = [i.id for i in api.call("ListInputs", p.ListInputsRequest()).msg.inputs]
    assert ids == ["a"]
    # the concept of the refused batch was not created either
    assert [c.id for c in api.call("ListConcepts", p.ListConceptsRequest()).msg.concepts] == ["first"]


def test_invalid_input_refused(api: Api) -> None:
    res = api.call("PostInputs", p.PostInputsRequest(inputs=[text_input("ok"), p.Input(id="empty")]))
    assert res.code == SC.INPUT_INVALID_ARGUMENT
    assert "empty" in res.msg.status.details
    assert api.call("GetInput", p.GetInputRequest(input_id="ok")).code == SC.INPUT_DOES_NOT_EXIST
    assert api.call("PostInputs", p.PostInputsRequest()).code == SC.INPUT_INVALID_ARGUMENT


def test_conflict_resolution_skip_and_suffix(grpc_api: GrpcApi) -> None:
    post(grpc_api, text_input("a"))
    r = grpc_api.call("PostInputs", p.PostInputsRequest(inputs=[text_input("a"), text_input("b")], input_id_conflict_resolution=p.InputIDConflictResolution.Value("SKIP")))
    assert r.code == SC.SUCCESS and [i.id for i in r.msg.inputs] == ["b"]
    r = grpc_api.call("PostInputs", p.PostInputsRequest(inputs=[text_input("a")], input_id_conflict_resolution=p.InputIDConflictResolution.Value("SUFFIX")))
    assert r.code == SC.SUCCESS and r.msg.inputs[0].id.startswith("a-")


def test_list_paging_ids_and_status(api: Api) -> None:
    post(api, *[text_input(f"in{i:03d}") for i in range(5)])
    page1 = api.call("ListInputs", p.ListInputsRequest(page=1, per_page=2)).msg.inputs
    page3 = api.call("ListInputs", p.ListInputsRequest(page=3, per_page=2)).msg.inputs
    assert [i.id for i in page1] == ["in004", "in003"] and [i.id for i in page3] == ["in000"]
    some = api.call("ListInputs", p.ListInputsRequest(ids=["in001", "in003", "zzz"])).msg.inputs
    assert sorted(i.id for i in some) == ["in001", "in003"]
    ok = api.call("ListInputs", p.ListInputsRequest(status=p.Status(code=SC.INPUT_DOWNLOAD_SUCCESS))).msg.inputs
    assert len(ok) == 5
    assert api.call("ListInputs", p.ListInputsRequest(status=p.Status(code=SC.INPUT_DOWNLOAD_FAILED))).msg.inputs == []


def test_list_per_page_default_and_max(grpc_api: GrpcApi) -> None:
    for start in range(0, 260, 128):
        post(grpc_api, *[text_input(f"x{i:04d}") for i in range(start, min(start + 128, 260))])
    assert len(grpc_api.call("ListInputs", p.ListInputsRequest()).msg.inputs) == 128
    assert len(grpc_api.call("ListInputs", p.ListInputsRequest(per_page=5000)).msg.inputs) == 260
    counts = grpc_api.call("GetInputCount", p.GetInputCountRequest()).msg.counts
    assert counts.processed == 260 and counts.errors == 0


def test_stream_inputs_orders(api: Api) -> None:
    for i in ("m", "c", "x", "a"):
        post(api, text_input(i))

    def stream(**kw: object) -> list[str]:
        out, last = [], ""
        while True:
            page = api.call("StreamInputs", p.StreamInputsRequest(per_page=3, last_id=last, **kw)).msg.inputs  # type: ignore[arg-type]
            if not page:
                return out
            out += [i.id for i in page]
            last = page[-1].id

    assert stream() == ["m", "c", "x", "a"]
    assert stream(descending=True) == ["a", "x", "c", "m"]
    assert stream(order_by_id=True) == ["a", "c", "m", "x"]
    assert stream(order_by_id=True, descending=True) == ["x", "m", "c", "a"]
    assert api.call("StreamInputs", p.StreamInputsRequest(last_id="never")).code == SC.INPUT_DOES_NOT_EXIST


def test_stream_cursor_survives_deleting_last_id(grpc_api: GrpcApi) -> None:
    post(grpc_api, *[text_input(i) for i in ("a", "b", "c")])
    first = grpc_api.call("StreamInputs", p.StreamInputsRequest(per_page=2)).msg.inputs
    grpc_api.call("DeleteInput", p.DeleteInputRequest(input_id=first[-1].id))
    rest = grpc_api.call("StreamInputs", p.StreamInputsRequest(per_page=2, last_id=first[-1].id)).msg.inputs
    assert [i.id for i in rest] == ["c"]


def test_stream_exactly_once_under_concurrent_inserts(grpc_api: GrpcApi) -> None:
    post(grpc_api, *[text_input(f"seed{i:03d}") for i in range(40)])
    stop = threading.Event()
    added: list[str] = []

    def writer() -> None:
        n = 0
        while not stop.is_set() and n < 300:
            batch = [text_input(f"w{n + k:04d}") for k in range(3)]
            r = grpc_api.call("PostInputs", p.PostInputsRequest(inputs=batch))
            assert r.code == SC.SUCCESS
            added.extend(i.id for i in batch)
            n += 3

    t = threading.Thread(target=writer)
    t.start()
    seen: list[str] = []
    last = ""
    try:
        while True:
            page = grpc_api.call("StreamInputs", p.StreamInputsRequest(per_page=7, last_id=last)).msg.inputs
            if not page:
                if not t.is_alive():
                    break
                stop.set()
                t.join()
                continue
            seen += [i.id for i in page]
            last = page[-1].id
    finally:
        stop.set()
        t.join()
    assert len(seen) == len(set(seen)), "an input was streamed twice"
    assert set(seen) == {f"seed{i:03d}" for i in range(40)} | set(added), "an input was skipped"


def test_patch_inputs_actions(api: Api) -> None:
    post(api, text_input("a", concepts=[p.Concept(id="dog", value=1), p.Concept(id="cat", value=1)],
                         metadata=meta({"color": "red", "nested": {"x": 1, "y": 2}, "keep": True})))

    def patch(action: str, **data: object) -> p.Input:
        r = api.call("PatchInputs", p.PatchInputsRequest(action=action, inputs=[p.Input(id="a", data=p.Data(**data))]))  # type: ignore[arg-type]
        assert r.code == SC.SUCCESS, r.msg.status
        return r.msg.inputs[0]

    merged = patch("merge", concepts=[p.Concept(id="cat", value=0), p.Concept(id="bird", value=1)],
                   metadata=meta({"nested": {"y": 3, "z": 4}, "size": 10}))
    assert {c.id: c.value for c in merged.data.concepts} == {"dog": 1.0, "cat": 0.0, "bird": 1.0}
    assert json_format.MessageToDict(merged.data.metadata) == {"color": "red", "nested": {"x": 1, "y": 3, "z": 4},
                                                               "keep": True, "size": 10}
    removed = patch("remove", concepts=[p.Concept(id="dog")], metadata=meta({"nested": {"x": None}, "color": None}))
    assert {c.id for c in removed.data.concepts} == {"cat", "bird"}
    assert json_format.MessageToDict(removed.data.metadata) == {"nested": {"y": 3, "z": 4}, "keep": True, "size": 10}
    over = patch("overwrite", concepts=[p.Concept(id="fish", value=1)], metadata=meta({"only": "this"}))
    assert [c.id for c in over.data.concepts] == ["fish"]
    assert json_format.MessageToDict(over.data.metadata) == {"only": "this"}
    stored = api.call("GetInput", p.GetInputRequest(input_id="a")).msg.input
    assert stored.data.text.raw == "hello" and [c.id for c in stored.data.concepts] == ["fish"]
    assert "fish" in [c.id for c in api.call("ListConcepts", p.ListConceptsRequest()).msg.concepts]


def test_patch_missing_or_bad_action(api: Api) -> None:
    post(api, text_input("a"))
    r = api.call("PatchInputs", p.PatchInputsRequest(action="merge", inputs=[p.Input(id="a", data=p.Data(metadata=meta({"k": 1}))),
                                                                             p.Input(id="ghost")]))
    assert r.code == SC.INPUT_DOES_NOT_EXIST
    assert not api.call("GetInput", p.GetInputRequest(input_id="a")).msg.input.data.HasField("metadata")
    assert api.call("PatchInputs", p.PatchInputsRequest(action="explode", inputs=[p.Input(id="a")])).code == SC.INPUT_INVALID_ARGUMENT


def test_delete_inputs(api: Api) -> None:
    post(api, *[text_input(i) for i in ("a", "b", "c", "d")])
    api.call("PostAnnotations", p.PostAnnotationsRequest(annotations=[p.Annotation(input_id="b", data=p.Data(concepts=[p.Concept(id="x", value=1)]))]))
    assert api.call("DeleteInput", p.DeleteInputRequest(input_id="a")).code == SC.SUCCESS
    assert api.call("DeleteInput", p.DeleteInputRequest(input_id="a")).code == SC.INPUT_DOES_NOT_EXIST
    r = api.call("DeleteInputs", p.DeleteInputsRequest(ids=["b", "zzz"]))
    assert r.code == SC.INPUT_DOES_NOT_EXIST
    assert api.call("GetInput", p.GetInputRequest(input_id="b")).code == SC.SUCCESS  # nothing deleted
    assert api.call("DeleteInputs", p.DeleteInputsRequest(ids=["b", "c"])).code == SC.SUCCESS
    assert [i.id for i in api.call("ListInputs", p.ListInputsRequest()).msg.inputs] == ["d"]
    assert api.call("ListAnnotations", p.ListAnnotationsRequest(input_ids=["b"])).msg.annotations == []
    assert api.call("GetInputCount", p.GetInputCountRequest()).msg.counts.processed == 1
