"""Bad input to the client library, over both transports: each raises a typed error naming the problem.

Nothing here may end in a deep library traceback (AttributeError, TypeError from a dependency,
RecursionError), a hang, or a silent success.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from clarifai_grpc_client import (
    ApiError,
    BadRequest,
    Client,
    ConfigurationError,
    InputLimitError,
    InvalidResponse,
    MessageTooLarge,
    NotFound,
    RetryPolicy,
    TooManyRequests,
    Unauthenticated,
)
from clarifai_grpc_client._upload import MAX_IMAGE_BYTES, MAX_REQUEST_BYTES
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.emulator.auth import DEFAULT_APP_ID, DEFAULT_USER_ID
from clarifai_grpc_client.emulator.storage import app_key
from clarifai_grpc_client.proto import (
    Data,
    DeleteInputsRequest,
    GetInputRequest,
    Image,
    Input,
    ListInputsRequest,
    MultiInputResponse,
    PostInputsRequest,
    PostModelOutputsRequest,
    PostWorkflowResultsRequest,
    Text,
    UserAppIDSet,
    Video,
)

from .conftest import KEY, base_for

APP = app_key(DEFAULT_USER_ID, DEFAULT_APP_ID)

# --- request objects of the wrong type (both transports) ---------------------------------------

WRONG_REQUESTS: dict[str, Any] = {
    "a dict": {"per_page": 1},
    "None": None,
    "a string": "per_page=1",
    "bytes": b"\x18\x01",
    "an int": 7,
    "another request type": GetInputRequest(input_id="x"),
    "a response message": MultiInputResponse(),
    "a list of requests": [ListInputsRequest()],
}


@pytest.mark.parametrize("case", list(WRONG_REQUESTS))
def test_a_request_of_the_wrong_type_names_the_expected_type(client: Client, case: str) -> None:
    with pytest.raises(TypeError) as info:
        client.ListInputs(WRONG_REQUESTS[case])
    assert "ListInputsRequest" in str(info.value)
    assert isinstance(info.value, (ConfigurationError, TypeError)) and "DESCRIPTOR" not in str(info.value)


# --- timeouts ----------------------------------------------------------------------------------

BAD_TIMEOUTS: dict[str, Any] = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan, "zero": 0, "negative": -1.5,
                                "a string": "5"}


@pytest.mark.parametrize("case", list(BAD_TIMEOUTS))
def test_a_bad_per_call_timeout_is_refused(client: Client, case: str) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        client.ListInputs(ListInputsRequest(), timeout=BAD_TIMEOUTS[case])


@pytest.mark.parametrize("case", ["inf", "nan", "zero"])
def test_a_bad_client_timeout_is_refused(emu: Emulator, transport: str, case: str) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        Client(transport, base_for(emu, transport), pat=KEY, environ={}, timeout=BAD_TIMEOUTS[case])  # type: ignore[arg-type]


# --- RPC names and metadata --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["NoSuchRpc", "", "listinputs", "ListInputs ", "/clarifai.api.V2/Nope"])
def test_an_unknown_rpc_name_is_refused(client: Client, name: str) -> None:
    with pytest.raises(ConfigurationError, match="is not a V2 RPC"):
        client.call(name, ListInputsRequest())


BAD_METADATA: dict[str, Any] = {
    "a key with a space": [("bad key", "v")],
    "an upper-case key": [("X-Upper", "v")],
    "a newline in a value": [("x-note", "line\nbreak")],
    "a None value": [("x-note", None)],
}


@pytest.mark.parametrize("case", list(BAD_METADATA))
def test_bad_per_call_metadata_is_refused_naming_the_key(client: Client, case: str) -> None:
    """Refused before sending, on both transports (not an INTERNAL from gRPC core or a dropped connection)."""
    metadata = BAD_METADATA[case]
    with pytest.raises(ConfigurationError) as info:
        client.ListInputs(ListInputsRequest(), metadata=metadata)
    assert repr(metadata[0][0]) in str(info.value) or metadata[0][0] in str(info.value)


# --- what the service refuses, as typed errors naming the thing ---------------------------------

Case = Callable[[Client], Any]
REFUSED: dict[str, tuple[Case, type[ApiError], str, str]] = {
    "an id with a space": (lambda c: c.PostInputs(PostInputsRequest(inputs=[Input(id="bad id", data=Data(text=Text(raw="x")))])),
                           BadRequest, "INPUT_INVALID_ARGUMENT", "bad id"),
    "an id of 200 characters": (lambda c: c.PostInputs(PostInputsRequest(inputs=[Input(id="a" * 200, data=Data(text=Text(raw="x")))])),
                                BadRequest, "INPUT_INVALID_ARGUMENT", "a" * 200),
    "an input without content": (lambda c: c.PostInputs(PostInputsRequest(inputs=[Input(id="empty-one")])),
                                 BadRequest, "INPUT_INVALID_ARGUMENT", "empty-one"),
    "no inputs at all": (lambda c: c.PostInputs(PostInputsRequest()), BadRequest, "INPUT_INVALID_ARGUMENT", "at least one input"),
    "a missing input": (lambda c: c.GetInput(GetInputRequest(input_id="no-such-input")), NotFound, "INPUT_DOES_NOT_EXIST",
                        "no-such-input"),
    "a missing app": (lambda c: c.ListInputs(ListInputsRequest(user_app_id=UserAppIDSet(app_id="no-such-app"))), NotFound,
                      "CONN_DOES_NOT_EXIST", "no-such-app"),
    "a missing model": (lambda c: c.PostModelOutputs(PostModelOutputsRequest(model_id="no-such-model",
                                                                             inputs=[Input(data=Data(text=Text(raw="x")))])),
                        NotFound, "MODEL_DOES_NOT_EXIST", "no-such-model"),
    "a prediction without inputs": (lambda c: c.PostModelOutputs(PostModelOutputsRequest(model_id="text-keywords")),
                                    BadRequest, "PREDICT_INVALID_REQUEST", "at least one input"),
    "a missing workflow": (lambda c: c.PostWorkflowResults(PostWorkflowResultsRequest(
        workflow_id="no-such-workflow", inputs=[Input(data=Data(text=Text(raw="x")))])), NotFound, "WORKFLOW_DOES_NOT_EXIST",
        "no-such-workflow"),
    "deleting a missing input": (lambda c: c.DeleteInputs(DeleteInputsRequest(ids=["never-there"])), NotFound,
                                 "INPUT_DOES_NOT_EXIST", "never-there"),
    "resuming a stream from an unknown cursor": (lambda c: list(c.stream_inputs(cursor="no-such-cursor")), NotFound,
                                                 "INPUT_DOES_NOT_EXIST", "no-such-cursor"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_the_service_refuses_is_a_typed_error(client: Client, case: str) -> None:
    run, cls, code_name, names = REFUSED[case]
    with pytest.raises(cls) as info:
        run(client)
    assert info.value.code_name == code_name and names in str(info.value)
    assert info.value.req_id


def test_a_wrong_key_is_unauthenticated_and_not_echoed(emu: Emulator, transport: str) -> None:
    with Client(transport, base_for(emu, transport), pat="wrong-key-424242", app_id="main", environ={}) as c:  # type: ignore[arg-type]
        with pytest.raises(Unauthenticated) as info:
            c.ListInputs(ListInputsRequest())
    assert info.value.code_name == "CONN_KEY_NOT_FOUND" and "wrong-key-424242" not in str(info.value)


# --- uploads: items that cannot be uploaded are refused before anything is sent -----------------


def _latin1_file(tmp: Path) -> Path:
    path = tmp / "latin1.txt"
    path.write_bytes("naïve".encode("latin-1"))
    return path


def _named_file(tmp: Path) -> str:
    path = tmp / "photo.png"
    path.write_bytes(b"\x89PNG")
    return str(path)


BAD_ITEMS: dict[str, tuple[Callable[[Path], Any], str]] = {
    "a dict": (lambda tmp: {"text": "x"}, "cannot upload a dict"),
    "a float": (lambda tmp: 3.14, "cannot upload a float"),
    "an int": (lambda tmp: 42, "cannot upload a int"),
    "None": (lambda tmp: None, "cannot upload a NoneType"),
    "a list": (lambda tmp: ["nested"], "cannot upload a list"),
    "a set": (lambda tmp: {"x"}, "cannot upload a set"),
    "an image over 20 MB": (lambda tmp: b"\x89PNG" + b"\0" * MAX_IMAGE_BYTES, f"the limit is {MAX_IMAGE_BYTES} bytes"),
    "an input over 128 MB": (lambda tmp: Input(id="huge", data=Data(video=Video(base64=b"\0" * (MAX_REQUEST_BYTES + 1)))),
                             f"at most {MAX_REQUEST_BYTES} bytes"),
    "a missing file": (lambda tmp: tmp / "missing.png", "cannot read"),
    "a folder as a file": (lambda tmp: tmp, "cannot read"),
    "a text file not in UTF-8": (lambda tmp: _latin1_file(tmp), "is not UTF-8 text"),
    "a string naming a file": (lambda tmp: _named_file(tmp), "names an existing file: pass Path("),
    "an own id given twice": (lambda tmp: Input(id="twice", data=Data(text=Text(raw="b"))), "appears twice"),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS))
def test_an_item_that_cannot_be_uploaded_is_refused_before_sending(client: Client, emu: Emulator, tmp_path: Path,
                                                                   case: str) -> None:
    make, message = BAD_ITEMS[case]
    good = [Input(id="twice", data=Data(text=Text(raw="a")))] + [f"good text {i} for {case}" for i in range(200)]
    with pytest.raises(InputLimitError, match=message.replace("(", r"\(")):
        client.upload_inputs(good + [make(tmp_path)])
    with emu.storage.read() as tx:
        assert tx.get_input(APP, "twice") is None  # nothing of the upload was sent


BAD_UPLOAD_ARGS: dict[str, tuple[dict[str, Any], str]] = {
    "concurrency 0": ({"concurrency": 0}, "concurrency must be at least 1"),
    "concurrency -3": ({"concurrency": -3}, "concurrency must be at least 1"),
    "max_inputs 0": ({"max_inputs": 0}, "max_inputs must be between 1 and 128"),
    "max_inputs 129": ({"max_inputs": 129}, "max_inputs must be between 1 and 128"),
    "ids 'uuid'": ({"ids": "uuid"}, "ids must be 'derived' or 'random'"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOAD_ARGS))
def test_bad_upload_settings_are_refused(client: Client, case: str) -> None:
    kwargs, message = BAD_UPLOAD_ARGS[case]
    with pytest.raises(InputLimitError, match=message):
        client.upload_inputs(["x"], **kwargs)


# --- pagination and streaming arguments --------------------------------------------------------

BAD_PAGING: dict[str, tuple[Case, str]] = {
    "stream per_page 0": (lambda c: list(c.stream_inputs(per_page=0)), "per_page must be between 1 and 1000"),
    "stream per_page 1001": (lambda c: list(c.stream_inputs(per_page=1001)), "per_page must be between 1 and 1000"),
    "stream outage_timeout -1": (lambda c: list(c.stream_inputs(outage_timeout=-1)), "outage_timeout must be >= 0"),
    "iter_items limit -1": (lambda c: list(c.iter_items("ListInputs", ListInputsRequest(), limit=-1)), "limit must be >= 0"),
    "iter_items on a non-list RPC": (lambda c: list(c.iter_items("GetInput", GetInputRequest())), "is not a paged request"),
    "iter_items on an unknown RPC": (lambda c: list(c.iter_items("ListNothing", ListInputsRequest())), "is not a V2 RPC"),
}


@pytest.mark.parametrize("case", list(BAD_PAGING))
def test_bad_paging_arguments_are_refused(client: Client, case: str) -> None:
    run, message = BAD_PAGING[case]
    with pytest.raises(ConfigurationError, match=message):
        run(client)


# --- messages over the size limit, deeply nested replies ---------------------------------------


def test_a_request_over_the_message_limit_is_final_and_gives_size_and_limit(emu: Emulator, transport: str) -> None:
    with Client(transport, base_for(emu, transport), pat=KEY, app_id="main", environ={},  # type: ignore[arg-type]
                max_message_bytes=4096) as c:
        with pytest.raises(MessageTooLarge) as info:
            c.PostInputs(PostInputsRequest(inputs=[Input(id="too-big", data=Data(image=Image(base64=b"\0" * 10_000)))]))
    assert not isinstance(info.value, TooManyRequests)
    assert info.value.limit == 4096 and info.value.size > 10_000 and "4096" in str(info.value)


class _DeepJson(BaseHTTPRequestHandler):
    """Answers every request with a reply nested 50,000 levels deep."""

    def do_GET(self) -> None:
        body = b'{"status": {"code": 10000}, "inputs": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def deep_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DeepJson)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_deeply_nested_reply_is_an_invalid_response(deep_server: str) -> None:
    with Client("json", deep_server, pat=KEY, app_id="main", environ={}, retry=RetryPolicy(max_attempts=1)) as c:
        with pytest.raises(InvalidResponse) as info:
            c.ListInputs(ListInputsRequest())
    assert not isinstance(info.value.__cause__, RecursionError) or "nested" in str(info.value)
