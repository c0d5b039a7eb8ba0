"""What each V2 RPC does to which resource, read from the descriptors alone (pure; no I/O, no generated classes).

For every method of a service this module derives a :class:`Plan`:

- the resource **kind** (a message type such as ``clarifai.api.DatasetVersion``) from the
  response's resource field (``dataset_version`` / ``dataset_versions``), else from the
  request's, else from the path;
- the **collection** of that kind from its List / Post / Patch routes: the owner (``app``:
  under ``/v2/users/{user}/apps/{app}``, ``user``: under ``/v2/users/{user}``, ``root``) and the
  parent segments (``datasets/{dataset_id}/versions`` -> parent ``datasets`` = ``dataset_id``);
- the **operation**: ``get``, ``list``, ``create``, ``patch``, ``rename`` (``Patch*Ids``),
  ``delete``, ``upsert`` (``Put*``), ``cancel``, ``view`` (an action on one stored item such as
  ``.../versions/{id}/metrics``), ``singleton_get`` / ``singleton_put`` (one item per parent,
  such as a model version's export), or ``computed`` for everything that is no stored state;
- the request fields that carry the ids (path variables, ``ids`` / ``*_ids``), the list field,
  pagination and the Patch ``action``.

Only the main HTTP binding of each method is read (the one under the user's app when there is
one); methods without HTTP bindings are classified from their names and messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from google.api import annotations_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf import descriptor
from .._protobuf_compat import is_repeated

_FD = descriptor.FieldDescriptor
_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_OWNERS = (
    ("/v2/users/{user_app_id.user_id}/apps/{user_app_id.app_id}", "app"),
    ("/v2/users/{user_app_id.user_id}", "user"),
    ("/v2", "root"),
)
VERBS = ("Get", "List", "Post", "Patch", "Delete", "Put", "Cancel", "Stream", "Generate", "Process", "My")
OPERATIONS = ("get", "list", "create", "patch", "rename", "delete", "upsert", "cancel", "view", "singleton_get",
              "singleton_put", "computed")
STORED_OPERATIONS = frozenset(OPERATIONS) - {"computed"}
# Message types that are values inside resources, never resources themselves.
_NOT_RESOURCES = frozenset({"clarifai.api.status.Status", "clarifai.api.UserAppIDSet", "clarifai.api.Pagination",
                            "clarifai.api.IdUpdateSource", "clarifai.api.RunnerSelector"})


@dataclass(frozen=True)
class Route:
    """A path template split into its owner and the segments after it (``{var}`` for variables)."""

    owner: str
    segments: tuple[str, ...]

    @property
    def shape(self) -> tuple[str, ...]:
        """The segments with every variable as ``*``: what routes of one collection share."""
        return tuple("*" if s.startswith("{") else s for s in self.segments)

    def variables(self) -> list[str]:
        return [s[1:-1] for s in self.segments if s.startswith("{")]


def split_route(template: str) -> Route:
    """The :class:`Route` of a ``google.api.http`` path template."""
    for prefix, owner in _OWNERS:
        if template == prefix or template.startswith(prefix + "/"):
            rest = template[len(prefix):].strip("/")
            return Route(owner, tuple(s for s in rest.split("/") if s))
    return Route("root", tuple(s for s in template.strip("/").split("/") if s))


def http_paths(method: descriptor.MethodDescriptor) -> list[tuple[str, str]]:
    """``(verb, template)`` of every HTTP binding of ``method``, main binding first."""
    opts = method.GetOptions()
    if not opts.HasExtension(annotations_pb2.http):
        return []
    rule = opts.Extensions[annotations_pb2.http]
    out = []
    for r in [rule, *rule.additional_bindings]:
        kind = r.WhichOneof("pattern")
        if kind and kind != "custom":
            out.append((kind.upper(), getattr(r, kind)))
    return out


def main_route(method: descriptor.MethodDescriptor) -> Route | None:
    """The route of the binding with the most specific owner (app, then user, then root)."""
    routes = [split_route(t) for _, t in http_paths(method)]
    if not routes:
        return None
    rank = {"app": 0, "user": 1, "root": 2}
    return min(routes, key=lambda r: rank[r.owner])


def verb_of(name: str) -> str:
    """The leading word of an RPC name (``Post`` of ``PostDatasetVersions``)."""
    m = re.match(r"[A-Z][a-z]*", name)
    return m.group(0) if m else ""


def _is_resource(fd: _FD) -> bool:
    mt = fd.message_type
    return (fd.type == _FD.TYPE_MESSAGE and mt is not None and not mt.GetOptions().map_entry
            and not mt.full_name.startswith("google.") and mt.full_name not in _NOT_RESOURCES)


def _words(name: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Z][a-z0-9]*", name)]


def _score(fd: _FD, rpc_name: str) -> int:
    """How well a message field fits as the RPC's resource field (higher is better)."""
    mt = fd.message_type
    assert mt is not None
    rpc_words = "".join(_words(rpc_name))
    score = 0
    if "".join(_words(mt.name)) in rpc_words:
        score += 4 + len(mt.name)
    if is_repeated(fd):
        score += 2
    return score


