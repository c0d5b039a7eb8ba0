"""The special handlers beside the engine, over gRPC and HTTP: apps, dataset inputs, counts, searches, model
fields, publishing, exports, log entries, catalogues, and the validation of computed RPCs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import Emulator

from .conftest import SC, GrpcApi, HttpApi

APP = p.UserAppIDSet(user_id="me", app_id="main")
USER = p.UserAppIDSet(user_id="me")


@pytest.fixture(scope="module")
def api(module_api: GrpcApi | HttpApi) -> GrpcApi | HttpApi:
    return module_api


def ok(result: Any) -> Any:
    assert result.code == SC.SUCCESS, result.msg.status
    return result.msg


def text_input(input_id: str, text: str, concepts: tuple[str, ...] = ()) -> p.Input:
    return p.Input(id=input_id, data=p.Data(text=p.Text(raw=text), concepts=[p.Concept(id=c, value=1) for c in concepts]))


def test_apps_patch_rename_delete(api: Any) -> None:
    t = api.name
    ok(api.call("PostApps", p.PostAppsRequest(user_app_id=USER, apps=[p.App(id=f"{t}-a", description="one")])))
    inside = p.UserAppIDSet(user_id="me", app_id=f"{t}-a")
    ok(api.call("PostInputs", p.PostInputsRequest(user_app_id=inside, inputs=[text_input("i1", "hello")])))
    patched = ok(api.call("PatchApps", p.PatchAppsRequest(user_app_id=USER, action="merge", apps=[p.App(id=f"{t}-a", description="two")])))
    assert patched.apps[0].description == "two"
    renamed = ok(api.call("PatchAppsIds", p.PatchAppsIdsRequest(user_app_id=USER, action="overwrite",
                                                                ids=[p.IdUpdateSource(id=f"{t}-a", new_id=f"{t}-b")])))
    assert renamed.apps[0].id == f"{t}-b"
    moved = p.UserAppIDSet(user_id="me", app_id=f"{t}-b")
    assert ok(api.call("GetInput", p.GetInputRequest(user_app_id=moved, input_id="i1"))).input.data.text.raw == "hello"
    assert api.call("GetApp", p.GetAppRequest(user_app_id=inside)).code == SC.CONN_DOES_NOT_EXIST
    ok(api.call("DeleteApp", p.DeleteAppRequest(user_app_id=moved)))
    assert api.call("GetApp", p.GetAppRequest(user_app_id=moved)).code == SC.CONN_DOES_NOT_EXIST
    ok(api.call("PostApps", p.PostAppsRequest(user_app_id=USER, apps=[p.App(id=f"{t}-b")])))  # the id is free again, and empty
    assert ok(api.call("ListInputs", p.ListInputsRequest(user_app_id=moved))).inputs == []


def test_dataset_inputs_take_the_stored_input(api: Any) -> None:
    t = api.name
    ok(api.call("PostInputs", p.PostInputsRequest(user_app_id=APP, inputs=[text_input(f"{t}-in", "a cat", ("cat",))])))
    ok(api.call("PostDatasets", p.PostDatasetsRequest(user_app_id=APP, datasets=[p.Dataset(id=f"{t}-ds")])))
    added = ok(api.call("PostDatasetInputs", p.PostDatasetInputsRequest(
        user_app_id=APP, dataset_id=f"{t}-ds", dataset_inputs=[p.DatasetInput(input=p.Input(id=f"{t}-in"))])))
    assert added.dataset_inputs[0].input.data.text.raw == "a cat"
    missing = api.call("PostDatasetInputs", p.PostDatasetInputsRequest(
        user_app_id=APP, dataset_id=f"{t}-ds", dataset_inputs=[p.DatasetInput(input=p.Input(id="nope"))]))
    assert missing.code == SC.INPUT_DOES_NOT_EXIST
    listed = ok(api.call("ListDatasetInputs", p.ListDatasetInputsRequest(user_app_id=APP, dataset_id=f"{t}-ds")))
    assert [d.input.id for d in listed.dataset_inputs] == [f"{t}-in"]
    got = ok(api.call("GetDatasetInput", p.GetDatasetInputRequest(user_app_id=APP, dataset_id=f"{t}-ds", input_id=f"{t}-in")))
    assert got.dataset_input.input.id == f"{t}-in"


def test_counts_and_searches(api: Any) -> None:
    app = p.UserAppIDSet(user_id="me", app_id=f"{api.name}-counts")
    ok(api.call("PostApps", p.PostAppsRequest(user_app_id=USER, apps=[p.App(id=app.app_id)])))
    ok(api.call("PostInputs", p.PostInputsRequest(user_app_id=app, inputs=[
        text_input("x1", "a", ("dog",)), text_input("x2", "b", ("dog", "cat")), text_input("x3", "c")])))
    counts = ok(api.call("GetConceptCounts", p.GetConceptCountsRequest(user_app_id=app)))
    assert {c.id: c.concept_type_count.positive for c in counts.concept_counts} == {"cat": 1, "dog": 2}
    ok(api.call("PostDatasets", p.PostDatasetsRequest(user_app_id=app, datasets=[p.Dataset(id="d1"), p.Dataset(id="d2")])))
    resources = ok(api.call("GetResourceCounts", p.GetResourceCountsRequest(user_app_id=app)))
    assert (resources.inputs, resources.datasets) == (3, 2)
    found = ok(api.call("PostConceptsSearches", p.PostConceptsSearchesRequest(user_app_id=app, concept_query=p.ConceptQuery(name="do"))))
    assert [c.id for c in found.concepts] == ["dog"]
    models = ok(api.call("PostModelsSearches", p.PostModelsSearchesRequest(user_app_id=app, model_query=p.ModelQuery(name="keywords"))))
    assert [m.id for m in models.models] == ["text-keywords"]


def test_stored_models_fields_and_publishing(api: Any) -> None:
    m = f"{api.name}-model"
    ok(api.call("PostModels", p.PostModelsRequest(user_app_id=APP, model=p.Model(id=m, toolkits=["a"]))))
    assert ok(api.call("GetModel", p.GetModelRequest(user_app_id=APP, model_id=m))).model.id == m
    assert m in [x.id for x in ok(api.call("ListModels", p.ListModelsRequest(user_app_id=APP))).models]
    merged = ok(api.call("PatchModelToolkits", p.PatchModelToolkitsRequest(user_app_id=APP, model_id=m, action="merge", toolkits=["b"])))
    assert list(merged.toolkits) == ["a", "b"]
    removed = ok(api.call("PatchModelToolkits", p.PatchModelToolkitsRequest(user_app_id=APP, model_id=m, action="remove", toolkits=["a"])))
    assert list(removed.toolkits) == ["b"]
    ok(api.call("PostModelVersions", p.PostModelVersionsRequest(user_app_id=APP, model_id=m, model_versions=[p.ModelVersion(id="v")])))
    ok(api.call("PostModelVersionsPublish", p.PostModelVersionsPublishRequest(
        user_app_id=APP, model_id=m, publications=[p.ModelVersionPublishRequest(version_id="v")])))
    got = ok(api.call("GetModelVersion", p.GetModelVersionRequest(user_app_id=APP, model_id=m, version_id="v")))
    assert got.model_version.visibility.gettable == p.Visibility.PUBLIC
    missing = api.call("PostModelVersionsPublish", p.PostModelVersionsPublishRequest(
        user_app_id=APP, model_id=m, publications=[p.ModelVersionPublishRequest(version_id="nope")]))
    assert missing.code == SC.MODEL_DOES_NOT_EXIST
    builtin = ok(api.call("ListModelVersions", p.ListModelVersionsRequest(user_app_id=APP, model_id="text-keywords")))
    assert len(builtin.model_versions) == 1


def test_dataset_version_exports_progress(api: Any) -> None:
    ds = f"{api.name}-exp"
    ok(api.call("PostDatasets", p.PostDatasetsRequest(user_app_id=APP, datasets=[p.Dataset(id=ds)])))
    ok(api.call("PostDatasetVersions", p.PostDatasetVersionsRequest(user_app_id=APP, dataset_id=ds, dataset_versions=[p.DatasetVersion(id="v")])))
    fmt = p.DatasetVersionExportFormat.Value("COCO")
    states = []
    for _ in range(3):
        r = ok(api.call("PutDatasetVersionExports", p.PutDatasetVersionExportsRequest(
            user_app_id=APP, dataset_id=ds, dataset_version_id="v", exports=[p.DatasetVersionExport(format=fmt)])))
        states.append(r.exports[0].status.code)
    assert states == [SC.DATASET_VERSION_EXPORT_PENDING, SC.DATASET_VERSION_EXPORT_IN_PROGRESS, SC.DATASET_VERSION_EXPORT_SUCCESS]
    assert r.exports[0].url.endswith("coco.zip")


def test_log_entries_are_kept_and_filtered(api: Any) -> None:
    runner = f"{api.name}-runner"
    entries = [p.LogEntry(log_type="runner", message=f"line {i}", meta=p.ComputeSourceMetadata(
        compute_cluster_id="cc", nodepool_id="np", runner_id=runner)) for i in range(3)]
    entries.append(p.LogEntry(log_type="runner", message="elsewhere", meta=p.ComputeSourceMetadata(
        compute_cluster_id="cc", nodepool_id="np", runner_id="other")))
    ok(api.call("PostLogEntries", p.PostLogEntriesRequest(log_entries=entries)))
    got = ok(api.call("ListLogEntries", p.ListLogEntriesRequest(
        user_app_id=USER, compute_cluster_id="cc", nodepool_id="np", runner_id=runner, log_type="runner")))
    assert [e.message for e in got.log_entries] == ["line 0", "line 1", "line 2"]


def test_catalogues_and_computed_validation(api: Any) -> None:
    providers = ok(api.call("ListCloudProviders", p.ListCloudProvidersRequest()))
    assert [c.id for c in providers.cloud_providers] == ["local"]
    types = ok(api.call("ListInstanceTypes", p.ListInstanceTypesRequest(cloud_provider=p.CloudProvider(id="local"), region="loopback")))
    assert [t.id for t in types.instance_types] == ["cpu-small"]
    wrong = api.call("ListInstanceTypes", p.ListInstanceTypesRequest(cloud_provider=p.CloudProvider(id="local"), region="mars"))
    assert wrong.code == SC.CONN_DOES_NOT_EXIST and wrong.http_status in (None, 404)
    manifest = api.call("GetInputVideoManifest", p.GetVideoManifestRequest(user_app_id=APP, input_id="never-posted"))
    assert manifest.code == SC.INPUT_DOES_NOT_EXIST
    scopes = ok(api.call("MyScopes", p.MyScopesRequest(user_app_id=APP)))
    assert list(scopes.scopes) == ["All"]
    weak = ok(api.call("PostValidatePassword", p.PostValidatePasswordRequest(user_app_id=USER, password=p.Password(plaintext="abc"))))
    assert weak.password_violations.minimum_length and weak.password_violations.numeric_needed


def test_computed_rpcs_refuse_unknown_enum_values(grpc_only: GrpcApi) -> None:
    bad = p.ListPipelineTemplatesRequest()
    bad.pipeline_template_type.append(999)  # type: ignore[arg-type]
    r = grpc_only.call("ListPipelineTemplates", bad)
    assert r.code != SC.SUCCESS and "pipeline_template_type" in r.msg.status.details


@pytest.fixture(scope="module")
def grpc_only(emulator: Emulator) -> Iterator[GrpcApi]:
    helper = GrpcApi(emulator)
    yield helper
    helper.close()
