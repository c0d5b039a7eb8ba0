"""Bad settings for a client: each is a ConfigurationError naming what is wrong, and none repeats a secret."""

from __future__ import annotations

import math
from typing import Any

import pytest

from clarifai_grpc_client import Client, ConfigurationError, RetryPolicy, build_config

from .conftest import SECRET

BAD_BASES: dict[str, tuple[str, str, str]] = {
    # name: (transport, base, what the message says)
    "empty": ("grpc", "", "empty base address"),
    "only spaces": ("json", "   ", "empty base address"),
    "inner whitespace": ("grpc", "api clarifai.com", "whitespace"),
    "http scheme for gRPC": ("grpc", "http://api.clarifai.com", "has scheme http://"),
    "grpc scheme for JSON": ("json", "grpc://localhost:50051", "has scheme grpc://"),
    "ftp": ("json", "ftp://api.clarifai.com", "has scheme ftp://"),
    "port out of range": ("grpc", "api.clarifai.com:99999", "malformed"),
    "port not a number": ("grpc", "api.clarifai.com:https", "malformed"),
    "plaintext gRPC without a port": ("grpc", "grpc://api.clarifai.com", "needs an explicit port"),
    "a path on gRPC": ("grpc", "grpcs://api.clarifai.com/v2", "must not have a path"),
    "a query string": ("json", "https://api.clarifai.com/?x=1", "query or fragment"),
    "a fragment": ("json", "https://api.clarifai.com/#top", "query or fragment"),
    "user info": ("json", "https://user:pw@api.clarifai.com", "carries credentials"),
    "bad host characters": ("json", "https://bad_host!/", "no valid host name"),
    "unclosed IPv6": ("grpc", "grpc://[::1:50051", "malformed"),
    "no host": ("json", "https://:8080", "no valid host name"),
}


@pytest.mark.parametrize("case", list(BAD_BASES))
def test_a_bad_base_address_is_refused_naming_the_problem(case: str) -> None:
    transport, base, message = BAD_BASES[case]
    with pytest.raises(ConfigurationError, match=message) as info:
        build_config(transport, base, environ={})  # type: ignore[arg-type]
    assert "pw" not in str(info.value)


SECRET_BASES = [f"https://api.clarifai.com/?key={SECRET}", f"https://u:{SECRET}@api.clarifai.com",
                f"grpc://u:{SECRET}@127.0.0.1:1", f"grpcs://api.clarifai.com/x?k={SECRET}", f"https://h/#{SECRET}"]


@pytest.mark.parametrize("base", SECRET_BASES)
def test_a_secret_in_the_base_address_is_never_repeated(base: str) -> None:
    transport = "grpc" if base.startswith("grpc") else "json"
    with pytest.raises(ConfigurationError) as info:
        build_config(transport, base, environ={})  # type: ignore[arg-type]
    assert SECRET not in str(info.value) and "<redacted>" in str(info.value)


BAD_TOKENS = {"empty": "", "spaces": "   ", "inner space": "ab cd", "newline": "ab\ncd", "tab": "ab\tcd",
              "a control character": "ab\x01cd", "non-ASCII": "clé-secrète"}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_malformed_key_is_refused_without_echo(case: str) -> None:
    token = BAD_TOKENS[case]
    with pytest.raises(ConfigurationError, match="the pat") as info:
        build_config("grpc", pat=token, environ={})
    if token.strip():
        assert token.strip() not in str(info.value)


BAD_SETTINGS: dict[str, tuple[dict[str, Any], str]] = {
    "an unknown transport": ({"transport": "http"}, "transport must be 'grpc' or 'json'"),
    "an upper-case transport": ({"transport": "GRPC"}, "transport must be 'grpc' or 'json'"),
    "both pat and api_key": ({"pat": "a", "api_key": "b"}, "either pat or api_key"),
    "a missing CA file": ({"root_certificates": "/nonexistent/ca.pem"}, "cannot read root certificates"),
    "a CA for plaintext": ({"base": "grpc://localhost:1", "root_certificates": b"pem"}, "plaintext"),
    "plaintext credentials to a remote host": ({"base": "grpc://10.9.8.7:50051", "pat": SECRET}, "refusing to send credentials"),
    "plaintext credentials to a .localhost name": ({"base": "grpc://evil.localhost:50051", "pat": SECRET},
                                                   "refusing to send credentials"),
    "plaintext JSON credentials to a remote host": ({"transport": "json", "base": "http://example.com", "pat": SECRET},
                                                    "refusing to send credentials"),
    "an infinite timeout": ({"timeout": math.inf}, "timeout"),
    "a NaN timeout": ({"timeout": math.nan}, "timeout"),
    "a zero timeout": ({"timeout": 0}, "timeout"),
    "an upper-case metadata key": ({"metadata": [("X-Upper", "v")]}, "metadata key"),
    "a metadata key with a space": ({"metadata": [("bad key", "v")]}, "metadata key"),
}


@pytest.mark.parametrize("case", list(BAD_SETTINGS))
def test_bad_settings_are_refused(case: str) -> None:
    kwargs, message = BAD_SETTINGS[case]
    kwargs = dict(kwargs)
    transport = kwargs.pop("transport", "grpc")
    with pytest.raises(ConfigurationError, match=message) as info:
        build_config(transport, environ={}, **kwargs)
    assert SECRET not in str(info.value)


def test_the_client_refuses_bad_settings_before_connecting() -> None:
    with pytest.raises(ConfigurationError, match="refusing to send credentials"):
        Client("grpc", "grpc://10.9.8.7:50051", pat=SECRET, environ={})


BAD_RETRY: dict[str, dict[str, Any]] = {
    "an infinite max_backoff": {"max_backoff": math.inf},
    "a NaN initial_backoff": {"initial_backoff": math.nan},
    "an infinite reconnect_backoff": {"reconnect_backoff": math.inf},
}


@pytest.mark.parametrize("case", list(BAD_RETRY))
def test_a_bad_retry_policy_is_refused(case: str) -> None:
    name = next(iter(BAD_RETRY[case]))
    with pytest.raises(ConfigurationError, match=name):
        RetryPolicy(**BAD_RETRY[case])
