"""OpenTelemetry stays optional: the package, its clients and its calls never import it."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import clarifai_grpc_client
from clarifai_grpc_client import Client
from clarifai_grpc_client.proto import ListInputsRequest
with Client("grpc", "grpc://127.0.0.1:9", environ={}, timeout=0.2,
            retry=clarifai_grpc_client.RetryPolicy(max_attempts=1, wait_for_connection=False),
            observers=[lambda event: None]) as client:
    try:
        client.ListInputs(ListInputsRequest())
    except clarifai_grpc_client.ClarifaiError:
        pass
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry")
print(",".join(loaded) or "none")
import clarifai_grpc_client.otel
print("opentelemetry" in sys.modules)
"""


def test_importing_and_calling_does_not_import_opentelemetry() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["none", "True"]  # and importing the otel module does (the check works)
