"""The ``clarifai-grpc`` command line: daily jobs against the V2 API (or the local emulator).

    clarifai-grpc demo                              # a tour against an in-process emulator
    clarifai-grpc serve [--db PATH] ...             # run the emulator
    clarifai-grpc predict --model ID IMAGE|URL|--text TEXT [--json]
    clarifai-grpc inputs list|stream|upload|delete ...
    clarifai-grpc call RPC --json BODY

Settings come from the flags, then the ``CLARIFAI_*`` environment (as for ``Client``). The key
comes from ``$CLARIFAI_PAT`` or ``--pat-file FILE``; ``--pat KEY`` works too, but shows the key
to anyone who can list processes. Exit codes: 0 success, 1 an API or transport error, 2 bad
usage or settings, 3 partial failure (some uploads failed or are unconfirmed), 130 interrupted.
Errors print one line, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from google.protobuf import json_format, message_factory

from . import _cli_settings, _json_format
from ._cli_progress import Progress
from ._client import Client
from ._errors import ApiError, ClarifaiError, ConfigurationError, TranscodingError
from ._upload import InputLimitError, Item, UploadReport, names_a_file
from .proto import (
    Data,
    DeleteInputsRequest,
    Image,
    Input,
    ListInputsRequest,
    OutputConfig,
    PostModelOutputsRequest,
    PostWorkflowResultsRequest,
    Text,
)
from ._version import __version__
from .proto.clarifai.api import service_pb2

EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _read_pat_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise ConfigurationError(f"cannot read --pat-file {path}: {reason}") from None


def _client(args: argparse.Namespace) -> Client:
    _cli_settings.check_settings(args.transport, args.base, pat=args.pat, insecure=args.insecure,
                                 allow_plaintext_credentials=args.allow_plaintext_credentials, environ=os.environ)
    return Client(
        args.transport,
        args.base,
        pat=args.pat,
        user_id=args.user_id,
        app_id=args.app_id,
        insecure=args.insecure,
        timeout=args.timeout,
        allow_plaintext_credentials=args.allow_plaintext_credentials,
    )


def _print_json(obj: Any, out: TextIO) -> None:
    out.write(json.dumps(obj, separators=(",", ":")) + "\n")


def _content(args: argparse.Namespace) -> Data:
    if args.text is not None:
        return Data(text=Text(raw=args.text))
    if args.source is None:
        raise ConfigurationError("give an image path or URL, or --text TEXT")
    if args.source.startswith(("http://", "https://")):
        return Data(image=Image(url=args.source))
    path = Path(args.source)
    try:
        return Data(image=Image(base64=path.read_bytes()))
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None


def cmd_predict(args: argparse.Namespace, out: TextIO) -> int:
    cfg = OutputConfig(max_concepts=args.max_concepts, min_value=args.min_value)
    with _client(args) as client:
        data = _content(args)
        if args.workflow:
            wf = client.PostWorkflowResults(
                PostWorkflowResultsRequest(workflow_id=args.workflow, inputs=[Input(data=data)])
            )
            outputs = [o for r in wf.results for o in r.outputs]
        else:
            request = PostModelOutputsRequest(model_id=args.model, version_id=args.version or "", inputs=[Input(data=data)])
            if args.max_concepts or args.min_value:
                request.model.output_info.output_config.CopyFrom(cfg)
            outputs = list(client.PostModelOutputs(request).outputs)
    if args.json:
        _print_json([_json_format.to_dict(o) for o in outputs], out)
        return EXIT_OK
    for output in outputs:
        name = output.model.id or args.model or args.workflow
        out.write(f"{name}\n")
        for c in output.data.concepts:
            out.write(f"  {c.name or c.id:<30} {c.value:8.4f}\n")
        if output.data.embeddings:
            out.write(f"  embedding: {len(output.data.embeddings[0].vector)} dimensions\n")
        for col in output.data.colors:
            out.write(f"  {col.w3c.name:<30} {col.value:8.4f}  {col.raw_hex}\n")
    return EXIT_OK


def cmd_inputs_list(args: argparse.Namespace, out: TextIO) -> int:
    with _client(args) as client:
        for inp in client.iter_items("ListInputs", ListInputsRequest(), per_page=args.per_page, limit=args.limit):
            _print_json(_json_format.to_dict(inp), out)
    return EXIT_OK


def _progress(args: argparse.Namespace, what: str, total: int | None) -> Progress:
    return Progress(what, "inputs", total, sys.stderr, interval=args.progress_interval, enabled=not args.quiet)


def _summary(progress: Progress) -> None:
    if progress.enabled:
        sys.stderr.write(f"{progress.summary()}\n")


def cmd_inputs_stream(args: argparse.Namespace, out: TextIO) -> int:
    progress = _progress(args, "streamed", None)
    with _client(args) as client:
        stream = client.stream_inputs(per_page=args.per_page, cursor=args.cursor or "", order_by_id=args.order_by_id,
                                      descending=args.descending)
        try:
            with progress:
                for count, inp in enumerate(stream, 1):
                    _print_json(_json_format.to_dict(inp), out)
                    progress.update(count)
        except (ApiError, KeyboardInterrupt):
            _summary(progress)
            sys.stderr.write(f"stopped; resume with --cursor {stream.cursor}\n")
            raise
    _summary(progress)
    return EXIT_OK


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """The numbered non-blank lines of a UTF-8 file; unreadable or not UTF-8: a ConfigurationError."""
    try:
        with path.open("rb") as fh:
            for n, raw in enumerate(fh, 1):
                try:
                    line = raw.decode("utf-8").strip()
                except UnicodeDecodeError as exc:
                    raise ConfigurationError(
                        f"{path}:{n}: not UTF-8 (byte 0x{raw[exc.start]:02x}); convert the file to UTF-8"
                    ) from None
                if line:
                    yield n, line
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror or exc}") from None


def _file_items(path: Path) -> Iterator[Item]:
    """The inputs of a ``.jsonl`` file (one JSON Input a line) or a ``.txt`` file (a URL or text a line)."""
    for n, line in _lines(path):
        if path.suffix != ".jsonl":
            if names_a_file(line):  # the library refuses it too: a name is not the file's content
                raise ConfigurationError(
                    f"{path}:{n}: {line!r} names a file; a {path.suffix} list holds URLs or texts, "
                    "so pass the file (or its folder) itself to upload it"
                )
            yield line
            continue
        try:
            yield _json_format.parse_json(line, Input())
        except (ValueError, json_format.ParseError) as exc:
            raise ConfigurationError(f"{path}:{n}: not a JSON Input: {exc}") from None


def _upload_items(paths: Sequence[str]) -> Iterator[Item]:
    """Every item named by ``paths``. Lists and JSON lines are read through once before anything is
    yielded, so a missing, unreadable or malformed one stops the upload before any request."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            continue
        if path.suffix in (".jsonl", ".txt", ".urls"):
            for _ in _file_items(path):
                pass
        elif not path.is_file():
            raise ConfigurationError(f"{path}: no such file or folder")
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        elif path.suffix in (".jsonl", ".txt", ".urls"):
            yield from _file_items(path)
        else:
            yield path


