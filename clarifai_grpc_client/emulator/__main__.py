"""``python -m clarifai_grpc_client.emulator [flags]``: see :mod:`.cli`."""

from __future__ import annotations

import sys

from .cli import serve_main

if __name__ == "__main__":
    sys.exit(serve_main(sys.argv[1:]))