def resource_field(msg: descriptor.Descriptor, rpc_name: str) -> _FD | None:
    """The field of ``msg`` that carries the RPC's resource(s), if any."""
    candidates = [fd for fd in msg.fields if _is_resource(fd)]
    if not candidates:
        return None
    return max(candidates, key=lambda fd: (_score(fd, rpc_name), -fd.number))


def id_path(kind: Any) -> str:
    """Where a resource keeps its id: ``id``, or ``<field>.id`` of its one message field with an id."""
    if "id" in kind.fields_by_name and kind.fields_by_name["id"].type == _FD.TYPE_STRING:
        return "id"
    for fd in kind.fields:
        mt = fd.message_type
        if fd.type == _FD.TYPE_MESSAGE and not is_repeated(fd) and mt is not None and "id" in mt.fields_by_name:
            if fd.name in ("input", "user", "model"):
                return f"{fd.name}.id"
    return ""


@dataclass(frozen=True)
class Collection:
    """Where resources of one kind live: an owner and a path shape (``("datasets", "*", "versions")``)."""

    kind: str
    owner: str
    shape: tuple[str, ...]
    parent_vars: tuple[str, ...]  # the request fields naming the parents, as the defining route spells them

    @property
    def parent_segments(self) -> tuple[str, ...]:
        """The literal segment before each variable: the parent collections, outermost first."""
        return tuple(self.shape[i - 1] for i, s in enumerate(self.shape) if s == "*" and i > 0)

    @property
    def label(self) -> str:
        return "/".join(self.shape)


@dataclass(frozen=True)
class Plan:
    """How the emulator serves one RPC (see the module docstring for the operations)."""

    rpc: str
    operation: str
    kind: str = ""
    collection: Collection | None = None
    route: Route | None = None
    # request fields with the parents' ids, in the order of Collection.parent_segments
    parent_fields: tuple[str, ...] = ()
    item_field: str = ""           # the request field naming one item (path variable or ``<kind>_id``)
    ids_field: str = ""            # the request's repeated string field of ids
    request_field: str = ""        # the request field with the resource(s) to write
    response_field: str = ""       # the response field to answer with
    response_repeated: bool = False
    paginated: bool = False
    has_action: bool = False
    streaming: str = ""            # "", "server", "client", "bidi"

    @property
    def stored(self) -> bool:
        return self.operation in STORED_OPERATIONS


def _streaming(method: descriptor.MethodDescriptor) -> str:
    cs, ss = method.client_streaming, method.server_streaming
    return "bidi" if cs and ss else "client" if cs else "server" if ss else ""


def _repeated_string_ids(req: descriptor.Descriptor, avoid: Iterable[str] = ()) -> str:
    names = [fd.name for fd in req.fields if is_repeated(fd) and fd.type == _FD.TYPE_STRING
             and (fd.name == "ids" or fd.name.endswith("_ids")) and fd.name not in avoid]
    if "ids" in names:
        return "ids"
    return names[0] if names else ""


