"""A V2 server that answers from canned responses, for measuring client overhead alone.

    python benchmarks/canned_server.py GRPC_PORT HTTP_PORT

gRPC and HTTP/JSON on 127.0.0.1; the HTTP side routes with the same transcoding rules as the
emulator's gateway and answers with bytes encoded once at start, so that what is measured is
the client. PostModelOutputs returns one output with 20 concepts; ListInputs returns
128 inputs with URLs, concepts, metadata and timestamps, as a real app page would.
"""

from __future__ import annotations

import signal
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from clarifai_grpc_client._json_format import to_json  # noqa: E402
from clarifai_grpc_client._transcoding import Router  # noqa: E402
from clarifai_grpc_client.proto.clarifai.api import service_pb2  # noqa: E402
from clarifai_grpc_client.proto import (  # noqa: E402
    Concept,
    Data,
    Image,
    Input,
    Model,
    MultiInputResponse,
    MultiOutputResponse,
    Output,
    V2Servicer,
    add_V2Servicer_to_server,
)
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2, status_pb2  # noqa: E402


def canned() -> dict[str, Any]:
    ok = status_pb2.Status(code=status_code_pb2.SUCCESS, description="Ok", req_id="bench-req")
    concepts = [Concept(id=f"ai_{i:04d}", name=f"concept {i}", value=1.0 - i / 40, app_id="main") for i in range(20)]
    predict = MultiOutputResponse(status=ok, outputs=[Output(id="out-1", model=Model(id="general"),
                                                             data=Data(concepts=concepts))])
    predict.outputs[0].created_at.GetCurrentTime()
    inputs = []
    for i in range(128):
        inp = Input(id=f"input-{i:05d}", data=Data(image=Image(url=f"https://samples.example/{i}.jpg"),
                                                   concepts=[Concept(id="dog", value=1), Concept(id="cat", value=0)]))
        inp.data.metadata.update({"source": "bench", "n": i, "tags": ["a", "b"]})
        inp.created_at.GetCurrentTime()
        inp.status.code = status_code_pb2.INPUT_DOWNLOAD_SUCCESS
        inputs.append(inp)
    return {"PostModelOutputs": predict, "ListInputs": MultiInputResponse(status=ok, inputs=inputs)}


RESPONSES = canned()


class Servicer(V2Servicer):
    def PostModelOutputs(self, request: Any, context: Any) -> Any:
        return RESPONSES["PostModelOutputs"]

    def ListInputs(self, request: Any, context: Any) -> Any:
        return RESPONSES["ListInputs"]


ROUTER = Router.for_service(service_pb2.DESCRIPTOR.services_by_name["V2"])
BODIES = {rpc: to_json(resp, show_if_empty=True, integer_enums=True) for rpc, resp in RESPONSES.items()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        match = ROUTER.match(self.command, urlsplit(self.path).path)
        body = BODIES.get(match.rule.method.name if match else "", b'{"status":{"code":11101}}')
        self.send_response(200 if match else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


def main() -> None:
    grpc_port, http_port = int(sys.argv[1]), int(sys.argv[2])
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    add_V2Servicer_to_server(Servicer(), server)
    server.add_insecure_port(f"127.0.0.1:{grpc_port}")
    server.start()
    ThreadingHTTPServer.request_queue_size = 256  # many clients connect at once (32 calls in flight)
    http = ThreadingHTTPServer(("127.0.0.1", http_port), Handler)
    http.daemon_threads = True
    threading.Thread(target=http.serve_forever, daemon=True).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    http.shutdown()
    server.stop(None)


if __name__ == "__main__":
    main()
