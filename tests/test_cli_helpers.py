"""The command line's pure helpers: progress lines, settings checks, strict JSON, gRPC core quieting."""

from __future__ import annotations

import io

import pytest

from clarifai_grpc_client import ConfigurationError, parse_base
from clarifai_grpc_client._cli_progress import Progress, progress_line
from clarifai_grpc_client._cli_settings import check_settings, positive_seconds, tls_hint, unknown_fields
from clarifai_grpc_client._quiet_grpc import is_command_line, quiet_for_command_line
from clarifai_grpc_client.proto import GetInputRequest, PostInputsRequest, PostModelOutputsRequest


def test_progress_line() -> None:
    assert progress_line("uploaded", "inputs", 1200, 5000, 4.0) == "uploaded: 1,200/5,000 inputs (24%), 300/s, about 13s left"
    assert progress_line("uploaded", "inputs", 10, 10, 2.0, failed=3) == "uploaded: 10/10 inputs (100%), 3 failed, 5/s"
    assert progress_line("streamed", "inputs", 7000, None, 2.0) == "streamed: 7,000 inputs, 3,500/s"
    assert progress_line("streamed", "inputs", 0, None, 0.0) == "streamed: 0 inputs"
    assert progress_line("uploaded", "inputs", 1, 10_000, 1.0).endswith("about 2h46m left")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_progress_writes_a_line_per_interval_and_a_summary() -> None:
    out, clock = io.StringIO(), FakeClock()
    with Progress("uploaded", "inputs", 300, out, interval=6, terminal=False, clock=clock) as progress:
        for done in (100, 200, 300):
            clock.now += 4
            progress.update(done)
    assert out.getvalue() == "uploaded: 200/300 inputs (66%), 25/s, about 4s left\n"  # at 8 s: 4 s and 12 s come too soon
    assert progress.summary() == "uploaded: 300/300 inputs (100%), 25/s in 12.0s"
    quiet = io.StringIO()
    with Progress("uploaded", "inputs", 3, quiet, interval=0, enabled=False, clock=clock) as off:
        off.update(3)
    assert quiet.getvalue() == "" and off.done == 3


def test_settings_are_checked_in_flag_terms() -> None:
    env = {"CLARIFAI_GRPC_BASE": "grpc://127.0.0.1:5000"}
    with pytest.raises(ConfigurationError, match="export CLARIFAI_PAT=.*--pat-file FILE"):
        check_settings("grpc", None, pat=None, insecure=False, allow_plaintext_credentials=False, environ=env)
    target = check_settings("grpc", None, pat=None, insecure=False, allow_plaintext_credentials=False,
                            environ={**env, "CLARIFAI_API_KEY": "k"})
    assert str(target) == "grpc://127.0.0.1:5000"
    with pytest.raises(ConfigurationError, match="add --allow-plaintext-credentials") as refused:
        check_settings("json", "http://10.0.0.7:8080", pat="k", insecure=False, allow_plaintext_credentials=False, environ={})
    assert "=True" not in str(refused.value) and "https://" in str(refused.value)
    check_settings("grpc", "10.0.0.7:50051", pat="k", insecure=True, allow_plaintext_credentials=True, environ={})
    assert positive_seconds("2.5") == 2.5
    for bad in ("0", "-1", "nan", "inf", "soon"):
        with pytest.raises(Exception, match="is not a positive number of seconds"):
            positive_seconds(bad)


def test_tls_hint_only_for_a_tls_mismatch() -> None:
    tls = parse_base("127.0.0.1:50051", "grpc")
    message = "failed to connect: Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: WRONG_VERSION_NUMBER"
    assert tls_hint(tls, message) == ("hint: 127.0.0.1:50051 did not answer in TLS; if it is a plaintext server (such as "
                                      "'clarifai-grpc serve'), use --base grpc://127.0.0.1:50051")
    assert tls_hint(tls, "failed to connect: Connection refused") is None
    assert tls_hint(parse_base("grpc://127.0.0.1:50051", "grpc"), message) is None
    json_hint = tls_hint(parse_base("https://localhost:8443/api", "json"), "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    assert json_hint is not None and json_hint.endswith("use --base http://localhost:8443/api")


def test_unknown_fields_are_found_everywhere() -> None:
    assert unknown_fields({"input_id": "x", "userAppId": {"app_id": "a"}}, GetInputRequest.DESCRIPTOR) == []
    assert unknown_fields({"inputid": "x", "user_app_id": {"app": "a"}}, GetInputRequest.DESCRIPTOR) == [
        "inputid", "user_app_id.app"]
    body = {"inputs": [{"data": {"imgae": {}, "metadata": {"free": {"form": 1}}}}, {"data": {"concepts": [{"nmae": "x"}]}}]}
    assert unknown_fields(body, PostInputsRequest.DESCRIPTOR) == ["inputs[0].data.imgae", "inputs[1].data.concepts[0].nmae"]
    predict = {"model": {"output_info": {"params": {"anything": [1, {"goes": True}]}}}, "modle_id": "m"}
    assert unknown_fields(predict, PostModelOutputsRequest.DESCRIPTOR) == ["modle_id"]


def test_grpc_core_is_quieted_only_for_the_command() -> None:
    assert is_command_line(["/venv/bin/clarifai-grpc", "inputs", "list"])
    assert is_command_line(["-m"], ["python", "-m", "clarifai_grpc_client.cli", "demo"])
    assert not is_command_line(["my_app.py"], ["python", "my_app.py"])
    env: dict[str, str] = {}
    quiet_for_command_line(["clarifai-grpc", "demo"], env)
    assert env == {"GRPC_VERBOSITY": "ERROR"}
    verbose: dict[str, str] = {}
    quiet_for_command_line(["clarifai-grpc", "inputs", "list", "--verbose"], verbose)
    assert verbose == {"GRPC_VERBOSITY": "INFO"}
    chosen = {"GRPC_VERBOSITY": "DEBUG"}
    quiet_for_command_line(["clarifai-grpc", "demo"], chosen)
    assert chosen == {"GRPC_VERBOSITY": "DEBUG"}
    library: dict[str, str] = {}
    quiet_for_command_line(["server.py"], library)
    assert library == {}
