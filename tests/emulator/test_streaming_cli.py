"""The serve command's stream flags: ``--cut-stream`` and ``--stream-delay``, parsed and applied in a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from clarifai_grpc_client.emulator import FaultKind
from clarifai_grpc_client.emulator.cli import build_parser, faults_from_args
from clarifai_grpc_client.proto import V2Stub

from .stream_helpers import prompt, texts


def test_the_flags_configure_the_faults() -> None:
    args = build_parser().parse_args(["--cut-stream", "GenerateModelOutputs:2", "--cut-stream", "*:0:dropped:3",
                                      "--stream-delay", "0.25"])
    faults = faults_from_args(args)
    assert faults.stream_delay == 0.25
    assert faults.stream_cut("GenerateModelOutputs") is not None
    cuts = [faults.stream_cut("StreamModelOutputs") for _ in range(4)]
    assert [c.kind if c else None for c in cuts] == [FaultKind.DROPPED] * 3 + [None]


@pytest.mark.parametrize("bad", ["GenerateModelOutputs", "X:-1", "X:1:throttled", "X:1:dropped:2:9", ":1", "X:two"])
def test_bad_cut_stream_values_are_refused(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--cut-stream", bad])
    assert exit_.value.code == 2 and "RPC:N" in capsys.readouterr().err


def test_a_served_emulator_cuts_the_stream_it_was_told_to(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("cli-key\n")
    proc = subprocess.Popen([sys.executable, "-m", "clarifai_grpc_client.emulator", "--key-file", str(keys),
                             "--cut-stream", "GenerateModelOutputs:2", "--log-level", "WARNING"],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"gRPC (\S+)", line)
        assert match, line
        with grpc.insecure_channel(match.group(1)) as channel:
            got = []
            with pytest.raises(grpc.RpcError) as err:
                for msg in V2Stub(channel).GenerateModelOutputs(prompt("c b a"), metadata=(("authorization", "Key cli-key"),),
                                                                timeout=30):
                    got.append(msg)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE and texts(got) == ["a", " b"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
