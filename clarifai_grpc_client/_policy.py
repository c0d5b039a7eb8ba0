"""The call policy: what every call gets, whatever its transport and shape.

One :class:`Policy` per channel or client, built from its :class:`~._config.ChannelConfig`,
wraps a transport's exchange (:mod:`._transports`) with the request type check, metadata,
the deadline, the retry loop (:mod:`._retry`), observation (DEBUG log lines and observers)
and, for the client's calls, status checks and typed errors. The raw stub on our channels goes
through the same policy with ``checked=False``: responses come back whatever their status and
failures are raised as the ``grpc.RpcError`` they were.

Streams (server streaming and bidirectional):

- the whole-call deadline is ``stream_timeout`` (600 s unless configured: sized for
  generation), overridable per call; ``idle_timeout`` optionally bounds the wait between
  two messages;
- a stream is retried (same rules as unary calls) only before its first message arrives,
  including when that first message carries a retryable status such as ``MODEL_LOADING``;
  after that a failure raises a :class:`~._errors.StreamInterrupted` carrying the number of
  messages delivered, so no message is ever delivered twice;
- a bidirectional call is retried only while nothing has been taken from the caller's
  request iterator, or when the requests are a re-iterable sequence (list, tuple); an
  exception raised by the caller's iterator, or a request of the wrong type, cancels the call
  and is raised to the caller, never swallowed;
- ``close()``, breaking out of the loop (the stream is dropped) or cancelling the task
  cancels the call on the wire.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from ._calls import Metadata, Method, check_timeout
from ._config import AttemptScope, CallEvent, ChannelConfig, check_metadata
from ._errors import (
    ApiError,
    ClarifaiError,
    RequestTypeError,
    from_rpc_error,
    from_status,
    size_limit,
    stream_interrupted,
    transport_error,
)
from ._idempotency import is_idempotent
from ._retry import Attempted, Outcome, RetryPolicy, RetryState, pushback_from_grpc, run, run_async
from ._status import SUCCESS, code_name
from ._transports import IdleTimeout

logger = logging.getLogger("clarifai_grpc_client")

R = TypeVar("R", bound=Message)
Md = tuple[tuple[str, "str | bytes"], ...]

# gRPC's wording when a call failed before anything was sent: the channel has no connection.
_NOT_SENT = ("failed to connect to all addresses", "connections to all backends failing", "DNS resolution failed",
             "Connection refused", "empty address list")
# ... and when the TLS handshake failed (a plaintext server, an untrusted certificate): waiting does not help.
_TLS_FAILED = ("handshake failed", "SSL_ERROR_SSL", "CERTIFICATE_VERIFY_FAILED", "WRONG_VERSION_NUMBER")
_EMPTY: dict[str, Any] = {}


def outcome_of(err: BaseException) -> Outcome:
    """What a failed exchange means to the retry decision (the JSON transports attach it)."""
    found = getattr(err, "outcome", None)
    if isinstance(found, Outcome):
        return found
    if isinstance(err, IdleTimeout):
        return Outcome(grpc_code=grpc.StatusCode.DEADLINE_EXCEEDED, permanent=True)
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    details = (err.details() if hasattr(err, "details") else "") or ""
    trailing = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    permanent = (code == grpc.StatusCode.RESOURCE_EXHAUSTED and size_limit(details) is not None) or (
        code == grpc.StatusCode.UNAVAILABLE and any(text in details for text in _TLS_FAILED))
    not_sent = code == grpc.StatusCode.UNAVAILABLE and any(text in details for text in _NOT_SENT)
    return Outcome(grpc_code=code, pushback=pushback_from_grpc(trailing), permanent=permanent, not_sent=not_sent)


def not_connected(method: str, timeout: float | None, err: BaseException) -> ApiError:
    """The DeadlineExceeded for a call that could not reach the server before its deadline."""
    details = err.details() if not isinstance(err, ApiError) and hasattr(err, "details") else str(err)
    return transport_error(f"{method}: could not connect within the {timeout:g} s deadline (last: {details})",
                           method=method, http_status=504)


def idle_error(method: str, idle: float, delivered: int) -> ApiError:
    """The DeadlineExceeded for a stream that went quiet (also a ``grpc.RpcError``)."""
    return transport_error(f"{method}: no message for {idle:g} s (idle timeout) after {delivered} messages",
                           method=method, http_status=504)


class Policy:
    """A channel's or client's per-call behaviour, precomputed from its config."""

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        self.base_metadata: Md = tuple(config.call_metadata(None))
        self.retry = config.retry
        self.timeout = config.timeout
        self.stream_timeout = config.stream_timeout
        self.idle_timeout = config.stream_idle_timeout

    # --- pure parts -------------------------------------------------------------------

    def metadata(self, extra: Metadata | None) -> Md:
        """The call's metadata: the channel's, precomputed, unless the caller adds some (checked first)."""
        if not extra:
            return self.base_metadata
        own = tuple(extra)
        check_metadata(own)
        return tuple(self.config.call_metadata(own))

    @staticmethod
    def deadline(timeout: float | None, default: float | None) -> float | None:
        """The call's overall deadline: the caller's if given (validated), else the default."""
        return default if timeout is None else check_timeout(timeout)

    @staticmethod
    def retryable_status(response: Any, retry: RetryPolicy) -> Outcome | None:
        """An Outcome when a response's Clarifai status asks for a retry, else None."""
        status = getattr(response, "status", None)
        if status is not None and status.code in retry.retry_status_codes:
            return Outcome(status_code=status.code)
        return None

    @staticmethod
    def checked(method: Method[Any, Any], response: Any) -> Any:
        """``response`` when its status is SUCCESS (or absent), else the typed error for it."""
        status = getattr(response, "status", None)
        if status is not None and status.code != SUCCESS:
            raise from_status(status, method=method.name, response=response)
        return response

    def observing(self) -> bool:
        """Whether attempts are reported (observers, or DEBUG logging)."""
        return bool(self.config.observers or self.config.tracers) or logger.isEnabledFor(logging.DEBUG)

    def begin(self, name: str, attempt: int, metadata: Md, scopes: list[AttemptScope]) -> Md:
        """Start one attempt for the tracers (into ``scopes``): ``metadata`` plus what they add,
        for keys not already set."""
        scopes.clear()
        extra: list[tuple[str, str]] = []
        for tracer in self.config.tracers:
            try:
                scope = tracer.begin_attempt(name, attempt, self.config)
            except Exception:  # a tracer must never break a call
                logger.exception("call tracer %r failed", tracer)
                continue
            scopes.append(scope)
            try:
                pairs = tuple(scope.metadata)
                check_metadata(pairs)
            except Exception:  # names the key, never the value
                logger.exception("call tracer %r gave metadata that cannot be sent", tracer)
                continue
            extra.extend(pairs)
        if not extra:
            return metadata
        keys = {k for k, _ in metadata}
        return metadata + tuple(kv for kv in extra if kv[0] not in keys)

    def _state(self, method: Method[Any, Any], request: Any, timeout: float | None, retry: RetryPolicy,
               started: float | None = None, idempotent: bool | None = None) -> RetryState:
        if idempotent is None:
            idempotent = is_idempotent(method.name, request)
        return RetryState(retry, idempotent=idempotent, timeout=timeout, started=started)

    # --- unary, sync and asyncio ------------------------------------------------------

    def unary(self, exchange: Callable[..., Any], method: Method[Any, Any], request: Any, timeout: float | None = None,
              metadata: Metadata | None = None, retry: RetryPolicy | None = None, checked: bool = False,
              kwargs: dict[str, Any] = _EMPTY, pick: Callable[[Any], Any] | None = None) -> Any:
        """One unary call through ``exchange`` under the policy."""
        method.check(request)
        md = self.metadata(metadata)
        deadline = self.deadline(timeout, self.timeout)
        policy = retry or self.retry
        scopes: list[AttemptScope] = []

        def attempt(remaining: float | None) -> Attempted[Any]:
            started = time.perf_counter()
            sent = self.begin(method.name, state.attempts, md, scopes) if self.config.tracers else md
            try:
                value = exchange(request, timeout=remaining, metadata=sent, **kwargs)
            except grpc.RpcError as err:
                return Attempted(error=err, outcome=outcome_of(err), duration=time.perf_counter() - started)
            response = value if pick is None else pick(value)
            return Attempted(value=value, outcome=self.retryable_status(response, policy),
                             duration=time.perf_counter() - started, response=response)

        if self.observing():
            state = self._state(method, request, deadline, policy)
            result = run(state, attempt, self._observer(method, scopes))
        else:
            # The common case inline: one attempt, no result object on success.
            started = time.monotonic()
            try:
                value = exchange(request, timeout=deadline, metadata=md, **kwargs)
            except grpc.RpcError as err:
                first: Attempted[Any] = Attempted(error=err, outcome=outcome_of(err))
            else:
                response = value if pick is None else pick(value)
                outcome = self.retryable_status(response, policy)
                if outcome is None:
                    if checked:
                        self.checked(method, response)
                    return value
                first = Attempted(value=value, outcome=outcome, response=response)
            state = self._state(method, request, deadline, policy, started)
            state.attempts = 1
            result = run(state, attempt, first=first)
        return self._result(method, result, checked, state)

    async def aunary(self, exchange: Callable[..., Any], method: Method[Any, Any], request: Any,
                     timeout: float | None = None, metadata: Metadata | None = None, retry: RetryPolicy | None = None,
                     checked: bool = False, kwargs: dict[str, Any] = _EMPTY) -> Any:
        """The ``asyncio`` twin of :meth:`unary`."""
        method.check(request)
        md = self.metadata(metadata)
        deadline = self.deadline(timeout, self.timeout)
        policy = retry or self.retry
        scopes: list[AttemptScope] = []

        async def attempt(remaining: float | None) -> Attempted[Any]:
            started = time.perf_counter()
            sent = self.begin(method.name, state.attempts, md, scopes) if self.config.tracers else md
            try:
                response = await exchange(request, timeout=remaining, metadata=sent, **kwargs)
            except grpc.RpcError as err:
                return Attempted(error=err, outcome=outcome_of(err), duration=time.perf_counter() - started)
            return Attempted(value=response, outcome=self.retryable_status(response, policy),
                             duration=time.perf_counter() - started, response=response)

        if self.observing():
            state = self._state(method, request, deadline, policy)
            result = await run_async(state, attempt, self._observer(method, scopes))
        else:
            started = time.monotonic()
            try:
                response = await exchange(request, timeout=deadline, metadata=md, **kwargs)
            except grpc.RpcError as err:
                first: Attempted[Any] = Attempted(error=err, outcome=outcome_of(err))
            else:
                outcome = self.retryable_status(response, policy)
                if outcome is None:
                    return self.checked(method, response) if checked else response
                first = Attempted(value=response, outcome=outcome, response=response)
            state = self._state(method, request, deadline, policy, started)
            state.attempts = 1
            result = await run_async(state, attempt, first=first)
        return self._result(method, result, checked, state)

    def _result(self, method: Method[Any, Any], result: Attempted[Any], checked: bool, state: RetryState) -> Any:
        if result.error is not None and result.outcome is not None and result.outcome.not_sent and state.out_of_time():
            result.error = not_connected(method.name, state.timeout, result.error)
        if not checked:
            return result.unwrap()
        if result.error is not None:
            err = result.error
            raise (from_rpc_error(err, method=method.name) if isinstance(err, grpc.RpcError) else err) from None
        self.checked(method, result.response)
        return result.value

    def client_stream(self, exchange: Callable[..., Any], method: Method[Any, Any], requests: Iterable[Any],
                      timeout: float | None = None, metadata: Metadata | None = None,
                      retry: RetryPolicy | None = None, checked: bool = False,
                      kwargs: dict[str, Any] = _EMPTY) -> Any:
        """A client-streaming call: retried only while the requests can be sent again."""
        source = RequestSource(method, requests)

        def send(_: Any, **kw: Any) -> Any:
            try:
                return exchange(source.iterator(), **kw)
            except grpc.RpcError as err:
                raise _settle(source, err) from None

        return self.unary(send, _AnyRequest(method), None, timeout, metadata, retry, checked, kwargs)

    async def aclient_stream(self, exchange: Callable[..., Any], method: Method[Any, Any], requests: Any,
                             timeout: float | None = None, metadata: Metadata | None = None,
                             retry: RetryPolicy | None = None, checked: bool = False,
                             kwargs: dict[str, Any] = _EMPTY) -> Any:
        """The ``asyncio`` twin of :meth:`client_stream`."""
        source = RequestSource(method, requests)

        async def send(_: Any, **kw: Any) -> Any:
            try:
                return await exchange(source.aiterator(), **kw)
            except grpc.RpcError as err:
                raise _settle(source, err) from None

        return await self.aunary(send, _AnyRequest(method), None, timeout, metadata, retry, checked, kwargs)

    # --- streams ----------------------------------------------------------------------

    def server_stream(self, opener: Callable[..., Any], method: Method[Any, R], request: Any,
                      timeout: float | None = None, metadata: Metadata | None = None,
                      retry: RetryPolicy | None = None, checked: bool = False, idle_timeout: float | None = None,
                      kwargs: dict[str, Any] = _EMPTY) -> ResponseStream[R]:
        method.check(request)
        core = self._core(method, request, None, timeout, metadata, retry, checked, idle_timeout)
        return ResponseStream(core, opener, request, kwargs)

    def bidi(self, opener: Callable[..., Any], method: Method[Any, R], requests: Iterable[Any],
             timeout: float | None = None, metadata: Metadata | None = None, retry: RetryPolicy | None = None,
             checked: bool = False, idle_timeout: float | None = None,
             kwargs: dict[str, Any] = _EMPTY) -> ResponseStream[R]:
        source = RequestSource(method, requests)
        core = self._core(method, None, source, timeout, metadata, retry, checked, idle_timeout)
        return ResponseStream(core, opener, None, kwargs)

    def aserver_stream(self, opener: Callable[..., Any], method: Method[Any, R], request: Any,
                       timeout: float | None = None, metadata: Metadata | None = None,
                       retry: RetryPolicy | None = None, checked: bool = False, idle_timeout: float | None = None,
                       kwargs: dict[str, Any] = _EMPTY) -> AsyncResponseStream[R]:
        method.check(request)
        core = self._core(method, request, None, timeout, metadata, retry, checked, idle_timeout)
        return AsyncResponseStream(core, opener, request, kwargs)

    def abidi(self, opener: Callable[..., Any], method: Method[Any, R], requests: Any,
              timeout: float | None = None, metadata: Metadata | None = None, retry: RetryPolicy | None = None,
              checked: bool = False, idle_timeout: float | None = None,
              kwargs: dict[str, Any] = _EMPTY) -> AsyncResponseStream[R]:
        source = RequestSource(method, requests)
        core = self._core(method, None, source, timeout, metadata, retry, checked, idle_timeout)
        return AsyncResponseStream(core, opener, None, kwargs)

    def _core(self, method: Method[Any, Any], request: Any, source: RequestSource | None, timeout: float | None,
              metadata: Metadata | None, retry: RetryPolicy | None, checked: bool,
              idle_timeout: float | None) -> StreamCore:
        deadline = self.deadline(timeout, self.stream_timeout)
        idle = self.idle_timeout if idle_timeout is None else check_timeout(idle_timeout, "idle_timeout")
        state = self._state(method, request, deadline, retry or self.retry)
        return StreamCore(self, method, state, self.metadata(metadata), idle, checked, source)

    # --- observation ------------------------------------------------------------------

    def _observer(self, method: Method[Any, Any],
                  scopes: Sequence[AttemptScope] = ()) -> Callable[[int, Attempted[Any], float | None], None]:
        def observe(attempt: int, result: Attempted[Any], delay: float | None) -> None:
            self.report(method.name, attempt, result, delay is not None, scopes)

        return observe

    def report(self, name: str, attempt: int, result: Attempted[Any], will_retry: bool,
               scopes: Sequence[AttemptScope] = ()) -> CallEvent | None:
        """Log one attempt at DEBUG (never metadata or payloads), hand it to the observers and end
        the tracers' ``scopes`` of the attempt with it; the event, when anyone takes it."""
        outcome, response = result.outcome, result.response
        status = getattr(getattr(response, "status", None), "code", None)
        grpc_code = outcome.grpc_code.name if outcome is not None and outcome.grpc_code is not None else ""
        if outcome is not None and not grpc_code:
            if outcome.http_status:
                grpc_code = f"HTTP {outcome.http_status}"
            elif outcome.connection_failed:
                grpc_code = "UNAVAILABLE"
        if status:
            status_name = code_name(status)
        elif outcome is not None and outcome.status_code:
            status_name = code_name(outcome.status_code)
        else:
            status_name = ""
        config = self.config
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s %s attempt=%d %.1fms grpc=%s status=%s%s",
                config.transport, name, config.target, attempt, result.duration * 1000, grpc_code or "OK",
                status_name or "-", " retrying" if will_retry else "",
            )
        if not (config.observers or config.tracers):
            return None
        event = CallEvent(
            method=name, target=str(config.target), transport=config.transport, attempt=attempt,
            duration=result.duration, grpc_code=grpc_code or "OK", status_code=status_name, will_retry=will_retry,
        )
        for observer in config.observers:
            try:
                observer(event)
            except Exception:  # an observer must never break a call
                logger.exception("call observer %r failed", observer)
        end_scopes(scopes, event)
        return event


