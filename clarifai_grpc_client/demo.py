"""The README's main job: a short tour of the client against a local emulator (or a real endpoint).

It posts a few inputs (generated PNG images and texts), predicts over gRPC and over HTTP/JSON,
creates and runs a workflow, streams every input back and prints a readable summary. Given
``--base`` and a key it runs the same steps against that endpoint instead.
"""

from __future__ import annotations

import argparse
import struct
import time
import zlib
from typing import Any, TextIO

from ._client import Client
from .proto import (
    Data,
    Image,
    Input,
    Model,
    ModelVersion,
    PostModelOutputsRequest,
    PostWorkflowResultsRequest,
    PostWorkflowsRequest,
    Text,
    Workflow,
    WorkflowNode,
)

DEMO_KEY = "demo-key"
_COLOURS = {"red": (220, 20, 60), "teal": (0, 128, 128), "gold": (255, 215, 0)}
_TEXTS = {
    "text-sports": "The football team won the final match of the season with a late goal.",
    "text-food": "Fresh pasta with tomato sauce, basil and a glass of red wine for dinner.",
}


def png(rgb: tuple[int, int, int], size: int = 16) -> bytes:
    """A small solid-colour PNG, built with zlib so the demo needs no imaging library."""
    row = b"\x00" + bytes(rgb) * size
    raw = zlib.compress(row * size)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _inputs() -> list[Input]:
    images = [Input(id=f"image-{name}", data=Data(image=Image(base64=png(rgb)))) for name, rgb in _COLOURS.items()]
    texts = [Input(id=key, data=Data(text=Text(raw=text))) for key, text in _TEXTS.items()]
    return images + texts


def _top(concepts: Any, n: int = 3) -> str:
    return ", ".join(f"{c.name or c.id} {c.value:.2f}" for c in list(concepts)[:n]) or "-"


def tour(grpc_client: Client, json_client: Client, out: TextIO) -> None:
    """The demo's steps, against any pair of clients for the same app."""
    started = time.perf_counter()
    inputs = _inputs()
    report = grpc_client.upload_inputs(inputs)
    out.write(f"uploaded: {report}\n")

    out.write("predictions:\n")
    for transport, client in (("grpc", grpc_client), ("json", json_client)):
        colours = client.PostModelOutputs(
            PostModelOutputsRequest(model_id="color-recognition", inputs=[i for i in inputs if i.data.image.base64])
        )
        for inp, output in zip(inputs, colours.outputs):
            out.write(f"  [{transport}] color-recognition {inp.id:<12} {_top(output.data.concepts, 2)}\n")
        words = client.PostModelOutputs(
            PostModelOutputsRequest(model_id="text-keywords", inputs=[i for i in inputs if i.data.text.raw])
        )
        for inp, output in zip([i for i in inputs if i.data.text.raw], words.outputs):
            out.write(f"  [{transport}] text-keywords     {inp.id:<12} {_top(output.data.concepts)}\n")

    workflow = Workflow(
        id=f"demo-workflow-{int(time.time())}",
        nodes=[
            WorkflowNode(id="colours", model=Model(id="color-recognition", model_version=ModelVersion(id=""))),
            WorkflowNode(id="embed", model=Model(id="general-embedding", model_version=ModelVersion(id=""))),
        ],
    )
    grpc_client.PostWorkflows(PostWorkflowsRequest(workflows=[workflow]))
    results = json_client.PostWorkflowResults(
        PostWorkflowResultsRequest(workflow_id=workflow.id, inputs=[inputs[0]])
    )
    outputs = results.results[0].outputs if results.results else []
    out.write(f"workflow {workflow.id}: {len(outputs)} node outputs for {inputs[0].id}")
    for o in outputs:
        if o.data.embeddings:
            out.write(f"; embedding of {len(o.data.embeddings[0].vector)} dimensions")
        elif o.data.concepts:
            out.write(f"; {_top(o.data.concepts, 1)}")
    out.write("\n")

    streamed = [inp.id for inp in grpc_client.stream_inputs(per_page=2, order_by_id=True)]
    out.write(f"streamed back {len(streamed)} inputs in id order: {', '.join(streamed)}\n")
    out.write(f"done in {time.perf_counter() - started:.2f}s\n")


def run_demo(args: argparse.Namespace, out: TextIO) -> int:
    """Run :func:`tour` against ``--base`` if given, else against a fresh in-process emulator."""
    if args.base:
        with Client(args.transport, args.base, pat=args.pat, user_id=args.user_id, app_id=args.app_id,
                    insecure=args.insecure, timeout=args.timeout) as client:
            tour(client, client, out)
        return 0
    from .emulator import Emulator

    with Emulator(keys=(DEMO_KEY,)) as emu:
        out.write(f"emulator: gRPC on {emu.grpc_target}, HTTP/JSON on {emu.http_base}\n")
        with Client("grpc", f"grpc://{emu.grpc_target}", pat=DEMO_KEY, app_id="main", environ={}) as grpc_client, \
                Client("json", emu.http_base, pat=DEMO_KEY, app_id="main", environ={}) as json_client:
            tour(grpc_client, json_client, out)
    return 0
