"""Render the emulator's per-RPC coverage table and its limits into ``clarifai_grpc_client/emulator/COVERAGE.md``.

What backs each RPC comes from the emulator's registries (:mod:`clarifai_grpc_client.emulator.coverage`).
Which tests cover it comes from the test files, read as text, under these rules:

- a module that sets ``COVERS_EVERY_RPC = ("grpc", "http")`` covers every RPC over those transports;
- a module that sets ``COVERED_TRANSPORTS`` and computes ``COVERED_RPCS`` is imported to read them;
- otherwise a module covers the RPCs it names as a string (``"PostInputs"``) or a call
  (``.PostInputs(``), over gRPC when it uses the gRPC helpers or stub (``grpc_api``, ``GrpcApi``,
  ``V2Stub``, a ``"grpc"`` transport) and over HTTP when it uses the HTTP helpers (``http``,
  ``HttpApi``, ``httpx``, a ``"json"`` transport); the ``api`` fixture runs a test on both.

    python scripts/gen_emulator_coverage.py          # rewrite the file
    python scripts/gen_emulator_coverage.py --check  # exit 1 if the file is not current
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clarifai_grpc_client.emulator import coverage  # noqa: E402

OUT = ROOT / "clarifai_grpc_client" / "emulator" / "COVERAGE.md"
TEST_DIRS = (ROOT / "tests" / "emulator", ROOT / "tests" / "client")
_GRPC = re.compile(r"\bgrpc_api\b|\bGrpcApi\(|\bV2Stub\(|[\"']grpc[\"']|\(api: |\bapi\)")
_HTTP = re.compile(r"\bHttpApi\(|\bhttpx\b|\bhttp_base\b|[\"']json[\"']|[\"']http[\"']|\(api: |\bapi\)|\bhttp: httpx")


def _assigned(tree: ast.Module, name: str) -> ast.expr | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return node.value
    return None


def test_coverage(rpcs: list[str]) -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, list[str]]]]:
    """The modules that call every RPC (with their transports), and per RPC, per transport
    ("grpc", "http"), the other test modules that call it."""
    every_modules: dict[str, tuple[str, ...]] = {}
    out: dict[str, dict[str, list[str]]] = {r: {"grpc": [], "http": []} for r in rpcs}
    for folder in TEST_DIRS:
        for path in sorted(folder.glob("test_*.py")):
            text = path.read_text()
            tree = ast.parse(text)
            label = f"{path.parent.name}/{path.name}"
            every = _assigned(tree, "COVERS_EVERY_RPC")
            if every is not None:
                every_modules[label] = tuple(ast.literal_eval(every))
                continue
            if _assigned(tree, "COVERED_RPCS") is not None:
                module = importlib.import_module(f"tests.{path.parent.name}.{path.stem}")
                transports, covered = tuple(module.COVERED_TRANSPORTS), set(module.COVERED_RPCS)
            else:
                transports = tuple(t for t, rx in (("grpc", _GRPC), ("http", _HTTP)) if rx.search(text))
                covered = {r for r in rpcs if re.search(rf"[\"'.]{r}[\"'(]", text)}
            for r in covered & set(rpcs):
                for t in transports:
                    out[r][t].append(label)
    return every_modules, out


LIMITS = """\
## Limits

Like the Cloud Spanner emulator, this one is for developing and testing against the API's
contract, not for measuring the service. What differs:

**Never emulated**
- Real inference: the built-in models are deterministic stand-ins (`models.py`); stored models
  created with `PostModels` have no weights, and training, evaluation, exports and uploads
  produce no artefacts (export URLs are `emulator://` placeholders).
- Billing, usage limits, quotas and rate limits (except injected throttling faults).
- IAM beyond key checks: every configured key acts as a full personal access token of its user
  (`MyScopes` answers `All`); collaborators, organisations and key scopes are stored, never enforced.
- Compute orchestration: compute clusters, nodepools, deployments and runners are records;
  nothing is scheduled, runners get no work (`ProcessRunnerItems` answers empty pages) and
  metrics queries answer no data.
