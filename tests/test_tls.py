"""TLS on both transports against real TLS servers on 127.0.0.1, with a CA made for the test.

Verification stays on: a client that does not trust the CA is refused, and one given the CA's
certificate (``root_certificates=``) connects. No test ever turns verification off.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest
import trustme

from clarifai_grpc_client import Client, ConfigurationError, RetryPolicy, ServiceUnavailable, TransportError
from clarifai_grpc_client._json_format import to_json
from clarifai_grpc_client.proto import GetInputRequest, Input, SingleInputResponse, V2Servicer, add_V2Servicer_to_server
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2

ONE_TRY = RetryPolicy(max_attempts=1)
KEY = "tls-key"


def answer() -> SingleInputResponse:
    resp = SingleInputResponse(input=Input(id="over-tls"))
    resp.status.code = status_code_pb2.SUCCESS
    return resp


class _Servicer(V2Servicer):
    def GetInput(self, request: Any, context: grpc.ServicerContext) -> Any:
        return answer()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = to_json(answer(), integer_enums=True)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass
class TlsServers:
    grpc_port: int
    https_port: int
    ca_file: Path


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServers]:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    add_V2Servicer_to_server(_Servicer(), server)
    chain = b"".join(blob.bytes() for blob in cert.cert_chain_pems)
    grpc_port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(cert.private_key_pem.bytes(), chain)]))
    server.start()
    https = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    https.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    https.socket = context.wrap_socket(https.socket, server_side=True)
    thread = threading.Thread(target=https.serve_forever, daemon=True)
    thread.start()
    try:
        yield TlsServers(grpc_port, https.server_address[1], ca_file)
    finally:
        https.shutdown()
        https.server_close()
        thread.join(5)
        server.stop(None).wait(5)


def base(tls: TlsServers, transport: str) -> str:
    return f"grpcs://localhost:{tls.grpc_port}" if transport == "grpc" else f"https://localhost:{tls.https_port}"


def test_a_trusted_ca_connects(tls: TlsServers, transport: str) -> None:
    with Client(transport, base(tls, transport), pat=KEY, root_certificates=tls.ca_file, retry=ONE_TRY,  # type: ignore[arg-type]
                timeout=10, environ={}) as client:
        assert client.GetInput(GetInputRequest(input_id="x")).input.id == "over-tls"


def test_the_ca_path_can_come_from_the_environment(tls: TlsServers, transport: str) -> None:
    env = {"CLARIFAI_ROOT_CERTIFICATES_PATH": str(tls.ca_file), "CLARIFAI_PAT": KEY}
    with Client(transport, base(tls, transport), retry=ONE_TRY, timeout=10, environ=env) as client:  # type: ignore[arg-type]
        assert client.GetInput(GetInputRequest(input_id="x")).input.id == "over-tls"


def test_an_untrusted_certificate_is_refused(tls: TlsServers, transport: str) -> None:
    with Client(transport, base(tls, transport), pat=KEY, retry=ONE_TRY, timeout=5, environ={}) as client:  # type: ignore[arg-type]
        with pytest.raises((ServiceUnavailable, TransportError)) as info:
            client.GetInput(GetInputRequest(input_id="x"))
    assert KEY not in str(info.value)


def test_grpc_verification_cannot_be_switched_off() -> None:
    with pytest.raises(ConfigurationError, match="root_certificates"):
        Client("grpc", "grpcs://localhost:1", verify_tls=False, environ={})
