"""Generate C++, Java, Go and TypeScript code from ``protos/`` with local tools, and check that it compiles.

Nothing here needs the Buf Schema Registry or a remote plugin: each language uses a protoc and a
plugin that are on this machine (or, for TypeScript, npm packages installed into a cache).

    python scripts/gen_other_languages.py --list                  # which languages can run here, or why not
    python scripts/gen_other_languages.py --out gen               # generate every available language into gen/LANG
    python scripts/gen_other_languages.py --lang java --check     # generate into a temp dir and compile it
    python scripts/gen_other_languages.py --check --report r.json # all languages; results as JSON too

What each language uses:

  cpp   generator: a full protoc ($PROTOC, else ``protoc`` on PATH). grpcio-tools' bundled protoc
        only carries the Python generators, so it cannot write C++ or Java.
        service stubs: ``grpc_cpp_plugin`` ($GRPC_CPP_PLUGIN, else on PATH; Debian:
        protobuf-compiler-grpc). check: ``g++ -fsyntax-only`` of every ``.pb.cc`` and
        ``.grpc.pb.cc``, against protobuf C++ headers of the same release as that protoc and the
        gRPC C++ headers (Debian: protobuf-compiler, libprotobuf-dev, libgrpc++-dev).
  java  generator: the same full protoc. check: ``javac`` against a protobuf-java jar of the matching
        version (or a newer one of the same major), looked up in $PROTOBUF_JAVA_JAR, Debian's
        /usr/share/maven-repo (libprotobuf-java) and ~/.m2; failing those, ``mvn dependency:get`` is
        tried once. service stubs: ``protoc-gen-grpc-java`` ($GRPC_JAVA_PLUGIN, else
        ``grpc_java_plugin`` or ``protoc-gen-grpc-java`` on PATH; Debian:
        protobuf-compiler-grpc-java-plugin), compiled against the gRPC Java jars in $GRPC_JAVA_JARS
        or /usr/share/java (Debian: libgrpc-java, which brings guava and the annotation jars).
  go    generator: ``protoc-gen-go`` (and ``protoc-gen-go-grpc`` for the V2 service, when present) on
        PATH, driven by grpcio-tools' protoc; output laid out as the Go module
        github.com/clarifai-grpc-client/clarifai-grpc-client/gen/go (see the protos' go_package).
        check: ``go build`` in GOPATH mode against Go sources installed under $GO_SOURCES or
        /usr/share/gocode (Debian: golang-google-protobuf-dev, golang-google-grpc-dev,
        golang-google-genproto-dev), as the Go module proxy cannot be relied on.
  ts    generator: ts-proto (``protoc-gen-ts_proto``), driven by grpcio-tools' protoc; ts-proto and
        typescript are installed from npm, at the versions pinned below, into
        .cache/protos-toolchains/node (gitignored). check: ``tsc --noEmit`` in strict mode.

Every language also gets the V2 service's client and server stubs, and each check confirms
that the stubs hold one method per RPC of the service. Generated C++, Java and TypeScript include the googleapis files our protos import
(google/api/annotations.proto, google/api/http.proto); the protobuf runtimes ship the
well-known types. Exit status: 1 if a generation or a check failed (or, with --require, a
language was skipped), else 0.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protoc  # noqa: E402

from google.protobuf import descriptor_pb2  # noqa: E402

LANGS = ("cpp", "java", "go", "ts")
CACHE = protoc.ROOT / ".cache" / "protos-toolchains"
GO_MODULE = "github.com/clarifai-grpc-client/clarifai-grpc-client/gen/go"  # prefix of every go_package
GO_SOURCES = Path(os.environ.get("GO_SOURCES", "/usr/share/gocode"))
NPM_PACKAGES = {"ts-proto": "2.18.0", "typescript": "7.0.2", "rxjs": "7.8.2"}  # ts-proto types streams as rxjs Observables
# useExactTypes=false: ts-proto's default Exact<DeepPartial<T>> signatures make tsc instantiate
# tens of millions of types for 480 messages (over a minute, 4 GB); the plain DeepPartial<T> does not.
TS_PROTO_OPTIONS = "esModuleInterop=true,useExactTypes=false"
TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "target": "es2022",
        "module": "preserve",
        "moduleResolution": "bundler",
        "lib": ["es2022", "dom"],
        "types": [],
        "skipLibCheck": True,
    },
    "include": ["**/*.ts"],
    "exclude": ["node_modules"],
}
TIMEOUT = 600  # seconds, for any one external command


class Skip(Exception):
    """A tool this language needs is not on the machine; the message says which and how to get it."""


class Failed(Exception):
    """Generation or compilation failed; the message holds the tool's output."""


