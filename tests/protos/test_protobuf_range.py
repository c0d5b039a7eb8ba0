"""The package runs on every protobuf it accepts (5.29 to 7.x), where descriptor attributes differ.

``FieldDescriptor.is_repeated`` only exists from 6.x and ``label`` is gone in 7.x, so code asks
``clarifai_grpc_client._protobuf_compat`` instead. CI runs the suite at the floors as well; this
test keeps a direct use from slipping in where only the newest runtime would pass.
"""

from __future__ import annotations

import re
from pathlib import Path

from clarifai_grpc_client._protobuf_compat import is_repeated
from clarifai_grpc_client.proto import Data, Input, ListInputsRequest

PACKAGE = Path(__file__).resolve().parents[2] / "clarifai_grpc_client"
_DIRECT = re.compile(r"\.is_repeated\b|\bLABEL_REPEATED\b|\.label\s*==")


def test_no_direct_use_of_version_specific_descriptor_attributes() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("proto/") or rel == "_protobuf_compat.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if _DIRECT.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "use _protobuf_compat.is_repeated:\n" + "\n".join(offenders)


def test_is_repeated_reads_singular_repeated_and_map_fields() -> None:
    fields = Input.DESCRIPTOR.fields_by_name
    assert not is_repeated(fields["id"])
    assert not is_repeated(fields["data"])
    assert is_repeated(Data.DESCRIPTOR.fields_by_name["concepts"])
    assert not is_repeated(ListInputsRequest.DESCRIPTOR.fields_by_name["per_page"])
    maps = [fd for m in (Input, Data) for fd in m.DESCRIPTOR.fields if fd.message_type and fd.message_type.GetOptions().map_entry]
    assert all(is_repeated(fd) for fd in maps)
