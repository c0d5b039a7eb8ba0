"""Lint ``protos/`` with buf and refuse changes that break the committed baseline.

Works offline: the protos are compiled with grpcio-tools into a descriptor image (imports
included, so ``google/api/*`` resolves without the Buf Schema Registry), and buf only reads that
image. Three checks, each limited to our own files (``clarifai/**``):

1. ``buf lint`` with ``protos/buf.yaml`` (STANDARD, less the rules the published API's names
   cannot satisfy; each exception has its reason there).
2. ``buf breaking`` against ``protos/baseline/clarifai_v2.binpb`` (WIRE_JSON, plus no deletion of
   RPCs, services, messages, enums or extensions).
3. The REST routes: every ``google.api.http`` binding of the baseline must still exist, unchanged.
   buf has no breaking rule for options, so this one is done here.

    python scripts/buf_check.py                    # all three; exit 1 on any finding
    python scripts/buf_check.py --update-baseline  # at a release: lint, then rewrite the baseline
    python scripts/buf_check.py --protos DIR       # check another copy of the tree (tests)

Exit status: 0 clean, 1 a lint, breaking or binding finding, 2 a setup error (no buf, no
baseline, protos that do not compile).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protoc  # noqa: E402

from google.protobuf import descriptor_pb2  # noqa: E402

BASELINE = Path("baseline") / "clarifai_v2.binpb"  # relative to the protos directory
CONFIG = "buf.yaml"  # relative to the protos directory
OUR_FILES = "clarifai"  # the prefix of our own files inside an image

Binding = tuple[str, str, str, str]  # (verb, path template, body, response_body)


class SetupError(Exception):
    """The check could not run at all (as opposed to finding a problem)."""


def find_buf(explicit: str | None = None) -> str:
    """The buf executable: ``explicit``, $BUF, the venv's scripts dir (buf-bin), then PATH."""
    chosen = explicit or os.environ.get("BUF")
    if chosen:
        if not (Path(chosen).is_file() and os.access(chosen, os.X_OK)):
            raise SetupError(f"buf not found at {chosen}")
        return chosen
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        candidate = folder / "buf"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("buf")
    if not found:
        raise SetupError("buf not found: install the 'dev' extra (buf-bin), or pass --buf / set $BUF")
    return found