def end_scopes(scopes: Sequence[AttemptScope], event: CallEvent) -> None:
    """End each tracer's scope of one attempt; a failing tracer is logged, never raised."""
    for scope in scopes:
        try:
            scope.end(event)
        except Exception:
            logger.exception("call tracer scope %r failed", scope)


class _AnyRequest(Method[Any, Any]):
    """A client-streaming method seen by the unary loop: its requests are checked one by one."""

    def __init__(self, method: Method[Any, Any]) -> None:
        super().__init__(method.path, method.request_type, method.response_type, method.shape, method.http_rule,
                         method.serializer, method.deserializer)

    def check(self, request: object) -> None:
        return None


def _settle(source: RequestSource, err: grpc.RpcError) -> BaseException:
    """The error of a failed client-streaming attempt: the caller's own error if its iterator
    failed, else ``err``, marked final when its requests cannot be sent again."""
    if source.error is not None:
        return source.error
    if not source.can_replay():
        err.outcome = dataclasses.replace(outcome_of(err), permanent=True)  # type: ignore[attr-defined]
    return err


def _not_replayable(method: Method[Any, Any], source: RequestSource) -> ClarifaiError:
    return ClarifaiError(f"{method.name}: not retried: {source.taken} requests were already taken from the iterator")


class RequestSource:
    """The caller's requests for a streaming call: counted, type-checked, replayed only when safe.

    ``taken`` counts the requests handed to the transport in the current attempt. A sequence
    (list, tuple) is read afresh for each attempt; any other iterable is read once, so an
    attempt can only be repeated while nothing was ever pulled from it.
    """

    def __init__(self, method: Method[Any, Any], requests: Any) -> None:
        if isinstance(requests, Message) or requests is None or isinstance(requests, (str, bytes)):
            raise RequestTypeError(method.name, f"iterable of {method.request_type.DESCRIPTOR.full_name}", requests)
        self.method = method
        self.requests = requests
        self.replayable = isinstance(requests, Sequence)
        self._iter: Any = None
        self.pulled = False
        self.taken = 0
        self.error: BaseException | None = None
        self.abort: Callable[[], None] | None = None

    def can_replay(self) -> bool:
        return self.error is None and (self.replayable or not self.pulled)

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        if self.abort is not None:
            self.abort()

    def iterator(self) -> Iterator[Any]:
        """The requests for one sync attempt."""
        self.taken = 0
        if self.replayable:
            it: Iterator[Any] = iter(self.requests)
        else:
            if self._iter is None:
                self._iter = iter(self.requests)
            it = self._iter
        check = self.method.check

        def requests() -> Iterator[Any]:
            while True:
                self.pulled = True
                try:
                    request = next(it)
                    check(request)
                except StopIteration:
                    return
                except Exception as exc:  # the caller's iterator failed: cancel the call, raise it to the caller
                    self._fail(exc)
                    return
                self.taken += 1
                yield request

        return requests()

    def aiterator(self) -> Any:
        """The requests for one ``asyncio`` attempt (an async iterator when the caller gave one)."""
        if not isinstance(self.requests, AsyncIterable):
            return self.iterator()
        self.taken = 0
        if self._iter is None:
            self._iter = self.requests.__aiter__()
        it = self._iter
        check = self.method.check

        async def requests() -> AsyncIterator[Any]:
            while True:
                self.pulled = True
                try:
                    request = await it.__anext__()
                    check(request)
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    self._fail(exc)
                    return
                self.taken += 1
                yield request

        return requests()


