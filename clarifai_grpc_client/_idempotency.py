"""Which V2 calls can be repeated without changing the outcome, and so retried after a lost reply.

The rule, per RPC name:

- reads (``Get*``, ``List*``, ``Stream*``, ``My*``), predictions (``PostModelOutputs``,
  ``GenerateModelOutputs``, ``StreamModelOutputs``, ``PostWorkflowResults``), searches (``Post*Searches``, ``PostSearchesByID``) and
  ``PostValidatePassword`` change nothing: always retried;
- ``Patch*``, ``Put*`` and ``Delete*`` set a final state (a repeated delete may report
  "does not exist"): retried;
- other ``Post*`` calls create resources: retried only when every created item carries a
  client-set ``id``, so that a repeat is refused as a duplicate instead of creating a copy.
  ``Client`` and the batch helpers set ids before sending for that reason.
"""

from __future__ import annotations

from google.protobuf.message import Message
from ._protobuf_compat import is_repeated

_READ_PREFIXES = ("Get", "List", "Stream", "My")
_SETTING_PREFIXES = ("Patch", "Put", "Delete", "Cancel")
_READ_POSTS = frozenset({"PostModelOutputs", "GenerateModelOutputs", "PostWorkflowResults", "PostSearchesByID",
                         "PostValidatePassword"})


def rpc_name(method: str) -> str:
    """``PostInputs`` from ``/clarifai.api.V2/PostInputs`` (or the bare name)."""
    return method.rsplit("/", 1)[-1]


def created_items(request: Message) -> list[Message] | None:
    """The repeated message field holding the resources a ``Post*`` request creates, if any."""
    for fd in request.DESCRIPTOR.fields:
        if is_repeated(fd) and fd.message_type is not None and "id" in fd.message_type.fields_by_name:
            if not fd.message_type.GetOptions().map_entry:
                return list(getattr(request, fd.name))
    return None


def is_idempotent(method: str, request: Message | None) -> bool:
    name = rpc_name(method)
    if name.startswith(_READ_PREFIXES) or name.startswith(_SETTING_PREFIXES) or name in _READ_POSTS:
        return True
    if name.startswith("Post") and name.endswith("Searches"):
        return True
    if request is None:
        return False
    items = created_items(request)
    return bool(items) and all(getattr(item, "id", "") for item in items)  # type: ignore[union-attr]
