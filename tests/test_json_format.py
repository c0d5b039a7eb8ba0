"""Proto3 JSON with the API's field options, and lossless round trips for generated messages."""

from __future__ import annotations

import functools
import json
from typing import Any

from google.protobuf import descriptor, json_format
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clarifai_grpc_client import _json_format
from clarifai_grpc_client.proto import (
    Annotation,
    Concept,
    Data,
    Input,
    MultiOutputResponse,
    PostInputsRequest,
    PostModelOutputsRequest,
    Workflow,
)
from clarifai_grpc_client._protobuf_compat import is_repeated

FD = descriptor.FieldDescriptor


def test_negative_concept_is_sent_and_missing_value_reads_as_default() -> None:
    node = _json_format.to_dict(Concept(id="dog", value=0.0))
    assert node == {"id": "dog", "value": 0.0}
    parsed = _json_format.parse_json(b'{"inputs":[{"data":{"concepts":[{"id":"cat"},{"id":"dog","value":0}]}}]}', PostInputsRequest())
    concepts = parsed.inputs[0].data.concepts
    assert [(c.id, c.value) for c in concepts] == [("cat", 1.0), ("dog", 0.0)]


def test_camel_case_documents_are_accepted_and_unknown_fields_ignored() -> None:
    parsed = _json_format.parse_json(b'{"userAppId":{"appId":"a"},"modelId":"m","brandNewField":1}', PostModelOutputsRequest())
    assert parsed.user_app_id.app_id == "a" and parsed.model_id == "m"


def test_show_if_empty_fields_appear_in_responses() -> None:
    node = _json_format.to_dict(MultiOutputResponse(), show_if_empty=True)
    plain = _json_format.to_dict(MultiOutputResponse())
    assert "outputs" not in plain
    assert node["outputs"] == []


@functools.lru_cache(maxsize=None)
def _strategy(desc: descriptor.Descriptor, depth: int) -> st.SearchStrategy[Message]:
    from google.protobuf import message_factory

    cls = message_factory.GetMessageClass(desc)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for fd in desc.fields:
        if fd.containing_oneof is not None or fd.message_type is not None and (
            fd.message_type.full_name.startswith("google.") or depth <= 0 or fd.message_type.GetOptions().map_entry
        ):
            continue
        if fd.type == FD.TYPE_MESSAGE:
            assert fd.message_type is not None
            base: st.SearchStrategy[Any] = st.deferred(lambda fd=fd: _strategy(fd.message_type, depth - 1))
        elif fd.type == FD.TYPE_STRING:
            base = st.text(max_size=8)
        elif fd.type == FD.TYPE_BOOL:
            base = st.booleans()
        elif fd.type == FD.TYPE_FLOAT:
            # json_format itself cannot re-read its own text for the extreme float32 values
            base = st.floats(-(2.0**126), 2.0**126, width=32, allow_nan=False)
        elif fd.type == FD.TYPE_DOUBLE:
            base = st.floats(allow_nan=False, allow_infinity=False)
        elif fd.type == FD.TYPE_BYTES:
            base = st.binary(max_size=8)
        elif fd.type == FD.TYPE_ENUM:
            assert fd.enum_type is not None
            base = st.sampled_from([v.number for v in fd.enum_type.values])
        elif fd.type in (FD.TYPE_UINT32, FD.TYPE_FIXED32):
            base = st.integers(0, 2**32 - 1)
        elif fd.type in (FD.TYPE_UINT64, FD.TYPE_FIXED64):
            base = st.integers(0, 2**64 - 1)
        elif fd.type in (FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64):
            base = st.integers(-(2**63), 2**63 - 1)
        else:
            base = st.integers(-(2**31), 2**31 - 1)
        fields[fd.name] = st.lists(base, max_size=2) if is_repeated(fd) else base

    def build(values: dict[str, Any]) -> Message:
        msg = cls()
        for name, value in values.items():
            fd = desc.fields_by_name[name]
            if is_repeated(fd):
                if fd.type == FD.TYPE_MESSAGE:
                    for v in value:
                        getattr(msg, name).add().CopyFrom(v)
                else:
                    getattr(msg, name).extend(value)
            elif fd.type == FD.TYPE_MESSAGE:
                getattr(msg, name).CopyFrom(value)
            else:
                setattr(msg, name, value)
        return msg

    return st.fixed_dictionaries({}, optional=fields).map(build)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)
@given(st.sampled_from([Input, Concept, Annotation, Data, Workflow, PostModelOutputsRequest]).flatmap(lambda c: _strategy(c.DESCRIPTOR, 2)))
def test_proto_json_proto_round_trip_is_lossless(msg: Message) -> None:
    text = _json_format.to_json(msg)
    back = _json_format.parse_json(text, type(msg)())
    assert back == msg, json.loads(text)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=4))
def test_struct_fields_read_as_the_reference_parser_reads_them(node: dict[str, Any]) -> None:
    """The reader's own Struct setter against the reference parser, the oracle, on any JSON."""
    doc = {"metadata": node}
    assert _json_format.parse_dict(doc, Data()) == json_format.ParseDict(doc, Data())


def test_common_documents_take_the_fast_path(monkeypatch: Any) -> None:
    """Responses as the service writes them never need the slow reference parser."""
    from clarifai_grpc_client.proto import MultiInputResponse

    doc = {
        "status": {"code": 10000, "description": "Ok", "req_id": "r"},
        "inputs": [
            {
                "id": f"in-{i}",
                "created_at": "2024-05-06T07:08:09.123456789Z",
                "modified_at": "2024-05-06T07:08:09+02:00",
                "status": {"code": "INPUT_DOWNLOAD_SUCCESS"},
                "data": {
                    "image": {"url": "https://x/1.jpg", "base64": "aGVsbG8=", "image_info": {"width": 10}},
                    "concepts": [{"id": "dog", "value": 1}, {"id": "cat"}],
                    "metadata": {"a": [1, "b", None, {"c": True}]},
                    "geo": {"geo_point": {"latitude": 1.5, "longitude": -2}},
                },
            }
            for i in range(3)
        ],
    }

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("fell back to json_format.ParseDict")

    monkeypatch.setattr(json_format, "ParseDict", refuse)
    resp = _json_format.parse_dict(doc, MultiInputResponse())
    monkeypatch.undo()
    reference = MultiInputResponse()
    json_format.ParseDict(doc, reference, ignore_unknown_fields=True)
    reference.inputs[0].data.concepts[1].value = 1.0  # the default-float option, which ParseDict does not know
    for inp in reference.inputs[1:]:
        inp.data.concepts[1].value = 1.0
    assert resp == reference
    assert resp.inputs[0].created_at.nanos == 123456789
    assert resp.inputs[0].modified_at.ToJsonString() == "2024-05-06T05:08:09Z"


def test_odd_documents_fall_back_and_errors_are_worded_by_the_reference_parser() -> None:
    import pytest
    parsed = _json_format.parse_dict({"id": "x", "value": "NaN"}, Concept())
    assert parsed.value != parsed.value  # NaN read through the fallback
    with pytest.raises(json_format.ParseError, match="value"):
        _json_format.parse_dict({"id": "x", "value": {"nested": 1}}, Concept())
