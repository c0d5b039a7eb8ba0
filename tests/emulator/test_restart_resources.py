"""A restart on the same database keeps every kind of resource, its scope, and where a job stood."""

from __future__ import annotations

from pathlib import Path

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import Emulator

from .conftest import KEY, SC, GrpcApi, HttpApi

APP = p.UserAppIDSet(user_id="me", app_id="main")


def test_restart_keeps_generic_resources(tmp_path: Path) -> None:
    with Emulator(db_path=tmp_path / "emu.sqlite3", keys=(KEY,)) as emu:
        api = GrpcApi(emu)
        assert api.call("PostDatasets", p.PostDatasetsRequest(user_app_id=APP, datasets=[p.Dataset(id="ds", description="d")])).code == SC.SUCCESS
        assert api.call("PostDatasetVersions", p.PostDatasetVersionsRequest(
            user_app_id=APP, dataset_id="ds", dataset_versions=[p.DatasetVersion(id="v1")])).code == SC.SUCCESS
        assert api.call("PostComputeClusters", p.PostComputeClustersRequest(
            user_app_id=APP, compute_clusters=[p.ComputeCluster(id="cc")])).code == SC.SUCCESS
        assert api.call("PostNodepools", p.PostNodepoolsRequest(
            user_app_id=APP, compute_cluster_id="cc", nodepools=[p.Nodepool(id="np")])).code == SC.SUCCESS
        assert api.call("PostSecrets", p.PostSecretsRequest(user_app_id=APP, secrets=[p.Secret(id="s", value="v")])).code == SC.SUCCESS
        first = api.call("GetDatasetVersion", p.GetDatasetVersionRequest(user_app_id=APP, dataset_id="ds", dataset_version_id="v1"))
        assert first.msg.dataset_version.status.code == SC.DATASET_VERSION_IN_PROGRESS
        api.close()
        emu.restart()
        for helper in (GrpcApi(emu), HttpApi(emu)):
            ds = helper.call("GetDataset", p.GetDatasetRequest(user_app_id=APP, dataset_id="ds"))
            assert ds.code == SC.SUCCESS and ds.msg.dataset.description == "d"
            pools = helper.call("ListNodepools", p.ListNodepoolsRequest(user_app_id=APP, compute_cluster_id="cc"))
            assert [n.id for n in pools.msg.nodepools] == ["np"]
            secrets = helper.call("ListSecrets", p.ListSecretsRequest(user_app_id=APP))
            assert [s.id for s in secrets.msg.secrets] == ["s"]
            helper.close()
        # the version's state survived the restart and moves on from there
        last = GrpcApi(emu).call("GetDatasetVersion", p.GetDatasetVersionRequest(user_app_id=APP, dataset_id="ds", dataset_version_id="v1"))
        assert last.msg.dataset_version.status.code == SC.DATASET_VERSION_READY