class StreamCore:
    """The decisions of one stream, shared by the sync and ``asyncio`` readers (no I/O here)."""

    __slots__ = ("policy", "method", "state", "metadata", "idle", "checked", "source", "delivered", "_started",
                 "scopes", "_open")

    def __init__(self, policy: Policy, method: Method[Any, Any], state: RetryState, metadata: Md,
                 idle: float | None, checked: bool, source: RequestSource | None) -> None:
        self.policy, self.method, self.state, self.metadata = policy, method, state, metadata
        self.idle, self.checked, self.source = idle, checked, source
        self.delivered = 0
        self._started = 0.0
        self.scopes: list[AttemptScope] = []
        self._open: Attempted[Any] | None = None  # the outcome of a delivering attempt, reported when it ends

    def attempt_timeout(self) -> float | None:
        """Start an attempt: the time left of the whole-call deadline."""
        self._started = time.perf_counter()
        return self.state.start_attempt()

    def requests(self, sync: bool) -> Any:
        assert self.source is not None
        if not self.source.can_replay():
            raise self.source.error or _not_replayable(self.method, self.source)
        return self.source.iterator() if sync else self.source.aiterator()

    def attempt_metadata(self) -> Md:
        """The metadata of the attempt just started, with what the tracers add."""
        if not self.policy.config.tracers:
            return self.metadata
        return self.policy.begin(self.method.name, self.state.attempts, self.metadata, self.scopes)

    def _report(self, result: Attempted[Any], will_retry: bool) -> None:
        """Report an attempt that is over, once: to the log, the observers and its tracer scopes."""
        self._open = None
        if self.policy.observing():
            result.duration = time.perf_counter() - self._started
            scopes, self.scopes = self.scopes, []
            self.policy.report(self.method.name, self.state.attempts, result, will_retry, scopes)

    def finish(self) -> None:
        """Report the attempt still open when the stream ran to its end or was closed: with its first
        message's outcome once it delivered one, else (closed early) as CANCELLED."""
        if self._open is not None:
            self._report(self._open, False)
        elif self.scopes:
            self._report(Attempted(outcome=Outcome(grpc_code=grpc.StatusCode.CANCELLED)), False)

    def on_message(self, message: Any) -> float | None:
        """None to deliver ``message``; a wait in seconds to retry instead (only before the first)."""
        if self.delivered == 0:
            # The first message decides the attempt: retried, it ends here; else it goes on, and is
            # reported once when it ends (finish, or on_error after a failure mid-stream).
            outcome = Policy.retryable_status(message, self.state.policy)
            delay = self.state.next_delay(outcome) if outcome is not None and self._replayable() else None
            if delay is not None:
                self._report(Attempted(response=message, outcome=outcome), True)
                return delay
            self._open = Attempted(response=message, outcome=outcome)
        if self.checked:
            status = getattr(message, "status", None)
            if status is not None and status.code != SUCCESS:
                err = from_status(status, method=self.method.name, response=message)
                raise self._interrupted(err) if self.delivered else err
        self.delivered += 1
        return None

    def _replayable(self) -> bool:
        return self.source is None or self.source.can_replay()

    def on_error(self, err: BaseException) -> float:
        """A wait before retrying after ``err``; raises the error to give the caller when final."""
        source = self.source
        if source is not None and source.error is not None:
            raise source.error
        outcome = outcome_of(err)
        delay = None
        if self.delivered == 0 and self._replayable():
            delay = self.state.next_delay(outcome)
        self._report(Attempted(error=err, outcome=outcome), delay is not None)
        if delay is not None:
            return delay
        if outcome.not_sent and self.state.out_of_time():
            err = not_connected(self.method.name, self.state.timeout, err)
        raise self.final(err) from None

    def final(self, err: BaseException) -> BaseException:
        name = self.method.name
        if isinstance(err, IdleTimeout):
            err = idle_error(name, self.idle or 0.0, self.delivered)
        if not self.checked:
            return err
        typed = from_rpc_error(err, method=name) if isinstance(err, grpc.RpcError) else err
        if isinstance(typed, ApiError) and (self.delivered or (self.source is not None and self.source.taken)):
            return self._interrupted(typed)
        return typed

    def _interrupted(self, err: ApiError) -> ApiError:
        sent = self.source.taken if self.source is not None else None
        return stream_interrupted(err, delivered=self.delivered, requests_sent=sent)

    def on_end(self) -> None:
        if self.policy.observing() and self.delivered == 0:
            self._report(Attempted(), False)
        self.finish()