def _has_fields(req: descriptor.Descriptor, names: Sequence[str]) -> bool:
    return all(n.split(".")[0] in req.fields_by_name for n in names)


def snake(name: str) -> str:
    """``DatasetVersion`` -> ``dataset_version``."""
    return "_".join(w.lower() for w in camel_to_words(name))


class Catalogue:
    """Every method's :class:`Plan` for one service, with the collections they share."""

    def __init__(self, service: descriptor.ServiceDescriptor, also_written: Iterable[tuple[str, str]] = ()) -> None:
        """``also_written``: collections, as ``(owner, "datasets/*/versions")``, that special handlers write."""
        self.service = service
        self.methods = {m.name: m for m in service.methods}
        self.collections: dict[tuple[str, tuple[str, ...]], Collection] = {}
        self._learn_collections()
        plans = {name: self._plan(m) for name, m in self.methods.items()}
        written = {p.collection for p in plans.values()
                   if p.collection is not None and p.operation in ("create", "upsert", "singleton_put")}
        extra = set(also_written)
        written |= {c for c in self.collections.values() if (c.owner, c.label) in extra}
        written |= set(self._nested_writes(written))
        self.written = frozenset(written)
        # A collection nothing writes is a catalogue: reading it is a computed answer, not stored state.
        self.plans = {name: (p if p.collection is None or p.collection in written or p.operation == "computed"
                             else self._computed(self.methods[name]))
                      for name, p in plans.items()}

    # --- collections -------------------------------------------------------------

    def _learn_collections(self) -> None:
        ranked: dict[tuple[str, tuple[str, ...]], tuple[int, Collection]] = {}
        for m in self.service.methods:
            route = main_route(m)
            verb = verb_of(m.name)
            if route is None or verb not in ("List", "Post", "Get", "Put") or _streaming(m):
                continue
            out_fd = resource_field(m.output_type, m.name)
            in_fd = resource_field(m.input_type, m.name)
            if verb == "Get":
                if out_fd is None or is_repeated(out_fd) or not route.segments or not route.segments[-1].startswith("{"):
                    continue
                fd, segs, rank = out_fd, route.segments[:-1], 1
            elif verb == "List":
                if out_fd is None or not is_repeated(out_fd):
                    continue
                fd, segs, rank = out_fd, route.segments, 0
            elif verb == "Put" and in_fd is None:
                if out_fd is None or is_repeated(out_fd):
                    continue
                fd, segs, rank = out_fd, route.segments, 2
            else:
                continue  # a collection is where something can be read: a List or a Get route
            shape = tuple("*" if s.startswith("{") else s for s in segs)
            if not shape or shape[-1] == "*":
                continue
            mt = fd.message_type
            assert mt is not None
            parent_vars = tuple(s[1:-1] for s in segs if s.startswith("{"))
            if not _has_fields(m.input_type, parent_vars):
                continue
            key = (route.owner, shape)
            col = Collection(mt.full_name, route.owner, shape, parent_vars)
            if key not in ranked or rank < ranked[key][0]:
                ranked[key] = (rank, col)
        self.collections = {k: c for k, (_, c) in ranked.items()}

    def _nested_writes(self, written: set[Collection]) -> Iterator[Collection]:
        """Child collections that creating a parent writes too (a pipeline's ``pipeline_version``)."""
        for col in self.collections.values():
            if len(col.shape) < 3 or col.shape[-2] != "*":
                continue
            parent = self.collections.get((col.owner, col.shape[:-2]))
            if parent is None or parent not in written:
                continue
            pdesc = self._descriptor(parent.kind)
            if pdesc is not None and any(fd.message_type is not None and fd.message_type.full_name == col.kind
                                         and not is_repeated(fd) for fd in pdesc.fields):
                yield col

    def _descriptor(self, full_name: str) -> descriptor.Descriptor | None:
        try:
            return self.service.file.pool.FindMessageTypeByName(full_name)
        except KeyError:
            return None

    def nested_field(self, parent_kind: str, child_kind: str) -> str:
        """The singular field of ``parent_kind`` holding a ``child_kind`` ('' if none)."""
        pdesc = self._descriptor(parent_kind)
        for fd in pdesc.fields if pdesc is not None else ():
            if fd.message_type is not None and fd.message_type.full_name == child_kind and not is_repeated(fd):
                return fd.name
        return ""

    def _collection(self, kind: str, route: Route, req: descriptor.Descriptor, length: int | None = None) -> Collection | None:
        """The collection of ``kind`` that ``route`` addresses (its first ``length`` segments, or any prefix)."""
        for n in ([length] if length is not None else range(len(route.shape), 0, -1)):
            col = self.collections.get((route.owner, route.shape[:n]))
            if col is not None and col.kind == kind and _has_fields(req, self._parents(route, n)):
                return col
        return None

    @staticmethod
    def _parents(route: Route, upto: int) -> tuple[str, ...]:
        return tuple(s[1:-1] for s in route.segments[:upto] if s.startswith("{"))

    def kind_at(self, owner: str, shape: tuple[str, ...]) -> str:
        """The kind whose collection is at ``shape`` under ``owner`` ('' if none)."""
        col = self.collections.get((owner, shape))
        return col.kind if col else ""

    # --- plans -------------------------------------------------------------------

    def _base(self, m: descriptor.MethodDescriptor) -> dict[str, Any]:
        return dict(rpc=m.name, streaming=_streaming(m), route=main_route(m),
                    paginated="page" in m.input_type.fields_by_name and "per_page" in m.input_type.fields_by_name,
                    has_action="action" in m.input_type.fields_by_name)

    def _computed(self, m: descriptor.MethodDescriptor) -> Plan:
        base = self._base(m)
        route = base["route"]
        parents: tuple[str, ...] = ()
        if isinstance(route, Route):
            parents = tuple(v for v in route.variables() if not v.startswith("user_app_id."))
            if not _has_fields(m.input_type, parents):
                parents = ()
        out_fd = resource_field(m.output_type, m.name)
        kind = out_fd.message_type.full_name if out_fd is not None and out_fd.message_type is not None else ""
        return Plan(operation="computed", kind=kind, parent_fields=parents, response_field=out_fd.name if out_fd else "",
                    response_repeated=bool(out_fd and is_repeated(out_fd)), **base)

    def _plan(self, m: descriptor.MethodDescriptor) -> Plan:
        plan = self._stored_plan(m)
        return plan if plan is not None else self._computed(m)

    def _stored_plan(self, m: descriptor.MethodDescriptor) -> Plan | None:
        base = self._base(m)
        route = base["route"]
        if not isinstance(route, Route) or base["streaming"]:
            return None
        verb = verb_of(m.name)
        req, resp = m.input_type, m.output_type
        out_fd = resource_field(resp, m.name)
        in_fd = resource_field(req, m.name)
        shape = route.shape
        resp_kw: dict[str, Any] = dict(response_field=out_fd.name if out_fd else "",
                                       response_repeated=bool(out_fd and is_repeated(out_fd)))
        out_kind = out_fd.message_type.full_name if out_fd is not None and out_fd.message_type is not None else ""
        in_kind = in_fd.message_type.full_name if in_fd is not None and in_fd.message_type is not None else ""

        def make(op: str, kind: str, col: Collection, **kw: Any) -> Plan:
            return Plan(operation=op, kind=kind, collection=col, parent_fields=self._parents(route, len(col.shape)),
                        **{**base, **resp_kw, **kw})

        if verb == "Get" and out_fd is not None and not is_repeated(out_fd):
            col = self._collection(out_kind, route, req)
            if col is not None:
                n = len(col.shape)
                if len(shape) > n and shape[n] == "*":
                    var = route.segments[n][1:-1]
                    if var in req.fields_by_name:
                        return make("get" if len(shape) == n + 1 else "view", out_kind, col, item_field=var)
                if verb == "Get" and len(shape) == n and out_fd.message_type is not None and id_path(out_fd.message_type) == "":
                    return make("singleton_get", out_kind, col)
        if verb == "List" and out_fd is not None and is_repeated(out_fd):
            col = self._collection(out_kind, route, req, len(shape))
            if col is not None:
                return make("list", out_kind, col, ids_field="ids" if "ids" in req.fields_by_name else "")
        if verb in ("Post", "Put") and in_fd is not None:
            col = self._collection(in_kind, route, req, len(shape))
            if col is not None:
                return make("create" if verb == "Post" else "upsert", in_kind, col, request_field=in_fd.name)
        if verb == "Put" and in_fd is None and out_fd is not None and not is_repeated(out_fd):
            col = self._collection(out_kind, route, req, len(shape))
            if col is not None:
                return make("singleton_put", out_kind, col)
        if verb == "Patch":
            ids_fd = req.fields_by_name.get("ids")
            if ids_fd is not None and ids_fd.message_type is not None and ids_fd.message_type.name == "IdUpdateSource":
                n = len(shape) - 1 if shape and shape[-1] == "ids" else len(shape)
                col = self._collection(out_kind, route, req, n)
                if col is not None:
                    return make("rename", out_kind, col, request_field="ids")
            if in_fd is not None:
                col = self._collection(in_kind, route, req, len(shape))
                if col is not None:
                    return make("patch", in_kind, col, request_field=in_fd.name)
        if verb == "Cancel" and out_kind:
            col = self._collection(out_kind, route, req)
            if col is not None:
                n = len(col.shape)
                ids = _repeated_string_ids(req)
                one = route.segments[n][1:-1] if len(shape) == n + 1 and shape[-1] == "*" else ""
                if ids or one:
                    return make("cancel", out_kind, col, ids_field=ids, item_field=one)
        if verb == "Delete":
            return self._delete_plan(m, route, make)
        if verb == "Post" and out_fd is not None and not is_repeated(out_fd):
            col = self._collection(out_kind, route, req)
            if col is not None:
                n = len(col.shape)
                if len(shape) > n + 1 and shape[n] == "*" and route.segments[n][1:-1] in req.fields_by_name:
                    return make("view", out_kind, col, item_field=route.segments[n][1:-1])
        return None

    def _delete_plan(self, m: descriptor.MethodDescriptor, route: Route, make: Callable[..., Plan]) -> Plan | None:
        req, shape = m.input_type, route.shape
        exact: Collection | None = self.collections.get((route.owner, shape))
        if exact is None and shape:
            # e.g. DELETE .../annotation_tracks with input_id in the body: the collection ending the same way
            # whose parents the request names
            for (owner, cshape), col in self.collections.items():
                if owner == route.owner and cshape[-1] == shape[-1] and _has_fields(req, col.parent_vars) and col.parent_vars:
                    exact = col
                    break
        if exact is not None:
            kind = exact.kind.rsplit(".", 1)[-1]
            ids = _repeated_string_ids(req, avoid=exact.parent_vars)
            one = f"{snake(kind)}_id"
            parents = self._parents(route, len(shape)) if (route.owner, shape) in self.collections else exact.parent_vars
            if ids:
                return Plan(operation="delete", kind=exact.kind, collection=exact, parent_fields=parents, ids_field=ids,
                            **self._base(m))
            if one in req.fields_by_name:
                return Plan(operation="delete", kind=exact.kind, collection=exact, parent_fields=parents, item_field=one,
                            **self._base(m))
        if len(shape) >= 2 and shape[-1] == "*":
            above = self.collections.get((route.owner, shape[:-1]))
            var = route.segments[-1][1:-1]
            if above is not None and var in req.fields_by_name:
                return make("delete", above.kind, above, item_field=var)
        return None


def camel_to_words(name: str) -> list[str]:
    """``DatasetVersion`` -> ``["DATASET", "VERSION"]``."""
    return [w.upper() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z][a-z0-9]*", name)]
