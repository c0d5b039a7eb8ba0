"""Base-address parsing, environment fallbacks and the plaintext-credentials guard (no network)."""

from __future__ import annotations

import pytest

from clarifai_grpc_client import ConfigurationError, Credentials, build_config, parse_base
from clarifai_grpc_client._config import Target

SECRET = "tok-abcdef-123456"


@pytest.mark.parametrize(
    "value, transport, expected",
    [
        ("api.clarifai.com", "grpc", Target("grpc", True, "api.clarifai.com", 443)),
        ("api.clarifai.com:443", "grpc", Target("grpc", True, "api.clarifai.com", 443)),
        ("grpcs://onprem.example:8443", "grpc", Target("grpc", True, "onprem.example", 8443)),
        ("grpc://localhost:18080", "grpc", Target("grpc", False, "localhost", 18080)),
        ("grpc://[::1]:50051", "grpc", Target("grpc", False, "[::1]", 50051)),
        ("https://api.clarifai.com", "json", Target("json", True, "api.clarifai.com", 443)),
        ("https://api.clarifai.com/v2/", "json", Target("json", True, "api.clarifai.com", 443)),
        ("api.clarifai.com", "json", Target("json", True, "api.clarifai.com", 443)),
        ("http://127.0.0.1:8080/proxy", "json", Target("json", False, "127.0.0.1", 8080, "/proxy")),
    ],
)
def test_parse_base_accepts_documented_forms(value: str, transport: str, expected: Target) -> None:
    assert parse_base(value, transport) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value, transport, message",
    [
        ("", "grpc", "empty"),
        ("api clarifai.com", "grpc", "whitespace"),
        ("http://api.clarifai.com", "grpc", "scheme http://"),
        ("grpc://api.clarifai.com", "grpc", "explicit port"),
        ("api.clarifai.com:99999", "grpc", "malformed"),
        ("api.clarifai.com:port", "grpc", "malformed"),
        ("grpcs://api.clarifai.com/v2", "grpc", "must not have a path"),
        ("ftp://x", "json", "scheme ftp://"),
        ("https://user:pw@api.clarifai.com", "json", "carries credentials"),
        ("https://api.clarifai.com/?a=b", "json", "query"),
        ("https://bad_host!/", "json", "host"),
    ],
)
def test_parse_base_rejects_malformed_addresses(value: str, transport: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        parse_base(value, transport)  # type: ignore[arg-type]
    assert "pw" not in str(info.value)


def test_environment_is_read_when_building_not_at_import() -> None:
    env = {"CLARIFAI_PAT": SECRET, "CLARIFAI_GRPC_BASE": "grpc://127.0.0.1:5000", "CLARIFAI_API_BASE": "http://localhost:8080"}
    grpc_cfg = build_config("grpc", environ=env)
    json_cfg = build_config("json", environ=env)
    assert str(grpc_cfg.target) == "grpc://127.0.0.1:5000"
    assert json_cfg.target.base_url == "http://localhost:8080"
    assert grpc_cfg.credentials == Credentials(SECRET)
    explicit = build_config("grpc", "api.clarifai.com", pat="other-token", environ=env)
    assert explicit.credentials == Credentials("other-token") and explicit.target.secure


def test_plaintext_credentials_to_a_remote_host_need_an_opt_in() -> None:
    with pytest.raises(ConfigurationError, match="plaintext") as info:
        build_config("grpc", "grpc://10.1.2.3:18080", pat=SECRET, environ={})
    assert SECRET not in str(info.value)
    with pytest.raises(ConfigurationError, match="plaintext"):
        build_config("json", "http://onprem.example", api_key=SECRET, environ={})
    assert build_config("grpc", "grpc://10.1.2.3:18080", pat=SECRET, allow_plaintext_credentials=True, environ={})
    assert build_config("grpc", "grpc://127.0.0.1:18080", pat=SECRET, environ={})
    assert build_config("grpc", "grpc://10.1.2.3:18080", environ={})  # no credentials, nothing to leak


def test_insecure_flag_makes_a_bare_host_plaintext() -> None:
    cfg = build_config("grpc", "localhost:18080", insecure=True, environ={})
    assert not cfg.target.secure and cfg.target.port == 18080


@pytest.mark.parametrize("token", ["", "   ", "has space", "new\nline", "tab\tbed"])
def test_bad_tokens_are_refused_without_echo(token: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Credentials(token)
    if token.strip():
        assert token.strip() not in str(info.value)


def test_credentials_never_show_the_token() -> None:
    creds = Credentials(SECRET, "api_key")
    cfg = build_config("grpc", pat=SECRET, environ={})
    for text in (repr(creds), str(creds), repr(cfg), str(cfg), f"{creds}"):
        assert SECRET not in text
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(creds)


def test_config_is_immutable_with_copies() -> None:
    cfg = build_config("grpc", environ={})
    shorter = cfg.with_timeout(5)
    assert cfg.timeout == 60 and shorter.timeout == 5
    with pytest.raises(Exception):
        cfg.timeout = 1  # type: ignore[misc]
    with pytest.raises(ConfigurationError, match="timeout"):
        cfg.with_timeout(0)
    with pytest.raises(ConfigurationError, match="metadata key"):
        cfg.with_metadata([("X-Upper", "v")])


def test_root_certificates_path_errors_are_clear(tmp_path: object) -> None:
    with pytest.raises(ConfigurationError, match="cannot read root certificates"):
        build_config("grpc", root_certificates="/nonexistent/ca.pem", environ={})
    with pytest.raises(ConfigurationError, match="plaintext"):
        build_config("grpc", "grpc://localhost:1", root_certificates=b"pem", environ={})


LEAKY = "s3cr3t-Value-42"


@pytest.mark.parametrize(
    "value, transport",
    [
        (f"https://api.clarifai.com/?api_key={LEAKY}", "json"),
        (f"https://api.clarifai.com/v2?key={LEAKY}&x=1", "json"),
        (f"https://api.clarifai.com/#{LEAKY}", "json"),
        (f"https://user:{LEAKY}@api.clarifai.com", "json"),
        (f"http://user:{LEAKY}@10.0.0.1:8080", "json"),
        (f"https://{LEAKY}@api.clarifai.com/?k={LEAKY}", "json"),
        (f"https://bad_host!/?k={LEAKY}", "json"),
        (f"https://api.clarifai.com/?k={LEAKY} x", "json"),
        (f"grpc://user:{LEAKY}@127.0.0.1:50051", "grpc"),
        (f"{LEAKY}@api.clarifai.com:443", "grpc"),
        (f"grpcs://api.clarifai.com/v2?key={LEAKY}", "grpc"),
        (f"grpc://api.clarifai.com?key={LEAKY}", "grpc"),
        (f"grpcs://api.clarifai.com:443?key={LEAKY}", "grpc"),
        (f"http://api.clarifai.com/?key={LEAKY}", "grpc"),
        (f"grpcs://user:{LEAKY}@api.clarifai.com:99999", "grpc"),
    ],
)
def test_configuration_errors_never_repeat_secrets_of_the_address(value: str, transport: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        build_config(transport, value, environ={})  # type: ignore[arg-type]
    assert LEAKY not in str(info.value) and LEAKY not in repr(info.value)
    assert "base address" in str(info.value)


@pytest.mark.parametrize("host", ["evil.localhost", "localhost.evil.example", "a.b.localhost", "127.0.0.1.nip.io",
                                  "10.0.0.1", "[::2]", "1password.example",
                                  "localhost.", "loopback", "ip6-localhost"])
def test_only_localhost_and_loopback_literals_count_as_loopback(host: str) -> None:
    for transport, base in (("grpc", f"grpc://{host}:50051"), ("json", f"http://{host}:8080")):
        with pytest.raises(ConfigurationError, match="refusing to send credentials in plaintext"):
            build_config(transport, base, pat=SECRET, environ={})  # type: ignore[arg-type]


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "[::1]"])
def test_localhost_and_loopback_literals_may_take_plaintext_credentials(host: str) -> None:
    for transport, base in (("grpc", f"grpc://{host}:50051"), ("json", f"http://{host}:8080")):
        assert build_config(transport, base, pat=SECRET, environ={}).target.is_loopback  # type: ignore[arg-type]
