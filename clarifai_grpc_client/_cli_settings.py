"""Checks of command-line settings made before any connection, and hints, phrased in flags.

The library's own checks speak of keyword arguments (``allow_plaintext_credentials=True``); a
person at a shell needs the flag or the environment variable instead, and needs to hear about a
missing key before a round trip to the server. Pure functions: no I/O.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from typing import Any

from google.protobuf.descriptor import Descriptor

from ._config import Target, Transport, build_config
from ._errors import ConfigurationError

KEY_VARIABLES = ("CLARIFAI_PAT", "CLARIFAI_API_KEY")
_TLS_MISMATCH = ("wrong_version_number", "wrong version number", "tls handshake", "ssl handshake", "record layer failure",
                 "packet length too long", "http_request")


def target_of(transport: Transport, base: str | None, insecure: bool, environ: Mapping[str, str]) -> Target:
    """Where the command will connect: ``--base``, else ``$CLARIFAI_GRPC_BASE``/``$CLARIFAI_API_BASE``, else the service."""
    without_keys = {k: v for k, v in environ.items() if k not in KEY_VARIABLES}
    return build_config(transport, base, insecure=insecure, environ=without_keys).target


def check_settings(transport: Transport, base: str | None, *, pat: str | None, insecure: bool,
                   allow_plaintext_credentials: bool, environ: Mapping[str, str]) -> Target:
    """Refuse, in command-line terms, settings that cannot work; the target on success."""
    target = target_of(transport, base, insecure, environ)
    if pat is None and not any(environ.get(name) for name in KEY_VARIABLES):
        raise ConfigurationError(
            "no key to authenticate with: export CLARIFAI_PAT=<your personal access token> "
            "(or CLARIFAI_API_KEY), or pass --pat-file FILE"
        )
    if not target.secure and not target.is_loopback and not allow_plaintext_credentials:
        raise ConfigurationError(
            f"refusing to send the key in plaintext to {target.host}: use TLS "
            f"({'a grpcs:// or bare host:port' if transport == 'grpc' else 'an https://'} --base), "
            "or add --allow-plaintext-credentials if this network is trusted"
        )
    return target


def positive_seconds(text: str) -> float:
    """``--timeout``'s type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def tls_hint(target: Target, message: str) -> str | None:
    """A hint when a TLS connection failed the way it does against a plaintext server, else None."""
    if not target.secure or not any(marker in message.lower() for marker in _TLS_MISMATCH):
        return None
    plain = f"grpc://{target.grpc_target}" if target.transport == "grpc" else f"http://{target.grpc_target}{target.path_prefix}"
    return (f"hint: {target.grpc_target} did not answer in TLS; if it is a plaintext server (such as "
            f"'clarifai-grpc serve'), use --base {plain}")


def unknown_fields(node: Any, desc: Descriptor, path: str = "") -> list[str]:
    """The paths of every key in the JSON ``node`` that names no field of ``desc`` (snake_case or lowerCamelCase).

    Well-known types (``google.protobuf.*``: Struct, Any, Timestamp, ...) take any keys; lists
    and maps are followed into their messages.
    """
    if not isinstance(node, dict) or desc.full_name.startswith("google.protobuf."):
        return []
    fields = {f.name: f for f in desc.fields} | {f.json_name: f for f in desc.fields}
    found: list[str] = []
    for key, value in node.items():
        where = f"{path}.{key}" if path else str(key)
        fd = fields.get(key)
        if fd is None:
            found.append(where)
        elif fd.message_type is None:
            continue
        elif fd.message_type.GetOptions().map_entry:
            value_type = fd.message_type.fields_by_name["value"].message_type
            if value_type is not None and isinstance(value, dict):
                for k, v in value.items():
                    found += unknown_fields(v, value_type, f"{where}[{k!r}]")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                found += unknown_fields(item, fd.message_type, f"{where}[{i}]")
        else:
            found += unknown_fields(value, fd.message_type, where)
    return found