def _count_items(paths: Sequence[str]) -> int | None:
    """How many items ``paths`` name (lines of lists, files of folders), without parsing; None if unknown."""
    total = 0
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                total += sum(1 for p in path.rglob("*") if p.is_file())
            elif path.suffix in (".jsonl", ".txt", ".urls"):
                with path.open("rb") as fh:
                    total += sum(1 for line in fh if line.strip())
            else:
                total += 1
        except OSError:
            return None
    return total


def cmd_inputs_upload(args: argparse.Namespace, out: TextIO) -> int:
    with _client(args) as client, _progress(args, "uploaded", _count_items(args.paths)) as progress:
        def on_progress(report: UploadReport) -> None:
            progress.update(report.handled, len(report.failed))

        report = client.upload_inputs(_upload_items(args.paths), concurrency=args.concurrency, progress=on_progress,
                                      ids="random" if args.random_ids else "derived")
    _summary(progress)
    out.write(f"{report}\n")
    for failure in report.failed.values():
        out.write(f"failed {failure.input_id}: {failure.code_name}: {failure.description}\n")
    for failure in report.unconfirmed.values():
        out.write(f"unconfirmed {failure.input_id}: {failure.code_name}: {failure.description}\n")
    return EXIT_OK if report.ok else EXIT_PARTIAL