def proto_files(root: Path) -> list[str]:
    """Every ``.proto`` below ``root``, relative to it, in a stable order."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.proto"))


def include_paths(root: Path) -> list[str]:
    """``root`` in place of ``protos/``, then the well-known types and googleapis."""
    others = [p for p in protoc.include_paths() if Path(p).resolve() != protoc.PROTOS.resolve()]
    return [str(root), *others]


def build_image(root: Path, out: Path, source_info: bool) -> None:
    """Compile every proto of ``root`` into one FileDescriptorSet (a buf image) with imports."""
    from grpc_tools import protoc as grpc_protoc  # type: ignore[import-untyped]

    files = proto_files(root)
    if not files:
        raise SetupError(f"no .proto files below {root}")
    argv = ["protoc", *(f"-I{p}" for p in include_paths(root)), "--include_imports", f"--descriptor_set_out={out}"]
    if source_info:
        argv.append("--include_source_info")
    if grpc_protoc.main([*argv, *files]) != 0:
        raise SetupError(f"protoc could not compile {root} (its message is above)")


def run_buf(buf: str, args: list[str]) -> tuple[int, str]:
    """Run buf, return its exit code and its combined output (stdout, then stderr)."""
    with tempfile.TemporaryDirectory() as cwd:  # so that no stray buf.yaml/buf.work.yaml is found
        proc = subprocess.run([buf, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def http_bindings(image: Path) -> dict[str, tuple[str, set[Binding]]]:
    """``{"clarifai.api.V2.Method": (file, bindings)}`` for every RPC of our files in ``image``."""
    from google.api import annotations_pb2, http_pb2

    def one(rule: http_pb2.HttpRule) -> Binding:
        verb = rule.WhichOneof("pattern")
        if verb is None:
            return ("", "", rule.body, rule.response_body)
        if verb == "custom":
            return (f"CUSTOM:{rule.custom.kind}", rule.custom.path, rule.body, rule.response_body)
        return (verb.upper(), str(getattr(rule, verb)), rule.body, rule.response_body)

    fds = descriptor_pb2.FileDescriptorSet.FromString(image.read_bytes())
    result: dict[str, tuple[str, set[Binding]]] = {}
    for f in fds.file:
        if not f.name.startswith(OUR_FILES + "/"):
            continue
        for service in f.service:
            for method in service.method:
                name = ".".join(x for x in (f.package, service.name, method.name) if x)
                bindings: set[Binding] = set()
                if method.options.HasExtension(annotations_pb2.http):
                    rule = method.options.Extensions[annotations_pb2.http]
                    bindings.add(one(rule))
                    bindings.update(one(extra) for extra in rule.additional_bindings)
                result[name] = (f.name, bindings)
    return result


def binding_breaks(current: Path, baseline: Path) -> list[str]:
    """One line per baseline HTTP binding that the current image no longer has.

    Added bindings are fine. An RPC missing altogether is left to buf (RPC_NO_DELETE).
    """
    now, before = http_bindings(current), http_bindings(baseline)
    lines: list[str] = []
    for name in sorted(before):
        if name not in now:
            continue
        file, bindings = now[name]
        for verb, path, body, response_body in sorted(before[name][1] - bindings):
            extra = "".join(
                f" {k}={v!r}" for k, v in (("body", body), ("response_body", response_body)) if v
            )
            lines.append(f"{file}: {name}: HTTP binding {verb} {path}{extra} was removed or changed.")
    return lines


def _section(title: str, ok: bool, output: str, seconds: float) -> None:
    print(f"== {title}: {'PASS' if ok else 'FAIL'} ({seconds:.1f} s)")
    if output:
        print(output)


def check(protos: Path, baseline: Path, config: Path, buf: str, update_baseline: bool = False) -> int:
    """Run the checks on ``protos``; print each one's result; return the exit status."""
    if not config.is_file():
        raise SetupError(f"no buf config at {config}")
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "image.binpb"
        start = time.monotonic()
        build_image(protos, image, source_info=True)  # source info: findings name file:line:col
        print(f"built image of {len(proto_files(protos))} files from {protos} ({time.monotonic() - start:.1f} s)")

        start = time.monotonic()
        code, out = run_buf(buf, ["lint", str(image), "--config", str(config), "--path", OUR_FILES])
        if code not in (0, 100):  # 100: findings; anything else: buf itself failed
            raise SetupError(f"buf lint failed to run (exit {code}):\n{out}")
        lint_ok = code == 0
        _section("buf lint", lint_ok, out, time.monotonic() - start)

        if update_baseline:
            if not lint_ok:
                print("baseline NOT updated: fix the lint findings first")
                return 1
            if baseline.is_file():
                code, out = run_buf(buf, _breaking_args(image, baseline, config))
                accepted = [out] if out else []
                accepted += binding_breaks(image, baseline)
                if accepted:
                    print("changes accepted into the new baseline:\n" + "\n".join(accepted))
            baseline.parent.mkdir(parents=True, exist_ok=True)
            build_image(protos, baseline, source_info=False)
            print(f"baseline written: {baseline} ({baseline.stat().st_size} bytes)")
            return 0

        if not baseline.is_file():
            raise SetupError(f"no baseline at {baseline}: run with --update-baseline once to create it")
        start = time.monotonic()
        code, out = run_buf(buf, _breaking_args(image, baseline, config))
        if code not in (0, 100):
            raise SetupError(f"buf breaking failed to run (exit {code}):\n{out}")
        breaking_ok = code == 0
        _section(f"buf breaking against {baseline.name}", breaking_ok, out, time.monotonic() - start)

        start = time.monotonic()
        lost = binding_breaks(image, baseline)
        _section("HTTP bindings against the baseline", not lost, "\n".join(lost), time.monotonic() - start)

    ok = lint_ok and breaking_ok and not lost
    print("protos: " + ("OK" if ok else "REFUSED (see the findings above)"))
    return 0 if ok else 1


def _breaking_args(image: Path, baseline: Path, config: Path) -> list[str]:
    return [
        "breaking", str(image), "--against", str(baseline), "--config", str(config),
        "--path", OUR_FILES, "--exclude-imports",
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protos", type=Path, default=protoc.PROTOS, help="import root to check (default: protos/)")
    parser.add_argument("--baseline", type=Path, help=f"baseline image (default: PROTOS/{BASELINE.as_posix()})")
    parser.add_argument("--config", type=Path, help=f"buf config (default: PROTOS/{CONFIG})")
    parser.add_argument("--buf", help="buf executable (default: the venv's, from buf-bin)")
    parser.add_argument(
        "--update-baseline", action="store_true", help="lint, then rewrite the baseline from the tree (releases only)"
    )
    args = parser.parse_args(argv)
    protos = args.protos.resolve()
    try:
        return check(
            protos,
            baseline=(args.baseline or protos / BASELINE).resolve(),
            config=(args.config or protos / CONFIG).resolve(),
            buf=find_buf(args.buf),
            update_baseline=args.update_baseline,
        )
    except SetupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
