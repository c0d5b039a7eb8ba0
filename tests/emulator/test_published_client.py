"""Code written for the published ``clarifai-grpc`` package works against the emulator, unchanged.

The published package registers ``clarifai.api.*`` like ours, so its script runs in its own
process; what it wrote is then read back here with our client.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from clarifai_grpc_client import Client
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.proto import GetInputRequest, PostModelOutputsRequest, Input, Data, Text

KEY = "published-key"

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from google.protobuf import struct_pb2
    from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
    from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
    from clarifai_grpc.grpc.api.status import status_code_pb2

    transport, grpc_target, http_base, key, prefix = sys.argv[1:6]
    host, port = grpc_target.rsplit(":", 1)
    writer = service_pb2_grpc.V2Stub(ClarifaiChannel.get_insecure_grpc_channel(base=host, port=int(port)))
    if transport == "grpc":
        stub = writer
    else:
        stub = service_pb2_grpc.V2Stub(ClarifaiChannel.get_json_channel(base_url=http_base))
    md = (("authorization", "Key " + key),)
    app = resources_pb2.UserAppIDSet(user_id="me", app_id="main")
    meta = struct_pb2.Struct()
    meta.update({"source": "published", "n": 3})
    inputs = [
        resources_pb2.Input(id=prefix + "-1", data=resources_pb2.Data(
            text=resources_pb2.Text(raw="a football match with a late goal"),
            concepts=[resources_pb2.Concept(id="sport", value=1), resources_pb2.Concept(id="food", value=0)],
            metadata=meta)),
        resources_pb2.Input(id=prefix + "-2", data=resources_pb2.Data(text=resources_pb2.Text(raw="coffee and bread"))),
    ]
    out = {}
    # (the published JSON channel cannot encode these requests under protobuf 7: FieldDescriptor.label
    # is gone; its gRPC stub writes, and each transport reads)
    r = writer.PostInputs(service_pb2.PostInputsRequest(user_app_id=app, inputs=inputs), metadata=md)
    out["post"] = r.status.code
    r = stub.ListInputs(service_pb2.ListInputsRequest(user_app_id=app, per_page=10), metadata=md)
    out["listed"] = sorted(i.id for i in r.inputs)
    r = stub.PostModelOutputs(service_pb2.PostModelOutputsRequest(
        user_app_id=app, model_id="text-keywords",
        inputs=[resources_pb2.Input(data=resources_pb2.Data(text=resources_pb2.Text(raw="coffee and bread")))]), metadata=md)
    out["predict"] = [(c.id, round(c.value, 5)) for c in r.outputs[0].data.concepts]
    r = stub.GetInput(service_pb2.GetInputRequest(user_app_id=app, input_id="does-not-exist"), metadata=md)
    out["missing"] = status_code_pb2.StatusCode.Name(r.status.code)
    r = stub.StreamInputs(service_pb2.StreamInputsRequest(user_app_id=app, per_page=1, order_by_id=True), metadata=md)
    out["first_streamed"] = [i.id for i in r.inputs]
    print(json.dumps(out))
    """
)


@pytest.fixture
def emu() -> Emulator:
    with Emulator(keys=(KEY,)) as e:
        yield e  # type: ignore[misc]