- Fetching URLs: inputs, data sources and uploads by URL are recorded, never downloaded.

**Simplified**
- Long-running work (bulk operations, inputs-add and extraction jobs, dataset versions, model
  versions (training), evaluations, app duplications, label orders, pipeline runs, model
  version and dataset version exports) is created in its first state and moves one state on
  each time a Get or List returns it, so a client polling until done finishes after two reads.
  Cancelling moves it to its cancelled state at once. Uploads (`PutUploadContentParts`) are
  `UPLOAD_DONE` once `content_length` bytes have arrived.
- Generic resources are all-or-nothing per request: one duplicate or missing id fails the whole
  batch and writes nothing (no `MIXED_STATUS` for them); per-item statuses exist where the
  special handlers give them (inputs, predictions, workflow results).
- Patch `action`s `merge`, `overwrite` and `remove` are accepted by every generic Patch RPC and
  applied field by field to the fields the patch sets (see `patching.patch_message`).
- Lists are newest first; text filters (`id`, `name`, `search`, `query`) are substring matches;
  other filter and sort fields of generic List requests are ignored.
- Searches are evaluated in memory over the stored inputs and annotations; saved searches are
  stored but `PostSearchesByID` and `Patch*Searches` do not re-run them.
- Log entries are kept per user and streamed in one message.

**Where errors may differ**
- Missing resources answer their family's `*_DOES_NOT_EXIST` code (`CONN_DOES_NOT_EXIST` where
  the family has none), duplicates `*_DUPLICATE` (else `DATABASE_DUPLICATE_KEY`), bad requests
  `*_INVALID_ARGUMENT` / `*_INVALID_REQUEST` (else `CONN_INVALID_REQUEST`); the service may pick
  another code of the same family, and its details texts differ.
- Validation covers path ids, parent existence and enum values; field-level rules the service
  applies (lengths, formats, allowed combinations) are mostly not checked.
"""


def render() -> str:
    rows = coverage.rpc_coverage()
    counts = coverage.counts(rows)
    every, tests = test_coverage([r.rpc for r in rows])
    total = len(rows)
    lines = [
        "# Emulator coverage",
        "",
        "Generated by `scripts/gen_emulator_coverage.py` from the emulator's code and the test files; "
        "do not edit by hand (`--check` in CI).",
        "",
        f"{total} RPCs: **{counts['stored']} stored state**, {counts['computed']} computed, {counts['streaming']} streaming; "
        "none answers `NOT_IMPLEMENTED`.",
        "",
        "- *stored*: the answer reads or writes the emulator's SQLite database;",
        "- *computed*: the request is validated and answered from the request and what the emulator knows;",
        "- *streaming*: served message by message (both transports).",
        "",
        "Every RPC is called by " + ", ".join(f"`{m}` ({' and '.join(t)})" for m, t in sorted(every.items()))
        + "; the test columns name the other tests that exercise it.",
        "",
        "| RPC | state | served by | what | gRPC tests | HTTP tests |",
        "|---|---|---|---|---|---|",
    ]

    def cell(files: list[str]) -> str:
        if not files:
            return "-"
        shown = ", ".join(f.split("/")[-1].removesuffix(".py") for f in files[:3])
        return shown + (f" +{len(files) - 3}" if len(files) > 3 else "")

    for r in sorted(rows, key=lambda r: r.rpc):
        t = tests[r.rpc]
        what = r.what.replace("|", "/")
        lines.append(f"| {r.rpc} | {r.state} | {r.served_by} | {what} | {cell(t['grpc'])} | {cell(t['http'])} |")
    untested = [r.rpc for r in rows if not tests[r.rpc]["grpc"] or not tests[r.rpc]["http"]]
    lines += ["", f"RPCs without a behaviour test on one of the transports: {len(untested)}"
              + (f" ({', '.join(untested)})" if untested else "") + ".", "", LIMITS]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if the committed file is not current")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUT.read_text() if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is not current: run python scripts/gen_emulator_coverage.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
