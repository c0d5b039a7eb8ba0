"""Keeps gRPC core's own log lines off the terminal of the ``clarifai-grpc`` command.

gRPC core reads ``GRPC_VERBOSITY`` once, when ``grpc`` is first imported, and otherwise prints
connection diagnostics (a failed TLS handshake, for one) straight to stderr, beside the
command's own one-line error. The package imports grpc, so :func:`quiet_for_command_line` runs
from its ``__init__`` first. It acts only when the running program is the ``clarifai-grpc``
command, never in a program that imports the library, and never over a ``GRPC_VERBOSITY`` the
user set; ``clarifai-grpc --verbose ...`` keeps gRPC core's informational lines.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping, Sequence

COMMAND = "clarifai-grpc"


def is_command_line(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (``sys.argv``) runs the ``clarifai-grpc`` console script."""
    if not argv or not argv[0]:
        return False
    name = os.path.basename(argv[0])
    return name in (COMMAND, f"{COMMAND}.exe", f"{COMMAND}-script.py")


def quiet_for_command_line(argv: Sequence[str], environ: MutableMapping[str, str]) -> None:
    """Default ``GRPC_VERBOSITY`` to ERROR (INFO with ``--verbose``) for the command line."""
    if is_command_line(argv):
        environ.setdefault("GRPC_VERBOSITY", "INFO" if "--verbose" in argv[1:] else "ERROR")