@pytest.mark.parametrize("transport", ["grpc", "json"])
def test_published_stub_code_runs_against_the_emulator(emu: Emulator, transport: str) -> None:
    probe = subprocess.run([sys.executable, "-c", "import clarifai_grpc, requests"], capture_output=True)
    if probe.returncode != 0:
        pytest.fail("the published package and requests are test dependencies: pip install '.[test]'")
    result = subprocess.run([sys.executable, "-c", SCRIPT, transport, emu.grpc_target, emu.http_base, KEY, f"pub-{transport}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout)
    assert got["post"] == 10000
    assert got["listed"] == [f"pub-{transport}-1", f"pub-{transport}-2"]
    assert got["missing"] == "INPUT_DOES_NOT_EXIST"
    assert got["first_streamed"] == [f"pub-{transport}-1"]

    with Client("grpc", f"grpc://{emu.grpc_target}", pat=KEY, app_id="main", environ={}) as client:
        stored = client.GetInput(GetInputRequest(input_id=f"pub-{transport}-1")).input
        assert stored.data.text.raw == "a football match with a late goal"
        assert [(c.id, c.value) for c in stored.data.concepts] == [("sport", 1.0), ("food", 0.0)]
        assert dict(stored.data.metadata) == {"source": "published", "n": 3.0}
        ours = client.PostModelOutputs(PostModelOutputsRequest(
            model_id="text-keywords", inputs=[Input(data=Data(text=Text(raw="coffee and bread")))]))
    assert got["predict"] == [[c.id, round(c.value, 5)] for c in ours.outputs[0].data.concepts]
    assert got["predict"], "the keyword model found the food topic"


FAMILIES_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
    from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
    from clarifai_grpc.grpc.api.status import status_code_pb2

    transport, grpc_target, http_base, key, prefix = sys.argv[1:6]
    host, port = grpc_target.rsplit(":", 1)
    writer = service_pb2_grpc.V2Stub(ClarifaiChannel.get_insecure_grpc_channel(base=host, port=int(port)))
    stub = writer if transport == "grpc" else service_pb2_grpc.V2Stub(ClarifaiChannel.get_json_channel(base_url=http_base))
    md = (("authorization", "Key " + key),)
    app = resources_pb2.UserAppIDSet(user_id="me", app_id="main")
    user = resources_pb2.UserAppIDSet(user_id="me")
    name = lambda r: status_code_pb2.StatusCode.Name(r.status.code)
    out = {}
    r = writer.PostDatasets(service_pb2.PostDatasetsRequest(user_app_id=app, datasets=[
        resources_pb2.Dataset(id=prefix + "-ds", description="from the published client")]), metadata=md)
    out["datasets"] = name(r)
    r = writer.PostDatasetVersions(service_pb2.PostDatasetVersionsRequest(
        user_app_id=app, dataset_id=prefix + "-ds", dataset_versions=[resources_pb2.DatasetVersion(id="v1")]), metadata=md)
    out["version"] = name(r)
    r = writer.PostComputeClusters(service_pb2.PostComputeClustersRequest(user_app_id=user, compute_clusters=[
        resources_pb2.ComputeCluster(id=prefix + "-cc", description="local")]), metadata=md)
    out["cluster"] = name(r)
    r = writer.PostNodepools(service_pb2.PostNodepoolsRequest(user_app_id=user, compute_cluster_id=prefix + "-cc",
        nodepools=[resources_pb2.Nodepool(id="np", min_instances=1)]), metadata=md)
    out["nodepool"] = name(r)
    r = writer.PostSecrets(service_pb2.PostSecretsRequest(user_app_id=user, secrets=[
        resources_pb2.Secret(id=prefix + "-secret", value="s3cr3t")]), metadata=md)
    out["secret"] = name(r)
    r = stub.GetDataset(service_pb2.GetDatasetRequest(user_app_id=app, dataset_id=prefix + "-ds"), metadata=md)
    out["got"] = [name(r), r.dataset.description]
    r = stub.ListDatasetVersions(service_pb2.ListDatasetVersionsRequest(user_app_id=app, dataset_id=prefix + "-ds"), metadata=md)
    out["versions"] = [v.id for v in r.dataset_versions]
    r = stub.GetNodepool(service_pb2.GetNodepoolRequest(user_app_id=user, compute_cluster_id=prefix + "-cc",
        nodepool_id="np"), metadata=md)
    out["pool"] = [name(r), r.nodepool.min_instances]
    r = stub.GetComputeCluster(service_pb2.GetComputeClusterRequest(user_app_id=user, compute_cluster_id="nope"), metadata=md)
    out["missing_cluster"] = name(r)
    r = stub.ListSecrets(service_pb2.ListSecretsRequest(user_app_id=user), metadata=md)
    out["secrets"] = sorted(s.id for s in r.secrets)
    r = stub.GetDatasetVersion(service_pb2.GetDatasetVersionRequest(user_app_id=app, dataset_id=prefix + "-ds",
        dataset_version_id="v1"), metadata=md)
    out["version_state"] = name(r.dataset_version)
    print(json.dumps(out))
    """
)


@pytest.mark.parametrize("transport", ["grpc", "json"])
def test_published_client_drives_the_new_families(emu: Emulator, transport: str) -> None:
    """Datasets and their versions, compute clusters and nodepools, secrets: written and read by the published package."""
    result = subprocess.run([sys.executable, "-c", FAMILIES_SCRIPT, transport, emu.grpc_target, emu.http_base, KEY, f"fam-{transport}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout)
    assert [got[k] for k in ("datasets", "version", "cluster", "nodepool", "secret")] == ["SUCCESS"] * 5
    assert got["got"] == ["SUCCESS", "from the published client"]
    assert got["versions"] == ["v1"]
    assert got["pool"] == ["SUCCESS", 1]
    assert got["missing_cluster"] == "COMPUTE_CLUSTER_DOES_NOT_EXIST"
    assert got["secrets"] == [f"fam-{transport}-secret"]
    assert got["version_state"] == "DATASET_VERSION_READY"  # listed once (in progress), then read: ready