@dataclass
class Outcome:
    lang: str
    step: str  # "generate" or "check"
    status: str  # "ok", "failed" or "skipped"
    detail: str
    seconds: float


# --------------------------------------------------------------------------- tools and versions


def _run(argv: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a command; return its output; raise Failed with its output when it exits non-zero."""
    try:
        proc = subprocess.run(
            list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise Failed(f"timed out after {TIMEOUT} s: {' '.join(argv[:3])} ...") from e
    except OSError as e:
        raise Failed(f"could not run {argv[0]}: {e}") from e
    out = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        raise Failed(f"{Path(argv[0]).name} exited {proc.returncode}:\n{_tail(out)}")
    return out


def _tail(text: str, lines: int = 60) -> str:
    kept = text.splitlines()
    return "\n".join(kept if len(kept) <= lines else ["...", *kept[-lines:]])


def _parse_version(text: str) -> tuple[int, ...]:
    m = re.search(r"(\d+(?:\.\d+)+)", text)
    if not m:
        raise Failed(f"no version in {text!r}")
    return tuple(int(x) for x in m.group(1).split("."))


def release(version: tuple[int, ...]) -> tuple[int, int]:
    """protobuf's release number: libprotoc 3.21.12 -> (21, 12); libprotoc 29.3 -> (29, 3)."""
    if version[0] == 3 and len(version) >= 3:
        return (version[1], version[2])
    return (version[0], version[1] if len(version) > 1 else 0)


def java_version(rel: tuple[int, int]) -> tuple[int, int, int]:
    """protobuf-java's version for a release: (21, 12) -> 3.21.12; (29, 3) -> 4.29.3."""
    return (4 if rel[0] >= 26 else 3, rel[0], rel[1])


def _dotted(v: Sequence[int]) -> str:
    return ".".join(map(str, v))


def full_protoc() -> tuple[str, tuple[int, ...]]:
    """A protoc with the C++ and Java generators, and its version."""
    explicit = os.environ.get("PROTOC")
    if explicit and not (Path(explicit).is_file() and os.access(explicit, os.X_OK)):
        raise Skip(f"$PROTOC is {explicit!r}, which is not an executable file")
    found = explicit or shutil.which("protoc")
    if not found:
        raise Skip(
            "no full protoc ($PROTOC or protoc on PATH); grpcio-tools' protoc has only the Python "
            "generators (Debian: apt-get install protobuf-compiler)"
        )
    return found, _parse_version(_run([found, "--version"]))


def bundled_protoc() -> list[str]:
    """grpcio-tools' protoc, which runs any protoc-gen-* plugin."""
    return [sys.executable, "-m", "grpc_tools.protoc"]


def _which(name: str, hint: str) -> str:
    found = shutil.which(name)
    if not found:
        raise Skip(f"{name} not found on PATH ({hint})")
    return found


GRPC_PLUGINS = {
    "cpp": ("GRPC_CPP_PLUGIN", ("grpc_cpp_plugin",), "Debian: apt-get install protobuf-compiler-grpc"),
    "java": (
        "GRPC_JAVA_PLUGIN",
        ("grpc_java_plugin", "protoc-gen-grpc-java"),
        "Debian: apt-get install protobuf-compiler-grpc-java-plugin",
    ),
}


def grpc_plugin(lang: str) -> str:
    """The protoc plugin that writes ``lang``'s gRPC service stubs."""
    env, names, hint = GRPC_PLUGINS[lang]
    explicit = os.environ.get(env)
    if explicit:
        if not (Path(explicit).is_file() and os.access(explicit, os.X_OK)):
            raise Skip(f"${env} is {explicit!r}, which is not an executable file")
        return explicit
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise Skip(f"no gRPC {lang} plugin (${env}, or {' / '.join(names)} on PATH; {hint})")


def service_rpcs(protos: Path) -> list[str]:
    """The RPC names of the V2 service, from the compiled protos."""
    with tempfile.TemporaryDirectory() as tmp:
        fds_path = Path(tmp) / "fds.binpb"
        _bundled_generate(protos, [f"--descriptor_set_out={fds_path}"], ["clarifai/api/service.proto"])
        fds = descriptor_pb2.FileDescriptorSet.FromString(fds_path.read_bytes())
    return [m.name for f in fds.file for s in f.service for m in s.method]


def _require_stub_methods(stub: Path, pattern: str, rpcs: list[str]) -> None:
    """Fail unless the generated ``stub`` names every RPC (``pattern`` holds ``{}`` for the name)."""
    if not stub.is_file():
        raise Failed(f"no service stub {stub.name} was generated")
    text = stub.read_text()
    absent = [r for r in rpcs if pattern.format(r) not in text]
    if absent or not rpcs:
        raise Failed(f"{stub.name} lacks {len(absent)} of {len(rpcs)} RPCs: {', '.join(absent[:5])} ...")


def _inputs(protos: Path) -> tuple[list[str], list[str]]:
    """Our files, and the files outside google/protobuf that they import (the googleapis ones)."""
    ours = sorted(p.relative_to(protos).as_posix() for p in protos.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        fds_path = Path(tmp) / "fds.binpb"
        _bundled_generate(protos, [f"--descriptor_set_out={fds_path}", "--include_imports"], ours)
        fds = descriptor_pb2.FileDescriptorSet.FromString(fds_path.read_bytes())
    extra = sorted(f.name for f in fds.file if f.name not in ours and not f.name.startswith("google/protobuf/"))
    return ours, extra


def _googleapis() -> str:
    from google.api import annotations_pb2

    return str(Path(annotations_pb2.__file__).parent.parent.parent)


def _bundled_generate(protos: Path, args: list[str], files: list[str]) -> None:
    import grpc_tools  # type: ignore[import-untyped]

    includes = [str(protos), str(Path(grpc_tools.__file__).parent / "_proto"), _googleapis()]
    _run([*bundled_protoc(), *(f"-I{p}" for p in includes), *args, *files])


def _full_generate(exe: str, protos: Path, args: list[str], files: list[str]) -> None:
    # The full protoc finds its own well-known types (those its runtime was built from).
    _run([exe, f"-I{protos}", f"-I{_googleapis()}", *args, *files])


# --------------------------------------------------------------------------- generation


def generate(lang: str, protos: Path, out: Path) -> str:
    """Write ``lang``'s code for ``protos`` into ``out`` (emptied first); return a summary line."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    ours, extra = _inputs(protos)
    if lang in ("cpp", "java"):
        exe, version = full_protoc()
        plugin = grpc_plugin(lang)
        name = "grpc" if lang == "cpp" else "grpc-java"
        stubs = [f"--plugin=protoc-gen-{name}={plugin}", f"--{name}_out={out}"]
        _full_generate(exe, protos, [f"--{lang}_out={out}", *stubs], ours + extra)
        tool = f"protoc {_dotted(version)} and {Path(plugin).name}"
    elif lang == "go":
        go_plugin = _which("protoc-gen-go", "Debian: apt-get install protoc-gen-go")
        args = [f"--plugin=protoc-gen-go={go_plugin}", f"--go_out={out}", f"--go_opt=module={GO_MODULE}"]
        tool = f"protoc-gen-go ({_run([go_plugin, '--version'])})"
        go_grpc = shutil.which("protoc-gen-go-grpc")
        if go_grpc:
            args += [f"--plugin=protoc-gen-go-grpc={go_grpc}", f"--go-grpc_out={out}"]
            args += [f"--go-grpc_opt=module={GO_MODULE}"]
            tool += f" and protoc-gen-go-grpc ({_run([go_grpc, '--version'])})"
        _bundled_generate(protos, args, ours)
    elif lang == "ts":
        node_modules = ts_tools()
        plugin = node_modules / ".bin" / "protoc-gen-ts_proto"
        args = [f"--plugin=protoc-gen-ts_proto={plugin}", f"--ts_proto_out={out}", f"--ts_proto_opt={TS_PROTO_OPTIONS}"]
        _bundled_generate(protos, args, ours)  # ts-proto also writes the files they import
        tool = f"ts-proto {NPM_PACKAGES['ts-proto']}"
    else:
        raise ValueError(lang)
    count = sum(1 for p in out.rglob("*") if p.is_file())
    return f"{count} files with {tool}"


def ts_tools() -> Path:
    """node_modules holding ts-proto and typescript at the pinned versions; installs them if needed."""
    _which("node", "Node.js")
    npm = _which("npm", "Node.js' npm")
    home = CACHE / "node"
    node_modules = home / "node_modules"

    def installed() -> bool:
        for name, version in NPM_PACKAGES.items():
            manifest = node_modules / name / "package.json"
            if not manifest.is_file() or json.loads(manifest.read_text()).get("version") != version:
                return False
        return (node_modules / ".bin" / "protoc-gen-ts_proto").exists() and (node_modules / ".bin" / "tsc").exists()

    if installed():
        return node_modules
    home.mkdir(parents=True, exist_ok=True)
    manifest = {"private": True, "description": "scripts/gen_other_languages.py's tools", "dependencies": NPM_PACKAGES}
    (home / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    try:
        _run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=home)
    except Failed as e:
        raise Skip(f"npm could not install {', '.join(f'{k}@{v}' for k, v in NPM_PACKAGES.items())}: {e}") from e
    if not installed():
        raise Skip(f"npm install in {home} did not provide protoc-gen-ts_proto and tsc")
    return node_modules


# --------------------------------------------------------------------------- checks


def check(lang: str, out: Path, protos: Path = protoc.PROTOS) -> str:
    """Compile ``lang``'s generated code in ``out``; return a summary line; raise Skip or Failed."""
    with tempfile.TemporaryDirectory(prefix=f"check-{lang}-") as tmp:
        return CHECKS[lang](out, Path(tmp), service_rpcs(protos))


def _cpp_headers(protoc_exe: str) -> tuple[Path, int]:
    """The include dir with protobuf's C++ headers, and their PROTOBUF_VERSION (e.g. 3021012)."""
    explicit = os.environ.get("PROTOBUF_INCLUDE")
    dirs = [Path(explicit)] if explicit else []
    dirs += [Path(protoc_exe).resolve().parent.parent / "include", Path("/usr/include"), Path("/usr/local/include")]
    for d in dirs:
        port_def = d / "google" / "protobuf" / "port_def.inc"
        if port_def.is_file():
            m = re.search(r"#define PROTOBUF_VERSION (\d+)", port_def.read_text())
            if m:
                return d, int(m.group(1))
    raise Skip("no protobuf C++ headers (google/protobuf/port_def.inc) found (Debian: apt-get install libprotobuf-dev)")


def _grpcpp_include() -> list[str]:
    """Extra include dirs for the gRPC C++ headers (none when they are in the default /usr/include)."""
    explicit = os.environ.get("GRPCPP_INCLUDE")
    if explicit:
        return [explicit]
    for d in (Path("/usr/include"), Path("/usr/local/include")):
        if (d / "grpcpp" / "grpcpp.h").is_file():
            return [] if d == Path("/usr/include") else [str(d)]
    raise Skip("no gRPC C++ headers (grpcpp/grpcpp.h) found (Debian: apt-get install libgrpc++-dev)")


def check_cpp(out: Path, tmp: Path, rpcs: list[str]) -> str:
    cxx = os.environ.get("CXX") or _which("g++", "a C++ compiler")
    exe, version = full_protoc()
    include, header_version = _cpp_headers(exe)
    headers_release = ((header_version // 1000) % 1000, header_version % 1000)
    if headers_release != release(version):
        raise Skip(
            f"protobuf C++ headers in {include} are release {_dotted(headers_release)}, protoc is "
            f"{_dotted(version)}: the generated code only compiles against its own release"
        )
    flags = ["-std=c++17", f"-I{out}"] + ([] if include == Path("/usr/include") else [f"-I{include}"])
    flags += [f"-I{d}" for d in _grpcpp_include()]
    _require_stub_methods(out / "clarifai" / "api" / "service.grpc.pb.cc", '"/clarifai.api.V2/{}"', rpcs)
    units = sorted(out.rglob("*.pb.cc"))
    # Every unit includes the same protobuf headers; parsing them once (a precompiled header)
    # instead of per unit halves the time.
    generated = (line for p in out.rglob("*.pb.*") for line in p.read_text().splitlines())
    runtime = sorted({line for line in generated if line.startswith(("#include <google/protobuf/", "#include <grpcpp/"))})
    pch = tmp / "protobuf_runtime.h"
    pch.write_text("\n".join(runtime) + "\n")
    _run([cxx, *flags, "-x", "c++-header", str(pch), "-o", f"{pch}.gch"])

    def compile_unit(unit: Path) -> str | None:
        try:
            _run([cxx, *flags, "-include", str(pch), "-Winvalid-pch", "-fsyntax-only", str(unit)])
            return None
        except Failed as e:
            return f"{unit.relative_to(out)}: {e}"

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        errors = [e for e in pool.map(compile_unit, units) if e]
    if errors:
        raise Failed(f"{len(errors)} of {len(units)} units do not compile:\n" + "\n".join(errors[:3]))
    return (
        f"{Path(cxx).name} -fsyntax-only: {len(units)} units (the V2 stub with {len(rpcs)} RPCs among them) "
        f"against the gRPC C++ headers and the protobuf headers in {include} "
        f"(PROTOBUF_VERSION {header_version}, the release of protoc {_dotted(version)})"
    )


def _jar_candidates() -> list[tuple[tuple[int, ...], Path]]:
    found: list[tuple[tuple[int, ...], Path]] = []
    roots = [Path("/usr/share/maven-repo"), Path.home() / ".m2" / "repository"]
    for root in roots:
        folder = root / "com" / "google" / "protobuf" / "protobuf-java"
        for jar in folder.glob("*/protobuf-java-*.jar"):
            m = re.fullmatch(r"protobuf-java-(\d+\.\d+\.\d+)\.jar", jar.name)
            if m and jar.is_file():
                found.append((_parse_version(m.group(1)), jar))
    return found


def protobuf_java_jar(wanted: tuple[int, int, int]) -> Path:
    """A protobuf-java jar the code of ``wanted``'s protoc compiles against: that version, else the
    newest of the same major that is not older."""
    explicit = os.environ.get("PROTOBUF_JAVA_JAR")
    if explicit:
        return Path(explicit)

    def pick() -> Path | None:
        fits = [(v, j) for v, j in _jar_candidates() if v[0] == wanted[0] and v >= wanted]
        exact = [j for v, j in fits if v == wanted]
        return exact[0] if exact else (max(fits)[1] if fits else None)

    jar = pick()
    if jar is None and shutil.which("mvn"):
        artifact = f"com.google.protobuf:protobuf-java:{_dotted(wanted)}"
        try:
            _run(["mvn", "-q", "-B", "dependency:get", f"-Dartifact={artifact}", "-Dtransitive=false"])
        except Failed:
            pass  # offline, or no such version: reported below
        jar = pick()
    if jar is None:
        raise Skip(
            f"no protobuf-java {_dotted(wanted)} (or newer {wanted[0]}.x) jar: set $PROTOBUF_JAVA_JAR, "
            "or install it (Debian: apt-get install libprotobuf-java for Debian's protoc; "
            f"Maven: mvn dependency:get -Dartifact=com.google.protobuf:protobuf-java:{_dotted(wanted)})"
        )
    return jar


def check_java(out: Path, tmp: Path, rpcs: list[str]) -> str:
    javac = _which("javac", "a JDK")
    _, version = full_protoc()
    jar = protobuf_java_jar(java_version(release(version)))
    grpc_jars = grpc_java_jars()
    _require_stub_methods(out / "com" / "clarifai" / "grpc" / "api" / "V2Grpc.java", 'SERVICE_NAME, "{}")', rpcs)
    sources = sorted(str(p) for p in out.rglob("*.java"))
    (tmp / "sources.txt").write_text("\n".join(sources) + "\n")
    # should-stop.ifNoError=FLOW: full type checking, but no class files are written.
    classpath = os.pathsep.join(str(j) for j in [jar, *grpc_jars])
    args = ["-encoding", "UTF-8", "-nowarn", "-proc:none", "-XDshould-stop.ifNoError=FLOW", "-cp", classpath]
    _run([javac, *args, "-d", str(tmp / "classes"), f"@{tmp / 'sources.txt'}"])
    return f"javac: {len(sources)} sources (V2Grpc with {len(rpcs)} RPCs among them) against {jar} and {len(grpc_jars)} gRPC jars"


# The jars the generated Java stubs compile against: gRPC's API, stub and protobuf glue, and
# what their signatures mention (Guava's ListenableFuture, javax.annotation).
GRPC_JAVA_JARS = ("grpc-api", "grpc-stub", "grpc-protobuf", "grpc-protobuf-lite", "guava", "jsr305", "geronimo-annotation-1.3-spec")


def grpc_java_jars() -> list[Path]:
    """The jars of GRPC_JAVA_JARS, from $GRPC_JAVA_JARS (a folder) or /usr/share/java."""
    folder = Path(os.environ.get("GRPC_JAVA_JARS", "/usr/share/java"))
    found = [folder / f"{name}.jar" for name in GRPC_JAVA_JARS]
    missing = [p.name for p in found if not p.is_file()]
    if missing:
        raise Skip(f"gRPC Java jars {', '.join(missing)} not in {folder} (Debian: apt-get install libgrpc-java)")
    return found


def check_go(out: Path, tmp: Path, rpcs: list[str]) -> str:
    go = _which("go", "the Go toolchain (Debian: apt-get install golang-go)")
    sources = GO_SOURCES / "src"
    needed = ["google.golang.org/protobuf", "google.golang.org/genproto/googleapis/api/annotations"]
    if any(p.name.endswith("_grpc.pb.go") for p in out.rglob("*.go")):
        needed.append("google.golang.org/grpc")
    missing = [n for n in needed if not (sources / n).is_dir()]
    if missing:
        raise Skip(
            f"Go sources of {', '.join(missing)} not under {sources} (the Go module proxy is not "
            "reachable offline; Debian: apt-get install golang-google-protobuf-dev golang-google-grpc-dev "
            "golang-google-genproto-dev, or set $GO_SOURCES to a GOPATH holding them)"
        )
    gopath = tmp / "gopath"
    shutil.copytree(out, gopath / "src" / GO_MODULE)
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": f"{gopath}{os.pathsep}{GO_SOURCES}", "GOFLAGS": ""}
    _run([go, "build", f"{GO_MODULE}/..."], cwd=gopath, env=env)
    packages = sorted({p.parent.relative_to(out).as_posix() for p in out.rglob("*.go")})
    return f"go build (GOPATH mode, {_run([go, 'version'])}): packages {', '.join(packages)}"


def check_ts(out: Path, tmp: Path, rpcs: list[str]) -> str:
    node_modules = ts_tools()
    work = tmp / "ts"
    shutil.copytree(out, work)
    (work / "node_modules").symlink_to(node_modules, target_is_directory=True)
    (work / "tsconfig.json").write_text(json.dumps(TSCONFIG, indent=2) + "\n")
    _run([str(node_modules / ".bin" / "tsc"), "-p", str(work / "tsconfig.json")], cwd=work)
    count = sum(1 for _ in out.rglob("*.ts"))
    return f"tsc {NPM_PACKAGES['typescript']} --noEmit (strict): {count} files"


CHECKS: dict[str, Callable[[Path, Path, list[str]], str]] = {"cpp": check_cpp, "java": check_java, "go": check_go, "ts": check_ts}


def unavailable(lang: str, check_too: bool = True) -> str | None:
    """Why ``lang`` cannot be generated (or checked) on this machine, or None. Installs nothing."""
    try:
        if lang in ("cpp", "java"):
            exe, version = full_protoc()
            grpc_plugin(lang)
            if check_too and lang == "cpp":
                _grpcpp_include()
                _which(os.environ.get("CXX") or "g++", "a C++ compiler")
                include, v = _cpp_headers(exe)
                if ((v // 1000) % 1000, v % 1000) != release(version):
                    return f"protobuf C++ headers in {include} ({v}) do not match protoc {_dotted(version)}"
            if check_too and lang == "java":
                _which("javac", "a JDK")
                grpc_java_jars()
                wanted = java_version(release(version))
                if not os.environ.get("PROTOBUF_JAVA_JAR") and not any(
                    v[0] == wanted[0] and v >= wanted for v, _ in _jar_candidates()
                ):
                    return f"no protobuf-java {_dotted(wanted)} jar on this machine (mvn may still fetch it)"
        elif lang == "go":
            _which("protoc-gen-go", "Debian: apt-get install protoc-gen-go")
            if check_too:
                _which("go", "the Go toolchain")
                if not (GO_SOURCES / "src" / "google.golang.org" / "protobuf").is_dir():
                    return f"no Go sources of google.golang.org/protobuf under {GO_SOURCES}/src"
        elif lang == "ts":
            _which("node", "Node.js")
            _which("npm", "Node.js' npm")
        else:
            return f"unknown language {lang!r}"
    except Skip as e:
        return str(e)
    return None


# --------------------------------------------------------------------------- command line


def _step(lang: str, step: str, action: Callable[[], str]) -> Outcome:
    start = time.monotonic()
    try:
        status, detail = "ok", action()
    except Skip as e:
        status, detail = "skipped", str(e)
    except Failed as e:
        status, detail = "failed", str(e)
    outcome = Outcome(lang, step, status, detail, round(time.monotonic() - start, 1))
    print(f"{lang} {step}: {status.upper()} ({outcome.seconds} s): {detail}", flush=True)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", action="append", choices=LANGS, help="a language (repeatable; default: all)")
    parser.add_argument("--out", type=Path, help="output root, one folder per language (default: a new temp dir)")
    parser.add_argument("--protos", type=Path, default=protoc.PROTOS, help="import root (default: protos/)")
    parser.add_argument("--check", action="store_true", help="compile the generated code too")
    parser.add_argument("--require", action="store_true", help="exit 1 if a language is skipped")
    parser.add_argument("--report", type=Path, help="also write the outcomes as JSON to this file")
    parser.add_argument("--list", action="store_true", help="tell which languages can be generated and checked here")
    args = parser.parse_args(argv)
    langs: list[str] = args.lang or list(LANGS)

    if args.list:
        for lang in langs:
            no_gen, no_check = unavailable(lang, check_too=False), unavailable(lang)
            gen_text = f"no: {no_gen}" if no_gen else "yes"
            print(f"{lang}: generate {gen_text}; check {f'no: {no_check}' if no_check else 'yes'}")
        return 0

    protos = args.protos.resolve()
    temp = args.out is None and args.check
    root = Path(tempfile.mkdtemp(prefix="clarifai-gen-")) if args.out is None else args.out.resolve()
    outcomes: list[Outcome] = []
    try:
        for lang in langs:
            out = root / lang
            gen = _step(lang, "generate", lambda: generate(lang, protos, out) + f" into {out}")
            outcomes.append(gen)
            if args.check and gen.status == "ok":
                outcomes.append(_step(lang, "check", lambda: check(lang, out, protos)))
    finally:
        if temp:
            shutil.rmtree(root, ignore_errors=True)
    if args.report:
        args.report.write_text(json.dumps([asdict(o) for o in outcomes], indent=2) + "\n")
    bad = {"failed", "skipped"} if args.require else {"failed"}
    worst = {o.lang: o.status for o in outcomes if o.status != "ok"}
    print("summary: " + ", ".join(f"{lang} {worst.get(lang, 'ok')}" for lang in langs))
    return 1 if any(o.status in bad for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
