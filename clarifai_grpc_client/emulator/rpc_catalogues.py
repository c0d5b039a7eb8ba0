"""Computed answers with content: catalogues and estimates the emulator knows without storing them.

- model types: one per built-in model's type (``GetModelType`` / ``ListModelTypes``);
- cloud catalogue: one provider ``local`` with one region ``loopback`` and one instance type
  ``cpu-small``, so compute-cluster flows have ids to name;
- scopes: every key has every scope (``All``), as the emulator's keys act as full PATs;
- the user a key belongs to (``GetUser``), password checks (at least 8 characters, a letter and
  a digit), training time estimates (one second per input, at least 60 s), open source licenses.
"""

from __future__ import annotations

from .. import proto as p
from ..proto.clarifai.api.status import status_code_pb2
from .context import CallContext, page_bounds, rpc
from .models import BUILTIN_MODELS
from .statuses import ApiFailure

LICENSES = ("Apache-2.0", "BSD-3-Clause", "MIT", "MPL-2.0", "CC-BY-4.0")
PROVIDER = p.CloudProvider(id="local", name="Local emulator")
REGION = "loopback"
INSTANCE = "cpu-small"
ALL_SCOPES = ("All",)


def model_types() -> list[p.ModelType]:
    seen: dict[str, p.ModelType] = {}
    for m in BUILTIN_MODELS.values():
        seen.setdefault(m.model_type_id, p.ModelType(id=m.model_type_id, title=m.model_type_id.replace("-", " "),
                                                     description=f"the emulator's {m.model_type_id} stand-in", creatable=True))
    return list(seen.values())


@rpc("ListModelTypes", state="computed")
def list_model_types(ctx: CallContext, req: p.ListModelTypesRequest) -> p.MultiModelTypeResponse:
    """The model types of the built-in models."""
    offset, limit = page_bounds(req.page, req.per_page)
    return p.MultiModelTypeResponse(model_types=model_types()[offset:offset + limit])


@rpc("GetModelType", state="computed")
def get_model_type(ctx: CallContext, req: p.GetModelTypeRequest) -> p.SingleModelTypeResponse:
    """One model type of the built-in models."""
    for t in model_types():
        if t.id == req.model_type_id:
            return p.SingleModelTypeResponse(model_type=t)
    raise ApiFailure(status_code_pb2.MODEL_DOES_NOT_EXIST, f"model type {req.model_type_id!r} does not exist; the emulator's "
                     f"types are: {', '.join(t.id for t in model_types())}")


@rpc("ListCloudProviders", scope="none", state="computed")
def list_cloud_providers(ctx: CallContext, req: p.ListCloudProvidersRequest) -> p.MultiCloudProviderResponse:
    """The one local provider."""
    return p.MultiCloudProviderResponse(cloud_providers=[PROVIDER])


def _provider(provider_id: str) -> None:
    if provider_id != PROVIDER.id:
        raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"cloud provider {provider_id!r} does not exist; use {PROVIDER.id!r}")


@rpc("ListCloudRegions", scope="none", state="computed")
def list_cloud_regions(ctx: CallContext, req: p.ListCloudRegionsRequest) -> p.MultiCloudRegionResponse:
    """The local provider's one region."""
    _provider(req.cloud_provider.id)
    return p.MultiCloudRegionResponse(regions=[REGION])


@rpc("ListInstanceTypes", scope="none", state="computed")
def list_instance_types(ctx: CallContext, req: p.ListInstanceTypesRequest) -> p.MultiInstanceTypeResponse:
    """The local region's one instance type."""
    _provider(req.cloud_provider.id)
    if req.region != REGION:
        raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"region {req.region!r} does not exist; use {REGION!r}")
    return p.MultiInstanceTypeResponse(instance_types=[p.InstanceType(id=INSTANCE, description="1 CPU, no GPU",
                                                                      cloud_provider=PROVIDER, region=REGION)])


@rpc("ListOpenSourceLicenses", scope="none", state="computed")
def list_open_source_licenses(ctx: CallContext, req: p.ListOpenSourceLicensesRequest) -> p.ListOpenSourceLicensesResponse:
    """A short list of SPDX license ids."""
    return p.ListOpenSourceLicensesResponse(licenses=list(LICENSES))


@rpc("MyScopes", state="computed")
def my_scopes(ctx: CallContext, req: p.MyScopesRequest) -> p.MultiScopeResponse:
    """Every scope: emulator keys act as full personal access tokens."""
    return p.MultiScopeResponse(scopes=list(ALL_SCOPES))


@rpc("MyScopesUser", scope="user", state="computed")
def my_scopes_user(ctx: CallContext, req: p.MyScopesUserRequest) -> p.MultiScopeUserResponse:
    """Every scope, for the user."""
    return p.MultiScopeUserResponse(scopes=list(ALL_SCOPES))


@rpc("MyScopesRoot", scope="none", state="computed")
def my_scopes_root(ctx: CallContext, req: p.MyScopesRootRequest) -> p.MultiScopeRootResponse:
    """Every scope, at the root."""
    return p.MultiScopeRootResponse(scopes=list(ALL_SCOPES))


@rpc("GetUser", scope="user", state="computed")
def get_user(ctx: CallContext, req: p.GetUserRequest) -> p.SingleUserResponse:
    """The user the key belongs to."""
    return p.SingleUserResponse(user=p.User(id=ctx.user_id))


@rpc("PostValidatePassword", scope="user", state="computed")
def post_validate_password(ctx: CallContext, req: p.PostValidatePasswordRequest) -> p.SinglePasswordValidationResponse:
    """At least 8 characters, with a letter and a digit."""
    pw = req.password.plaintext
    v = p.PasswordViolations(minimum_length=len(pw) < 8, lower_case_needed=not any(c.isalpha() for c in pw),
                             numeric_needed=not any(c.isdigit() for c in pw))
    return p.SinglePasswordValidationResponse(password_violations=v)


@rpc("PostModelVersionsTrainingTimeEstimate", state="computed")
def post_training_time_estimate(ctx: CallContext,
                                req: p.PostModelVersionsTrainingTimeEstimateRequest) -> p.MultiTrainingTimeEstimateResponse:
    """One second per input, at least a minute, per version asked about."""
    out = p.MultiTrainingTimeEstimateResponse()
    for _ in range(max(1, len(req.model_versions))):
        out.training_time_estimates.add(seconds=max(60, int(req.estimated_input_count)))
    return out