class _CallInfo:
    """``grpc.Call``-style accessors of the current attempt, for code written against the raw stub."""

    _inner: Any
    _last: Any = None
    _closed: bool

    def _open(self) -> Any:
        raise NotImplementedError

    def _call(self) -> Any:
        if self._inner is None and self._last is None and not self._closed:
            self._inner = self._open()  # starts the call, as the raw stub's call object would have
        call = getattr(self._inner or self._last, "call", None)
        if call is None:
            raise AttributeError("this stream has no gRPC call object (not started, or not a gRPC stream)")
        return call

    def code(self) -> Any:
        return self._call().code()

    def details(self) -> Any:
        return self._call().details()

    def initial_metadata(self) -> Any:
        return self._call().initial_metadata()

    def trailing_metadata(self) -> Any:
        return self._call().trailing_metadata()


class ResponseStream(_CallInfo, Iterator[R]):
    """The responses of a streaming call, in order; iterate it, and ``close()`` it to stop early.

    ``delivered`` counts the responses handed out. Used as a context manager it is closed
    (cancelled on the wire) on exit; dropping it mid-way cancels it too.
    """

    def __init__(self, core: StreamCore, opener: Callable[..., Any], request: Any, kwargs: dict[str, Any]) -> None:
        self._core = core
        self._opener = opener
        self._request = request
        self._kwargs = kwargs
        self._inner: Any = None
        self._closed = False

    @property
    def delivered(self) -> int:
        return self._core.delivered

    @property
    def requests_sent(self) -> int | None:
        source = self._core.source
        return None if source is None else source.taken

    def _open(self) -> Any:
        core = self._core
        timeout = core.attempt_timeout()
        first = self._request if core.source is None else core.requests(True)
        inner = self._last = self._opener(first, timeout, core.attempt_metadata(), **self._kwargs)
        if core.source is not None:
            core.source.abort = inner.cancel
        return inner

    def __iter__(self) -> ResponseStream[R]:
        return self

    def __next__(self) -> R:
        core = self._core
        while True:
            inner = self._inner
            if inner is None:
                if self._closed:
                    raise StopIteration
                inner = self._inner = self._open()
            try:
                message = inner.next(core.idle)
            except StopIteration:
                self._inner, self._closed = None, True
                source = core.source
                if source is not None and source.error is not None:
                    raise source.error from None
                core.on_end()
                raise
            except (grpc.RpcError, IdleTimeout) as err:
                self._inner = None
                inner.cancel()
                try:
                    wait = core.on_error(err)
                except BaseException:
                    self._closed = True
                    raise
                time.sleep(wait)
                continue
            try:
                delay = core.on_message(message)
            except BaseException:
                self.close()
                raise
            if delay is None:
                return message  # type: ignore[no-any-return,unused-ignore]
            self._inner = None
            inner.cancel()
            time.sleep(delay)

    def cancel(self) -> bool:
        """Stop the call on the wire; True when it was still running."""
        inner, self._inner = self._inner, None
        was_open = not self._closed
        self._closed = True
        if inner is not None:
            inner.cancel()
        self._core.finish()
        return was_open

    def close(self) -> None:
        self.cancel()

    def __enter__(self) -> ResponseStream[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if self._inner is not None:
            try:
                self._inner.cancel()
                self._core.finish()
            except Exception:
                pass

    def __repr__(self) -> str:
        return f"ResponseStream({self._core.method.name}, delivered={self.delivered})"


class AsyncResponseStream(_CallInfo, AsyncIterator[R]):
    """The ``asyncio`` twin of :class:`ResponseStream`: ``async for`` it, ``await aclose()`` it."""

    def __init__(self, core: StreamCore, opener: Callable[..., Any], request: Any, kwargs: dict[str, Any]) -> None:
        self._core = core
        self._opener = opener
        self._request = request
        self._kwargs = kwargs
        self._inner: Any = None
        self._closed = False

    @property
    def delivered(self) -> int:
        return self._core.delivered

    @property
    def requests_sent(self) -> int | None:
        source = self._core.source
        return None if source is None else source.taken

    def _open(self) -> Any:
        core = self._core
        timeout = core.attempt_timeout()
        first = self._request if core.source is None else core.requests(False)
        inner = self._last = self._opener(first, timeout, core.attempt_metadata(), **self._kwargs)
        if core.source is not None:
            core.source.abort = inner.cancel
        return inner

    def __aiter__(self) -> AsyncResponseStream[R]:
        return self

    async def __anext__(self) -> R:
        core = self._core
        while True:
            inner = self._inner
            if inner is None:
                if self._closed:
                    raise StopAsyncIteration
                inner = self._inner = self._open()
            try:
                message = await inner.next(core.idle)
            except StopAsyncIteration:
                self._inner, self._closed = None, True
                source = core.source
                if source is not None and source.error is not None:
                    raise source.error from None
                core.on_end()
                raise
            except (grpc.RpcError, IdleTimeout) as err:
                self._inner = None
                await inner.aclose()
                try:
                    wait = core.on_error(err)
                except BaseException:
                    self._closed = True
                    raise
                await asyncio.sleep(wait)
                continue
            except asyncio.CancelledError:
                self._inner, self._closed = None, True
                inner.cancel()
                core.finish()
                raise
            try:
                delay = core.on_message(message)
            except BaseException:
                await self.aclose()
                raise
            if delay is None:
                return message  # type: ignore[no-any-return,unused-ignore]
            self._inner = None
            await inner.aclose()
            await asyncio.sleep(delay)

    async def read(self) -> Any:
        """The next response, or ``grpc.aio.EOF`` at the end (as a ``grpc.aio`` stream call reads)."""
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            return grpc.aio.EOF

    def cancel(self) -> bool:
        """Stop the call on the wire; True when it was still running."""
        inner, self._inner = self._inner, None
        was_open = not self._closed
        self._closed = True
        if inner is not None:
            inner.cancel()
        self._core.finish()
        return was_open

    async def aclose(self) -> None:
        inner, self._inner = self._inner, None
        self._closed = True
        if inner is not None:
            await inner.aclose()
        self._core.finish()

    async def __aenter__(self) -> AsyncResponseStream[R]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        if self._inner is not None:
            try:
                self._inner.cancel()
                self._core.finish()
            except Exception:
                pass

    def __repr__(self) -> str:
        return f"AsyncResponseStream({self._core.method.name}, delivered={self.delivered})"

