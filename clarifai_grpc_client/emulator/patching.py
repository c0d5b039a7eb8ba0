"""The ``action`` semantics of the Patch RPCs (merge / overwrite / remove), as pure functions.

- ``merge``: concepts are upserted by id; metadata is deep-merged (nested objects merge, other
  values replace; a JSON ``null`` deletes the key, as in a JSON merge patch); geo is replaced
  when given; dataset ids are added.
- ``overwrite``: concepts are replaced when the patch carries any; metadata is replaced when
  the patch has a ``metadata`` object (even ``{}``); geo replaced when given.
- ``remove``: concepts with the given ids are removed; metadata keys named in the patch are
  removed (nested objects recurse); geo is cleared when the patch has one; dataset ids removed.

Media (image, text, ...) is never changed by a patch.

:func:`patch_message` applies the same three actions to any message, for the resources the
generic engine serves.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from ..proto.well_known import Struct

from ..proto.clarifai.api import core_pb2
from ..proto.clarifai.api.concepts_pb2 import Concept
from .ids import timestamp
from .._protobuf_compat import is_repeated

ACTIONS = ("merge", "overwrite", "remove")


def check_action(action: str, allowed: Sequence[str] = ACTIONS) -> str:
    """The action to apply (empty means ``merge``); ValueError for an unknown one."""
    act = action or "merge"
    if act not in allowed:
        raise ValueError(f"action {action!r} is not supported; use one of: {', '.join(allowed)}")
    return act


def struct_to_dict(s: Struct) -> dict[str, Any]:
    return dict(json_format.MessageToDict(s))


def dict_to_struct(d: dict[str, Any]) -> Struct:
    s = Struct()
    s.update(d)
    return s


def merge_dicts(dst: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dst)
    for key, value in src.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_dicts(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def remove_keys(dst: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dst)
    for key, value in src.items():
        if isinstance(value, dict) and value and isinstance(out.get(key), dict):
            out[key] = remove_keys(out[key], value)
        else:
            out.pop(key, None)
    return out


def patch_concepts(stored: Iterable[Concept], patch: Sequence[Concept], action: str) -> list[Concept]:
    current = [copy.deepcopy(c) for c in stored]
    if action == "overwrite":
        return [copy.deepcopy(c) for c in patch] if patch else current
    if action == "remove":
        drop = {c.id for c in patch}
        return [c for c in current if c.id not in drop]
    by_id = {c.id: i for i, c in enumerate(current)}
    for c in patch:
        if c.id in by_id:
            current[by_id[c.id]] = copy.deepcopy(c)
        else:
            by_id[c.id] = len(current)
            current.append(copy.deepcopy(c))
    return current


def patch_struct(stored: Struct | None, patch: Struct, present: bool, action: str) -> Struct | None:
    """The new metadata, or None to leave it as it is."""
    if not present:
        return None
    base = struct_to_dict(stored) if stored is not None else {}
    new = struct_to_dict(patch)
    if action == "overwrite":
        return dict_to_struct(new)
    if action == "remove":
        return dict_to_struct(remove_keys(base, new))
    return dict_to_struct(merge_dicts(base, new))


def _patch_data(stored: core_pb2.Data, patch: core_pb2.Data, action: str) -> None:
    concepts = patch_concepts(stored.concepts, list(patch.concepts), action)
    del stored.concepts[:]
    stored.concepts.extend(concepts)
    meta = patch_struct(stored.metadata if stored.HasField("metadata") else None, patch.metadata,
                        patch.HasField("metadata"), action)
    if meta is not None:
        stored.metadata.CopyFrom(meta)
    if patch.HasField("geo"):
        if action == "remove":
            stored.ClearField("geo")
        else:
            stored.geo.CopyFrom(patch.geo)


def patch_input(stored: core_pb2.Input, patch: core_pb2.Input, action: str) -> core_pb2.Input:
    """``stored`` with ``patch`` applied (a new message; ``stored`` is untouched)."""
    out = copy.deepcopy(stored)
    _patch_data(out.data, patch.data, action)
    if len(patch.dataset_ids):
        ids = list(out.dataset_ids)
        if action == "remove":
            ids = [i for i in ids if i not in set(patch.dataset_ids)]
        elif action == "overwrite":
            ids = list(patch.dataset_ids)
        else:
            ids += [i for i in patch.dataset_ids if i not in ids]
        del out.dataset_ids[:]
        out.dataset_ids.extend(ids)
    out.modified_at.CopyFrom(timestamp())
    return out


def patch_annotation(stored: core_pb2.Annotation, patch: core_pb2.Annotation, action: str) -> core_pb2.Annotation:
    out = copy.deepcopy(stored)
    _patch_data(out.data, patch.data, action)
    regions = list(out.data.regions)
    if len(patch.data.regions):
        if action == "overwrite":
            regions = list(patch.data.regions)
        elif action == "remove":
            drop = {r.id for r in patch.data.regions}
            regions = [r for r in regions if r.id not in drop]
        else:
            by_id = {r.id: i for i, r in enumerate(regions) if r.id}
            for r in patch.data.regions:
                if r.id and r.id in by_id:
                    regions[by_id[r.id]] = r
                else:
                    regions.append(r)
        del out.data.regions[:]
        out.data.regions.extend(regions)
    info = patch_struct(out.annotation_info if out.HasField("annotation_info") else None, patch.annotation_info,
                        patch.HasField("annotation_info"), action)
    if info is not None:
        out.annotation_info.CopyFrom(info)
    out.modified_at.CopyFrom(timestamp())
    return out


def data_is_empty(data: core_pb2.Data) -> bool:
    """Whether an annotation's data says nothing any more (for ``delete_if_empty_data``)."""
    return not (len(data.concepts) or len(data.regions) or len(data.frames) or len(data.time_segments)
                or len(data.tracks) or (data.HasField("metadata") and len(data.metadata.fields)))


