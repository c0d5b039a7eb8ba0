"""Handlers for apps (ListApps, GetApp, PostApps) and the status-code catalogue (ListStatusCodes, GetStatusCode)."""

from __future__ import annotations

from collections.abc import Iterable

from ..proto.clarifai.api import apps_pb2, apps_service_pb2
from ..proto.clarifai.api.common_pb2 import Visibility
from ..proto.clarifai.api.status import status_code_pb2
from .auth import DEFAULT_APP_ID, PUBLIC_APP_ID, PUBLIC_USER_ID
from .context import CallContext, page_bounds, rpc
from .ids import new_id, timestamp, valid_id
from .statuses import ApiFailure, describe, make_status
from .storage import Storage


def new_app(user_id: str, app_id: str, template: apps_pb2.App | None = None) -> apps_pb2.App:
    app = apps_pb2.App()
    if template is not None:
        app.CopyFrom(template)
    now = timestamp()
    app.id, app.user_id = app_id, user_id
    app.name = app.name or app_id
    app.default_language = app.default_language or "en"
    app.created_at.CopyFrom(now)
    app.modified_at.CopyFrom(now)
    if not app.HasField("visibility"):
        app.visibility.CopyFrom(Visibility(gettable=Visibility.PRIVATE))
    return app


def public_app() -> apps_pb2.App:
    app = new_app(PUBLIC_USER_ID, PUBLIC_APP_ID)
    app.description = "The emulator's public app holding its built-in models"
    app.visibility.gettable = Visibility.PUBLIC
    return app


def ensure_default_apps(storage: Storage, users: Iterable[str]) -> None:
    """Create each user's default app (``main``) if it does not exist yet."""
    with storage.write() as tx:
        for user in users:
            if tx.get_app(user, DEFAULT_APP_ID) is None:
                tx.insert_app(new_app(user, DEFAULT_APP_ID))


@rpc("ListApps", scope="user")
def list_apps(ctx: CallContext, req: apps_service_pb2.ListAppsRequest) -> apps_service_pb2.MultiAppResponse:
    if ctx.user_id == PUBLIC_USER_ID:
        apps = [public_app()]
    else:
        with ctx.storage.read() as tx:
            apps = tx.list_apps(ctx.user_id)
    if req.id:
        apps = [a for a in apps if req.id.lower() in a.id.lower()]
    for text in (req.name, req.query, req.search):
        if text:
            apps = [a for a in apps if text.lower() in a.id.lower() or text.lower() in a.name.lower()]
    if req.sort_by_name or req.sort_by_id:
        apps.sort(key=lambda a: a.name.lower() if req.sort_by_name else a.id, reverse=not req.sort_ascending)
    else:
        apps.sort(key=lambda a: a.created_at.ToNanoseconds(), reverse=not req.sort_ascending)
    offset, limit = page_bounds(req.page, req.per_page)
    return apps_service_pb2.MultiAppResponse(apps=apps[offset:offset + limit])


@rpc("GetApp")
def get_app(ctx: CallContext, req: apps_service_pb2.GetAppRequest) -> apps_service_pb2.SingleAppResponse:
    if ctx.user_id == PUBLIC_USER_ID:
        return apps_service_pb2.SingleAppResponse(app=public_app())
    with ctx.storage.read() as tx:
        app = tx.get_app(ctx.user_id, ctx.app_id)
    if app is None:  # deleted between resolution and now
        raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"app {ctx.app_id!r} does not exist")
    return apps_service_pb2.SingleAppResponse(app=app)


@rpc("PostApps", scope="user")
def post_apps(ctx: CallContext, req: apps_service_pb2.PostAppsRequest) -> apps_service_pb2.MultiAppResponse:
    if ctx.user_id != ctx.principal.user_id:
        raise ApiFailure(status_code_pb2.CONN_INSUFFICIENT_SCOPES, f"apps can only be created for the key's own user {ctx.principal.user_id!r}")
    if not len(req.apps):
        raise ApiFailure(status_code_pb2.CONN_INVALID_REQUEST, "PostApps needs at least one app in 'apps'")
    built = []
    for given in req.apps:
        app_id = given.id or new_id()
        if not valid_id(app_id):
            raise ApiFailure(status_code_pb2.CONN_INVALID_REQUEST, f"app id {app_id!r} is not valid: use letters, digits, '_', '-' and '.'")
        built.append(new_app(ctx.user_id, app_id, given))
    ids = [a.id for a in built]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ApiFailure(status_code_pb2.DATABASE_DUPLICATE_KEY, f"app ids repeated in the request: {', '.join(repeated)}")
    with ctx.storage.write() as tx:
        taken = [a.id for a in built if tx.get_app(ctx.user_id, a.id) is not None]
        if taken:
            raise ApiFailure(status_code_pb2.DATABASE_DUPLICATE_KEY, f"apps already exist: {', '.join(taken)}")
        for app in built:
            tx.insert_app(app)
    return apps_service_pb2.MultiAppResponse(apps=built)


def _all_codes() -> list[int]:
    return sorted(v.number for v in status_code_pb2.StatusCode.DESCRIPTOR.values_by_number.values())


@rpc("ListStatusCodes", scope="none")
def list_status_codes(ctx: CallContext, req: apps_service_pb2.ListStatusCodesRequest) -> apps_service_pb2.MultiStatusCodeResponse:
    return apps_service_pb2.MultiStatusCodeResponse(statuses=[make_status(code) for code in _all_codes() if code])


@rpc("GetStatusCode", scope="none")
def get_status_code(ctx: CallContext, req: apps_service_pb2.GetStatusCodeRequest) -> apps_service_pb2.SingleStatusCodeResponse:
    """The response's ``status`` IS the looked-up code (the response has no other field); HTTP 200."""
    text = req.status_code_id.strip()
    by_name = status_code_pb2.StatusCode.DESCRIPTOR.values_by_name.get(text.upper())
    code = by_name.number if by_name is not None else (int(text) if text.isdigit() else None)
    if code is None or code not in status_code_pb2.StatusCode.DESCRIPTOR.values_by_number or code == 0:
        raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"{req.status_code_id!r} is not a status code")
    ctx.http_status = 200
    return apps_service_pb2.SingleStatusCodeResponse(status=make_status(code, description=describe(code)))
