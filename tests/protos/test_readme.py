"""protos/README.md lists exactly the RPCs that go beyond the original reference, by file."""

from __future__ import annotations

import re
from pathlib import Path

from clarifai_grpc_client.proto.clarifai.api import service_pb2

ROOT = Path(__file__).resolve().parents[2]


def test_readme_lists_the_rpcs_beyond_the_reference() -> None:
    text = (ROOT / "protos" / "README.md").read_text()
    block = text.split("<!-- rpcs-beyond-reference:start -->")[1].split("<!-- rpcs-beyond-reference:end -->")[0]
    listed: dict[str, str] = {}
    for line in block.strip().splitlines():
        m = re.match(r"- `([a-z_]+\.proto)` \((\d+)\): (.*)", line)
        assert m, line
        names = re.findall(r"`([A-Za-z]+)`", m.group(3))
        assert len(names) == int(m.group(2)), line
        listed.update({n: m.group(1) for n in names})
    seed = set((ROOT / "tests" / "data" / "seed_rpcs.txt").read_text().split())
    methods = service_pb2.DESCRIPTOR.services_by_name["V2"].methods
    expected = {m.name: m.input_type.file.name.rsplit("/", 1)[-1] for m in methods if m.name not in seed}
    assert listed == expected


def test_readme_names_every_proto_file() -> None:
    text = (ROOT / "protos" / "README.md").read_text()
    files = sorted(p.name for p in (ROOT / "protos" / "clarifai" / "api").glob("*.proto"))
    assert [f for f in files if f"`{f}`" not in text] == []
