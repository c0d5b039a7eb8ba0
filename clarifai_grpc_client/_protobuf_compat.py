"""Descriptor attributes that differ across the protobuf releases the package accepts (5.29 to 7.x).

protobuf 7 dropped ``FieldDescriptor.label``; ``is_repeated``, its replacement, only appeared in
6.x. Code that must run on the whole range asks here instead of reading either attribute.
"""

from __future__ import annotations

_LABEL_REPEATED = 3  # FieldDescriptorProto.LABEL_REPEATED, fixed by the descriptor format


def is_repeated(fd: object) -> bool:
    """Whether the ``FieldDescriptor`` ``fd`` is a repeated field (a map field included)."""
    flag = getattr(fd, "is_repeated", None)
    if flag is None:
        return bool(getattr(fd, "label") == _LABEL_REPEATED)  # noqa: B009  (absent from 7.x stubs)
    return bool(flag)