def patch_concept(stored: Concept, patch: Concept, action: str) -> Concept:
    out = copy.deepcopy(stored)
    if action == "remove":
        raise ValueError("PatchConcepts supports the actions merge and overwrite")
    for name in ("name", "definition", "language", "vocab_id"):
        value = getattr(patch, name)
        if value:
            setattr(out, name, value)
    if patch.HasField("metadata"):
        meta = patch_struct(out.metadata if out.HasField("metadata") else None, patch.metadata, True, action)
        if meta is not None:
            out.metadata.CopyFrom(meta)
    if patch.HasField("visibility"):
        out.visibility.CopyFrom(patch.visibility)
    return out


# Fields a Patch never changes: who owns a resource, what it is called, when it was made.
FROZEN_FIELDS = frozenset({"id", "user_id", "app_id", "created_at"})


def _key(msg: Message) -> object:
    """What identifies an element of a repeated message field: its ``id`` when it has one, else its bytes."""
    if "id" in msg.DESCRIPTOR.fields_by_name and getattr(msg, "id"):
        return ("id", getattr(msg, "id"))
    return ("bytes", msg.SerializeToString(deterministic=True))


def _is_struct(fd: FieldDescriptor) -> bool:
    return fd.message_type is not None and fd.message_type.full_name == "google.protobuf.Struct"


def _is_plain_message(fd: FieldDescriptor) -> bool:
    mt = fd.message_type
    return (mt is not None and not mt.GetOptions().map_entry and not mt.full_name.startswith("google.protobuf.")
            and fd.containing_oneof is None)


def patch_message(stored: Message, patch: Message, action: str, *, top: bool = True) -> Message:
    """``stored`` with ``patch`` applied under ``action``, for any message type (a new message).

    Only the fields set in ``patch`` take part. ``merge``: scalars and well-known values replace,
    nested messages merge field by field, Structs deep-merge (``null`` deletes a key), repeated
    fields gain the elements they lack (messages matched by ``id``, replaced when matched).
    ``overwrite``: each field set in the patch replaces the stored one whole. ``remove``: repeated
    fields lose the given elements, Structs the given keys, nested messages recurse, scalars are
    cleared. At the top level the id, owner and creation time never change.
    """
    out = copy.deepcopy(stored)
    for fd, value in patch.ListFields():
        if top and fd.name in FROZEN_FIELDS:
            continue
        name = fd.name
        if is_repeated(fd) and fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            target = getattr(out, name)
            if action == "remove":
                for k in value:
                    if k in target:
                        del target[k]
            else:
                if action == "overwrite":
                    target.clear()
                for k in value:
                    if fd.message_type.fields_by_name["value"].message_type is not None:
                        target[k].CopyFrom(value[k])
                    else:
                        target[k] = value[k]
            continue
        if is_repeated(fd):
            target = getattr(out, name)
            if fd.message_type is not None:
                current = list(target)
                if action == "overwrite":
                    current = list(value)
                elif action == "remove":
                    drop = {_key(v) for v in value}
                    current = [c for c in current if _key(c) not in drop]
                else:
                    index = {_key(c): i for i, c in enumerate(current)}
                    for v in value:
                        k = _key(v)
                        if k in index:
                            current[index[k]] = v
                        else:
                            index[k] = len(current)
                            current.append(v)
                del target[:]
                target.extend(current)
            else:
                items = list(target)
                if action == "overwrite":
                    items = list(value)
                elif action == "remove":
                    items = [i for i in items if i not in set(value)]
                else:
                    items += [v for v in value if v not in items]
                del target[:]
                target.extend(items)
            continue
        if fd.message_type is not None:
            if _is_struct(fd):
                meta = patch_struct(getattr(out, name) if out.HasField(name) else None, value, True, action)
                if meta is not None:
                    getattr(out, name).CopyFrom(meta)
            elif action == "remove":
                if _is_plain_message(fd) and out.HasField(name):
                    getattr(out, name).CopyFrom(patch_message(getattr(out, name), value, action, top=False))
                else:
                    out.ClearField(name)
            elif action == "merge" and _is_plain_message(fd) and out.HasField(name):
                getattr(out, name).CopyFrom(patch_message(getattr(out, name), value, action, top=False))
            else:
                getattr(out, name).CopyFrom(value)
            continue
        if action == "remove":
            out.ClearField(name)
        else:
            setattr(out, name, value)
    return out
