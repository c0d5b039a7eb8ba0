"""An emulator in a subprocess on a file database, that a test can kill with SIGKILL and restart.

The process is started as users start it (``python -m clarifai_grpc_client.emulator --db F``)
on ports chosen once, so a restarted emulator answers at the same addresses with the same data.
What it holds is read back through the raw generated stub on a plain channel, independently of
the client code under test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from clarifai_grpc_client.proto import Input, PostInputsRequest, StreamInputsRequest, UserAppIDSet, V2Stub
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2

ROOT = Path(__file__).resolve().parents[2]
KEY = "fault-matrix-key"
APP_ID = "main"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmulatorProcess:
    """``python -m clarifai_grpc_client.emulator`` on a fixed database and fixed ports."""

    def __init__(self, workdir: Path) -> None:
        self.db = workdir / "state.sqlite3"
        self.keys = workdir / "keys.txt"
        self.keys.write_text(KEY + "\n")
        self.grpc_port, self.http_port = _free_port(), _free_port()
        self.proc: subprocess.Popen[str] | None = None
        self.kills = 0
        self._lock = threading.Lock()

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def base(self, transport: str) -> str:
        return f"grpc://{self.grpc_target}" if transport == "grpc" else self.http_base

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLARIFAI_")}
        env["PYTHONPATH"] = str(ROOT)
        argv = [sys.executable, "-m", "clarifai_grpc_client.emulator", "--db", str(self.db), "--key-file", str(self.keys),
                "--grpc-port", str(self.grpc_port), "--http-port", str(self.http_port), "--log-level", "WARNING"]
        deadline = time.monotonic() + 30
        while True:  # the ports of a killed process can take a moment to be free again
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.startswith("Clarifai emulator:"):
                with self._lock:
                    self.proc = proc
                return
            proc.wait(timeout=10)
            if time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start: {line}{proc.stdout.read()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, connections cut mid-reply."""
        with self._lock:
            proc, self.proc = self.proc, None
        assert proc is not None, "not running"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        self.kills += 1

    def restart_later(self, down_for: float) -> threading.Thread:
        """Kill now; start again after ``down_for`` seconds, in the background."""
        self.kill()

        def again() -> None:
            time.sleep(down_for)
            self.start()

        thread = threading.Thread(target=again, name="emulator-restart")
        thread.start()
        return thread

    def stop(self) -> None:
        with self._lock:
            proc, self.proc = self.proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()

    # --- reading and seeding through the raw stub ---------------------------------------------

    def _stub(self) -> tuple[grpc.Channel, V2Stub]:
        channel = grpc.insecure_channel(self.grpc_target)
        return channel, V2Stub(channel)

    def stored(self) -> list[Input]:
        """Every input of the app, oldest first."""
        channel, stub = self._stub()
        out: list[Input] = []
        try:
            last = ""
            while True:
                resp = stub.StreamInputs(StreamInputsRequest(user_app_id=UserAppIDSet(app_id=APP_ID), per_page=1000,
                                                             last_id=last), metadata=(("authorization", f"Key {KEY}"),),
                                         timeout=30, wait_for_ready=True)
                assert resp.status.code == status_code_pb2.SUCCESS, resp.status
                out += resp.inputs
                if len(resp.inputs) < 1000:
                    return out
                last = resp.inputs[-1].id
        finally:
            channel.close()

    def seed(self, inputs: list[Input]) -> None:
        channel, stub = self._stub()
        try:
            for start in range(0, len(inputs), 128):
                resp = stub.PostInputs(PostInputsRequest(user_app_id=UserAppIDSet(app_id=APP_ID),
                                                         inputs=inputs[start:start + 128]),
                                       metadata=(("authorization", f"Key {KEY}"),), timeout=30, wait_for_ready=True)
                assert resp.status.code == status_code_pb2.SUCCESS, resp.status
        finally:
            channel.close()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorProcess]:
    emu = EmulatorProcess(tmp_path)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(params=["grpc", "json"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)
