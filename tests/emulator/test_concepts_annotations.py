"""Concepts and annotations over every transport."""

from __future__ import annotations

from clarifai_grpc_client import proto as p

from .conftest import SC, GrpcApi, HttpApi
from .test_inputs import meta, post, text_input

Api = GrpcApi | HttpApi


def test_concepts_crud(api: Api) -> None:
    r = api.call("PostConcepts", p.PostConceptsRequest(concepts=[p.Concept(id="dog", name="Dog"), p.Concept(id="cat")]))
    assert r.code == SC.SUCCESS
    assert [(c.id, c.name, c.value) for c in r.msg.concepts] == [("dog", "Dog", 1.0), ("cat", "cat", 1.0)]
    assert api.call("PostConcepts", p.PostConceptsRequest(concepts=[p.Concept(id="dog")])).code == SC.DATABASE_DUPLICATE_KEY
    assert api.call("PostConcepts", p.PostConceptsRequest(concepts=[p.Concept(name="no id")])).code == SC.CONCEPTS_INVALID_REQUEST
    got = api.call("GetConcept", p.GetConceptRequest(concept_id="dog")).msg.concept
    assert got.name == "Dog" and got.app_id == "main" and got.user_id == "emulator-user"
    missing = api.call("GetConcept", p.GetConceptRequest(concept_id="nope"))
    assert missing.code == SC.CONN_DOES_NOT_EXIST and missing.http_status in (None, 404)
    assert [c.id for c in api.call("ListConcepts", p.ListConceptsRequest(per_page=1, page=2)).msg.concepts] == ["cat"]
    patched = api.call("PatchConcepts", p.PatchConceptsRequest(action="overwrite", concepts=[p.Concept(id="cat", name="Kitty")]))
    assert patched.code == SC.SUCCESS and patched.msg.concepts[0].name == "Kitty"
    assert api.call("GetConcept", p.GetConceptRequest(concept_id="cat")).msg.concept.name == "Kitty"
    assert api.call("PatchConcepts", p.PatchConceptsRequest(action="overwrite", concepts=[p.Concept(id="ghost", name="x")])).code \
        == SC.CONN_DOES_NOT_EXIST


def test_annotations_crud(api: Api) -> None:
    post(api, text_input("in1"), text_input("in2"))
    r = api.call("PostAnnotations", p.PostAnnotationsRequest(annotations=[
        p.Annotation(id="an1", input_id="in1", data=p.Data(concepts=[p.Concept(id="dog", value=1)])),
        p.Annotation(input_id="in2", data=p.Data(concepts=[p.Concept(id="cat", value=1)], metadata=meta({"src": "me"}))),
    ]))
    assert r.code == SC.SUCCESS, r.msg.status
    an2 = r.msg.annotations[1].id
    assert r.msg.annotations[0].status.code == SC.ANNOTATION_SUCCESS and r.msg.annotations[0].input_level
    assert {c.id for c in api.call("ListConcepts", p.ListConceptsRequest()).msg.concepts} == {"dog", "cat"}
    assert api.call("PostAnnotations", p.PostAnnotationsRequest(annotations=[p.Annotation(input_id="ghost")])).code \
        == SC.INPUT_DOES_NOT_EXIST
    dup = api.call("PostAnnotations", p.PostAnnotationsRequest(annotations=[p.Annotation(id="an1", input_id="in1")]))
    assert dup.code == SC.DATABASE_DUPLICATE_KEY
    by_input = api.call("ListAnnotations", p.ListAnnotationsRequest(input_ids=["in1"])).msg.annotations
    assert [a.id for a in by_input] == ["an1"]
    by_ids = api.call("ListAnnotations", p.ListAnnotationsRequest(ids=[an2, "an1"])).msg.annotations
    assert sorted(a.id for a in by_ids) == sorted([an2, "an1"])
    got = api.call("GetAnnotation", p.GetAnnotationRequest(input_id="in1", annotation_id="an1")).msg.annotation
    assert got.data.concepts[0].id == "dog"
    patched = api.call("PatchAnnotations", p.PatchAnnotationsRequest(action="merge", annotations=[
        p.Annotation(id="an1", data=p.Data(concepts=[p.Concept(id="puppy", value=1)]))]))
    assert patched.code == SC.SUCCESS
    assert [c.id for c in patched.msg.annotations[0].data.concepts] == ["dog", "puppy"]
    emptied = api.call("PatchAnnotations", p.PatchAnnotationsRequest(action="remove", delete_if_empty_data=True, annotations=[
        p.Annotation(id="an1", data=p.Data(concepts=[p.Concept(id="dog"), p.Concept(id="puppy")]))]))
    assert emptied.code == SC.SUCCESS and emptied.msg.annotations == []
    assert api.call("GetAnnotation", p.GetAnnotationRequest(input_id="in1", annotation_id="an1")).code == SC.CONN_DOES_NOT_EXIST
    assert api.call("DeleteAnnotation", p.DeleteAnnotationRequest(input_id="in1", annotation_id=an2)).code == SC.CONN_DOES_NOT_EXIST
    assert api.call("DeleteAnnotation", p.DeleteAnnotationRequest(input_id="in2", annotation_id=an2)).code == SC.SUCCESS
    assert api.call("ListAnnotations", p.ListAnnotationsRequest()).msg.annotations == []


def test_delete_annotations_by_ids_and_inputs(api: Api) -> None:
    post(api, text_input("in1"), text_input("in2"))
    anns = [p.Annotation(id=f"a{i}", input_id="in1" if i < 3 else "in2", data=p.Data(concepts=[p.Concept(id="c", value=1)]))
            for i in range(5)]
    assert api.call("PostAnnotations", p.PostAnnotationsRequest(annotations=anns)).code == SC.SUCCESS
    assert api.call("DeleteAnnotations", p.DeleteAnnotationsRequest(ids=["a0", "nope"])).code == SC.CONN_DOES_NOT_EXIST
    assert api.call("DeleteAnnotations", p.DeleteAnnotationsRequest(ids=["a0"])).code == SC.SUCCESS
    assert api.call("DeleteAnnotations", p.DeleteAnnotationsRequest(input_ids=["in2"])).code == SC.SUCCESS
    left = api.call("ListAnnotations", p.ListAnnotationsRequest()).msg.annotations
    assert sorted(a.id for a in left) == ["a1", "a2"]
