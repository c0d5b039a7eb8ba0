"""Imports every module that registers RPC handlers, so that importing this one registers them all."""

from __future__ import annotations

from . import rpc_annotations, rpc_apps, rpc_catalogues, rpc_concepts, rpc_inputs, rpc_models, rpc_resources, rpc_search, rpc_workflows

MODULES = (rpc_annotations, rpc_apps, rpc_catalogues, rpc_concepts, rpc_inputs, rpc_models, rpc_resources, rpc_search,
           rpc_workflows)
