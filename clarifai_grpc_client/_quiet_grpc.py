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


def is_command_line(argv: Sequence[str], orig_argv: Sequence[str] = ()) -> bool:
    """Whether ``argv`` (``sys.argv``) runs the ``clarifai-grpc`` console script, or ``orig_argv``
    (``sys.orig_argv``) runs ``python -m clarifai_grpc_client.cli``."""
    if argv and argv[0] and os.path.basename(argv[0]) in (COMMAND, f"{COMMAND}.exe", f"{COMMAND}-script.py"):
        return True
    args = list(orig_argv)
    return any(a == "-m" and b == "clarifai_grpc_client.cli" for a, b in zip(args, args[1:]))


def quiet_for_command_line(argv: Sequence[str], environ: MutableMapping[str, str], orig_argv: Sequence[str] = ()) -> None:
    """Default ``GRPC_VERBOSITY`` to ERROR (INFO with ``--verbose``) for the command line."""
    if is_command_line(argv, orig_argv):
        environ.setdefault("GRPC_VERBOSITY", "INFO" if "--verbose" in [*argv[1:], *orig_argv] else "ERROR")