def _confirmed(question: str) -> bool:
    """Ask on the terminal; only "y" or "yes" is a yes."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_inputs_delete(args: argparse.Namespace, out: TextIO) -> int:
    if not args.ids and not args.all:
        raise ConfigurationError("give input ids to delete, or --all")
    if args.ids and args.all:
        raise ConfigurationError("give input ids to delete or --all, not both")
    if args.all and not args.yes and not sys.stdin.isatty():
        raise ConfigurationError("--all deletes every input of the app: add --yes to confirm")
    with _client(args) as client:
        ids = [inp.id for inp in client.stream_inputs(order_by_id=True)] if args.all else list(args.ids)
        if args.all and not args.yes and not _confirmed(f"delete all {len(ids)} inputs of {_app_name(client)}?"):
            out.write("nothing deleted\n")
            return EXIT_OK
        for start in range(0, len(ids), 128):  # the API's batch limit
            client.DeleteInputs(DeleteInputsRequest(ids=ids[start : start + 128]))
    out.write(f"deleted {len(ids)} inputs\n")
    return EXIT_OK


def _app_name(client: Client) -> str:
    return f"app {client.app_id!r}" if client.app_id else "the default app"


def cmd_call(args: argparse.Namespace, out: TextIO) -> int:
    method = service_pb2.DESCRIPTOR.services_by_name["V2"].methods_by_name.get(args.rpc)
    if method is None:
        raise ConfigurationError(f"{args.rpc!r} is not a V2 RPC")
    text = args.json
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise ConfigurationError(f"cannot read {text[1:]}: {exc.strerror}") from None
    request = message_factory.GetMessageClass(method.input_type)()
    try:
        unknown = _cli_settings.unknown_fields(json.loads(text or "{}"), method.input_type)
    except ValueError as exc:
        raise ConfigurationError(f"--json is not a valid {method.input_type.name}: not JSON: {exc}") from None
    if unknown:
        known = ", ".join(f.name for f in method.input_type.fields)
        raise ConfigurationError(f"--json: {method.input_type.name} has no field {', '.join(map(repr, unknown))} "
                                 f"(its fields: {known})")
    try:
        _json_format.parse_json(text or "{}", request)
    except (ValueError, json_format.ParseError) as exc:
        raise ConfigurationError(f"--json is not a valid {method.input_type.name}: {exc}") from None
    with _client(args) as client:
        response = client.call(args.rpc, request)
    _print_json(_json_format.to_dict(response), out)
    return EXIT_OK


def _require_emulator(command: str) -> None:
    """Import the emulator, or explain in one line which extra it needs (a ConfigurationError)."""
    try:
        import clarifai_grpc_client.emulator  # noqa: F401
    except ImportError as exc:
        missing = getattr(exc, "name", None) or "a module"
        raise ConfigurationError(f"'clarifai-grpc {command}' needs the emulator extra ({missing} is missing): "
                                 "pip install 'clarifai-grpc-client[emulator]'") from None


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from .demo import run_demo

    if not args.base:
        _require_emulator("demo")

    return run_demo(args, out)


def _progress_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress or summary on stderr")
    parser.add_argument("--progress-interval", type=_cli_settings.positive_seconds, default=10.0, metavar="SECONDS",
                        help="seconds between progress lines when stderr is not a terminal (default 10)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clarifai-grpc", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"clarifai-grpc {__version__}",
                        help="print the version and exit")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--transport", choices=("grpc", "json"), default="grpc",
                        help="gRPC (default) or HTTPS+JSON")
    common.add_argument("--base", help="gRPC host[:port] / grpc://host:port, or the JSON base URL (default: from the environment)")
    key = common.add_mutually_exclusive_group()
    key.add_argument("--pat-file", metavar="FILE", help="read the personal access token from FILE (default: $CLARIFAI_PAT)")
    key.add_argument("--pat", help="the personal access token itself (shown to anyone who can list processes: "
                     "prefer $CLARIFAI_PAT or --pat-file)")
    common.add_argument("--user-id", help="the app's owner (default: $CLARIFAI_USER_ID, else the key's user)")
    common.add_argument("--app-id", help="the app to work in (default: $CLARIFAI_APP_ID)")
    common.add_argument("--insecure", action="store_true", help="plaintext gRPC to a bare host:port (like grpc://host:port)")
    common.add_argument("--allow-plaintext-credentials", action="store_true",
                        help="send the key without TLS to a host that is not this machine (only on a trusted network)")
    common.add_argument("--timeout", type=_cli_settings.positive_seconds, default=60.0, metavar="SECONDS",
                        help="seconds per call, retries included (default 60)")
    common.add_argument("--verbose", action="store_true",
                        help="log each call attempt and gRPC core's own messages on stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="run the local V2 emulator (see 'serve --help')", add_help=False)

    demo = sub.add_parser("demo", parents=[common], help="a short tour against an in-process emulator (or --base)")
    demo.set_defaults(func=cmd_demo)

    predict = sub.add_parser("predict", parents=[common], help="predict with a model or a workflow")
    which = predict.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", metavar="MODEL_ID", help="the model to predict with")
    which.add_argument("--workflow", metavar="WORKFLOW_ID", help="the workflow to run instead of a model")
    predict.add_argument("--version", metavar="VERSION_ID", help="the model version (default: the model's latest)")
    predict.add_argument("source", nargs="?", help="image path or URL")
    predict.add_argument("--text", help="predict on this text instead of an image")
    predict.add_argument("--max-concepts", type=int, default=0, metavar="N", help="at most N concepts per output")
    predict.add_argument("--min-value", type=float, default=0.0, metavar="V", help="only concepts scoring at least V")
    predict.add_argument("--json", action="store_true", help="print the outputs as JSON")
    predict.set_defaults(func=cmd_predict)

    inputs = sub.add_parser("inputs", help="list, stream, upload or delete inputs").add_subparsers(dest="action", required=True)
    ls = inputs.add_parser("list", parents=[common], help="inputs page by page, as JSON lines")
    ls.add_argument("--per-page", type=int, default=128, metavar="N", help="inputs per request (default 128)")
    ls.add_argument("--limit", type=int, metavar="N", help="stop after N inputs")
    ls.set_defaults(func=cmd_inputs_list)
    stream = inputs.add_parser("stream", parents=[common], help="every input exactly once, as JSON lines")
    stream.add_argument("--per-page", type=int, default=1000, metavar="N", help="inputs per request (default 1000)")
    stream.add_argument("--cursor", help="resume after this input id")
    stream.add_argument("--order-by-id", action="store_true", help="in input id order (default: creation order)")
    stream.add_argument("--descending", action="store_true", help="newest (or highest id) first")
    _progress_flags(stream)
    stream.set_defaults(func=cmd_inputs_stream)
    up = inputs.add_parser("upload", parents=[common], help="upload files, a folder, a file of URLs (.txt) or JSON lines (.jsonl)")
    up.add_argument("paths", nargs="+", help="files, folders (every file below), .txt lists of URLs or texts, .jsonl Inputs")
    up.add_argument("--concurrency", type=int, default=4, metavar="N", help="requests in flight at once (default 4)")
    _progress_flags(up)
    up.add_argument("--random-ids", action="store_true",
                    help="a new id for every item, so a rerun stores everything again (default: ids derived "
                         "from each item's content and path, so a rerun stores nothing twice)")
    up.set_defaults(func=cmd_inputs_upload)
    rm = inputs.add_parser("delete", parents=[common], help="delete inputs by id, or all of them")
    rm.add_argument("ids", nargs="*", help="the ids of the inputs to delete")
    rm.add_argument("--all", action="store_true", help="every input of the app (asks first; --yes when not on a terminal)")
    rm.add_argument("--yes", action="store_true", help="do not ask before deleting with --all")
    rm.set_defaults(func=cmd_inputs_delete)

    call = sub.add_parser("call", parents=[common], help="call any V2 RPC with a JSON request")
    call.add_argument("rpc", help="the V2 RPC's name, e.g. GetInput")
    call.add_argument("--json", default="{}", help="request as JSON, @FILE, or - for stdin")
    call.set_defaults(func=cmd_call)
    return parser


def _hint(args: argparse.Namespace, err: Exception) -> None:
    """Say what to try when the error has a likely cause on this side (TLS aimed at a plaintext server)."""
    try:
        target = _cli_settings.target_of(args.transport, args.base, args.insecure, os.environ)
    except (AttributeError, ClarifaiError):
        return
    causes: list[str] = []
    cause: BaseException | None = err
    while cause is not None and len(causes) < 8:  # the transport's own error is kept as the cause
        causes.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    hint = _cli_settings.tls_hint(target, " ".join(causes))
    if hint:
        sys.stderr.write(hint + "\n")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:  # the emulator parses its own flags (and --help)
        try:
            _require_emulator("serve")
        except ConfigurationError as err:
            sys.stderr.write(f"error: {err}\n")
            return EXIT_USAGE
        from .emulator.cli import serve_main

        return int(serve_main(argv[1:]) or 0)
    args = build_parser().parse_args(argv)
    if getattr(args, "verbose", False):
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("clarifai_grpc_client").setLevel(logging.DEBUG)
    try:
        if getattr(args, "pat_file", None):
            args.pat = _read_pat_file(args.pat_file)
        return int(args.func(args, out))
    except ApiError as err:
        sys.stderr.write(f"error: {err}\n")
        _hint(args, err)
        return EXIT_API
    except (ConfigurationError, TranscodingError, InputLimitError) as err:
        sys.stderr.write(f"error: {err}\n")
        return EXIT_USAGE
    except ClarifaiError as err:
        sys.stderr.write(f"error: {err}\n")
        _hint(args, err)
        return EXIT_API
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
