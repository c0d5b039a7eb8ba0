"""Raw streaming calls against the emulator: the generated gRPC stub, and httpx reading newline-delimited JSON.

Each helper returns what arrived (messages in order), how the stream ended (an error and
its text, or an abrupt close on HTTP) and, over HTTP, the status of the answer, so one test
body checks both transports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx

from clarifai_grpc_client import _json_format, _transcoding
from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.emulator.dispatch import V2
from clarifai_grpc_client.proto import V2Stub

GENERATE = "GenerateModelOutputs"
BIDI = "StreamModelOutputs"


def prompt(text: str, model_id: str = "text-generation", **params: float) -> p.PostModelOutputsRequest:
    """A predict request of one text input; ``params`` go in the model version's ``output_info.params``."""
    req = p.PostModelOutputsRequest(user_app_id=p.UserAppIDSet(app_id="main"), model_id=model_id,
                                    inputs=[p.Input(id="in-1", data=p.Data(text=p.Text(raw=text)))])
    if params:
        req.model.model_version.output_info.params.update(params)
    return req


def texts(messages: Iterable[p.MultiOutputResponse]) -> list[str]:
    return [o.data.text.raw for m in messages for o in m.outputs]


@dataclass
class StreamResult:
    messages: list[p.MultiOutputResponse] = field(default_factory=list)
    error: str | None = None  # gRPC status code name, or the message of an HTTP {"error": ...} object
    http_status: int | None = None
    abrupt: bool = False  # HTTP: the connection closed before the body was terminated

    @property
    def text(self) -> str:
        return "".join(texts(self.messages))


class GrpcStreams:
    name = "grpc"

    def __init__(self, emu: Emulator, key: str | None) -> None:
        self.channel = grpc.insecure_channel(emu.grpc_target)
        self.stub = V2Stub(self.channel)
        self.metadata = (("authorization", f"Key {key}"),) if key else ()

    def _collect(self, call: Iterator[p.MultiOutputResponse]) -> StreamResult:
        out = StreamResult()
        try:
            for msg in call:
                out.messages.append(msg)
        except grpc.RpcError as err:
            out.error = f"{err.code().name}: {err.details()}"  # type: ignore[attr-defined]
        return out

    def generate(self, req: p.PostModelOutputsRequest, timeout: float = 30) -> StreamResult:
        return self._collect(self.stub.GenerateModelOutputs(req, metadata=self.metadata, timeout=timeout))

    def bidi(self, reqs: Iterable[p.PostModelOutputsRequest], timeout: float = 30) -> StreamResult:
        return self._collect(self.stub.StreamModelOutputs(iter(list(reqs)), metadata=self.metadata, timeout=timeout))

    def close(self) -> None:
        self.channel.close()


class HttpStreams:
    name = "http"

    def __init__(self, emu: Emulator, key: str | None) -> None:
        headers = {"Authorization": f"Key {key}"} if key else {}
        self.client = httpx.Client(base_url=emu.http_base, headers=headers, timeout=30)
        self.rules = _transcoding.service_rules(V2)

    def request(self, rpc: str, req: p.PostModelOutputsRequest) -> tuple[str, str, dict[str, Any] | None]:
        call = _transcoding.encode_request(self.rules[f"/clarifai.api.V2/{rpc}"], req)
        return call.verb, call.url_path(), call.body

    def _collect(self, verb: str, path: str, content: bytes) -> StreamResult:
        out = StreamResult()
        try:
            with self.client.stream(verb, path, content=content, headers={"content-type": "application/json"}) as resp:
                out.http_status = resp.status_code
                assert resp.headers["content-type"] == "application/json"
                for line in resp.iter_lines():
                    if not line.strip():
                        continue
                    node = json.loads(line)
                    if "error" in node:
                        out.error = str(node["error"]["message"])
                        assert node["error"]["code"] == 14 and node["error"]["details"] == []
                    else:
                        out.messages.append(_json_format.parse_dict(node["result"], p.MultiOutputResponse()))
        except httpx.RemoteProtocolError:
            out.abrupt = True
        return out

    def generate(self, req: p.PostModelOutputsRequest, timeout: float = 30) -> StreamResult:
        verb, path, body = self.request(GENERATE, req)
        return self._collect(verb, path, json.dumps(body).encode())

    def bidi(self, reqs: Iterable[p.PostModelOutputsRequest], timeout: float = 30) -> StreamResult:
        bodies = [self.request(BIDI, r)[2] for r in reqs]
        verb, path, _ = self.request(BIDI, p.PostModelOutputsRequest())
        return self._collect(verb, path, b"\n".join(json.dumps(b).encode() for b in bodies))

    def close(self) -> None:
        self.client.close()


StreamApi = GrpcStreams | HttpStreams
