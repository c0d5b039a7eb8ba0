"""Who is calling: the ``authorization: Key <key>`` metadata checked against the configured keys.

Pure logic (no I/O). The outcomes follow what the service answers:

- no ``authorization`` entry, or one that is not ``Key <token>`` -> ``CONN_INVALID_REQUEST``
  ("Empty or malformed authorization header ..."), sent with HTTP 401 by the gateway;
- a well-formed key that is not configured -> ``CONN_KEY_NOT_FOUND`` ("API key not found");
- a key used on another user's resources -> ``CONN_KEY_INVALID`` (see :func:`resolve_user`).

The gRPC transport stays OK in every case: the failure is the response's ``status``. Keys are
never logged or echoed back; errors mention at most the key's length.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..proto.clarifai.api.status import status_code_pb2
from .statuses import ApiFailure

DEFAULT_USER_ID = "emulator-user"
DEFAULT_APP_ID = "main"
ME = "me"
# The public user and app that hold the built-in models, readable with any key.
PUBLIC_USER_ID = "clarifai"
PUBLIC_APP_ID = "main"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: the user its key belongs to."""

    user_id: str


class KeyRing:
    """The configured keys and the user each one belongs to."""

    def __init__(self, keys: Sequence[str] | Mapping[str, str]) -> None:
        if isinstance(keys, Mapping):
            pairs = dict(keys)
        else:
            pairs = {k: DEFAULT_USER_ID for k in keys}
        for key, user in pairs.items():
            if not key or any(c.isspace() for c in key):
                raise ValueError("an emulator key must be non-empty and contain no whitespace")
            if not user or user in (ME, PUBLIC_USER_ID):
                raise ValueError(f"user id {user!r} cannot own an emulator key")
        self._keys = pairs

    @property
    def users(self) -> list[str]:
        """Every user some key belongs to, in a stable order."""
        return sorted(set(self._keys.values()))

    def lookup(self, token: str) -> str | None:
        """The user of ``token``, compared in constant time; None when it is not configured."""
        found = None
        for key, user in self._keys.items():
            if hmac.compare_digest(key.encode(), token.encode()):
                found = user
        return found

    def __repr__(self) -> str:  # never show the keys themselves
        return f"KeyRing({len(self._keys)} keys)"


def authorization_value(metadata: Iterable[tuple[str, str | bytes]]) -> str | None:
    """The value of the ``authorization`` entry of gRPC metadata or HTTP headers, if any."""
    for key, value in metadata:
        if key.lower() == "authorization":
            return value.decode("latin-1") if isinstance(value, bytes) else value
    return None


def authenticate(metadata: Iterable[tuple[str, str | bytes]], keys: KeyRing) -> Principal:
    """The caller behind ``metadata``; raises :class:`ApiFailure` with the service's code otherwise."""
    header = authorization_value(metadata)
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "key" or not token:
        raise ApiFailure(
            status_code_pb2.CONN_INVALID_REQUEST,
            "Empty or malformed authorization header. Please provide an API key or session token "
            "as the 'authorization: Key <key>' metadata or header.",
            http_status=401,
        )
    user = keys.lookup(token)
    if user is None:
        raise ApiFailure(status_code_pb2.CONN_KEY_NOT_FOUND, f"invalid key (a key of {len(token)} characters is not configured)")
    return Principal(user)


def resolve_user(principal: Principal, requested: str) -> str:
    """The user id a request acts on: ``me`` or empty mean the caller; the public user is allowed."""
    if requested in ("", ME):
        return principal.user_id
    if requested in (principal.user_id, PUBLIC_USER_ID):
        return requested
    raise ApiFailure(status_code_pb2.CONN_KEY_INVALID, f"the key does not give access to user {requested!r}")
