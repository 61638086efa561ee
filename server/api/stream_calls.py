"""Server-streaming `backoffice.v1` methods (file downloads as HttpBody chunks):
the same call handling as the unary ones, spread over the stream.

`CallInterceptor` and `AuditInterceptor` hand their unary-stream methods to
the wrappers here:

- `wrap_call`: request id, authentication, guards, rate limit, scopes and
  validation run before the servicer, as for a unary call; then the
  servicer's first chunk is taken before anything is sent, so every
  refusal found up to there (an unknown format, an account the caller may
  not read) is an ordinary error (Trailers-Only: the REST envelope with its
  status). Only then the initial metadata (the call's facts, a file's
  `content-disposition`) and the chunks go out, one at a time: gRPC sends a
  chunk before asking for the next, so a slow reader holds the server to
  its pace and memory stays at one chunk. The call's clock scope and
  database connection stay open until the last chunk; an error after the
  first chunk ends the stream with its status (a REST client sees the
  response cut short). gRPC iterates a stream in the thread that started
  it, so the call's context variables hold throughout.
- At most a few streams run at once per process and per caller
  (server.api.stream_slots); one more answers 429 before any work.
- `wrap_audit`: one audit event when the stream ends (OK, the error code,
  or CANCELLED when the client went away).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import peewee

from server import logs, metrics
from server.api import audit_interceptor as audit
from server.api import authn, authz, call, guards, ratelimit, validation
from server.api import interceptors as unary
from server.api.stream_slots import StreamSlots
from server.config import Settings
from server.domain import audit as rules
from server.domain import errors
from server.store import audit as audit_store
from server.store import clock, db
from server.store.db import per_use_connection

log = logging.getLogger("server.rpc")
OUTCOME_CANCELLED = "CANCELLED"

Behavior = Callable[[Any, grpc.ServicerContext], Any]


def _bank_error(method: str, exc: Exception) -> errors.BankError:
    """What an exception of the servicer answers (the unary calls' mapping)."""
    if isinstance(exc, errors.BankError):
        return exc
    if isinstance(exc, NotImplementedError):
        return errors.NotImplementedYet(
            f"{method.rsplit('/', 1)[-1]} is not implemented yet", metadata={"method": method}
        )
    if isinstance(exc, (peewee.OperationalError, peewee.InterfaceError)):
        log.exception("database unavailable", extra={"method": method})
        db.mark_unreachable()
        return errors.Unavailable("The database is unavailable; retry")
    log.exception("unhandled error", extra={"method": method})
    return errors.InternalError()


def _admit(method: str, request: Any, context: grpc.ServicerContext, settings: Settings) -> None:
    """The unary calls' checks before the servicer runs (server.api.interceptors)."""
    principal = authn.authenticate(method, context, settings)
    call.current().principal = principal
    guards.check(method, request, principal, context, settings)
    ratelimit.check(method, principal, settings)
    authz.authorize(method, principal)
    validation.check(method, request, context.invocation_metadata() or ())


_stream_slots: StreamSlots | None = None
_stream_slots_lock = threading.Lock()


def _slots(settings: Settings) -> StreamSlots:
    """This process's stream slots (server.api.stream_slots)."""
    global _stream_slots  # noqa: PLW0603 (one per process, made on first use)
    with _stream_slots_lock:
        if _stream_slots is None:
            _stream_slots = StreamSlots(settings.worker_threads // 4)
        return _stream_slots


def _close(chunks: Iterator[Any] | None) -> None:
    """Closes a servicer's generator; a transaction it left open is rolled back."""
    close = getattr(chunks, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            log.exception("closing a stream's servicer failed")
    if db.database.in_transaction():
        log.error("a stream's servicer left a transaction open; rolling it back")
        with contextlib.suppress(Exception):
            db.database.rollback()


def _finished(method: str, outcome: str, chunks: int, elapsed: float) -> None:
    """The call's metrics and its log line."""
    metrics.call_finished(method, outcome, elapsed)
    log.info(
        "rpc",
        extra={
            "method": method,
            "outcome": outcome,
            "chunks": chunks,
            "duration_ms": round(elapsed * 1000, 2),
        },
    )


def wrap_call(method: str, behavior: Behavior, settings: Settings) -> Behavior:
    def handle(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        request_id = unary._request_id(context.invocation_metadata())
        token = call.begin(method, request_id)
        info = call.current()
        info.client_address, info.via_trusted_proxy = guards.caller_address(context, settings)
        log_token = logs.request_id_var.set(request_id)
        started = time.perf_counter()
        outcome = "OK"
        sent = 0
        scope = clock.call_scope()
        scope.__enter__()
        connection = per_use_connection()
        entered = False
        chunks: Iterator[Any] | None = None
        slot = contextlib.ExitStack()
        try:
            try:
                connection.__enter__()
                entered = True
                _admit(method, request, context, settings)
                principal = call.current().principal
                slot.enter_context(_slots(settings).held(principal.user_id or principal.client_id))
                chunks = iter(behavior(request, context))
                first = next(chunks, None)
                context.send_initial_metadata(call.current().initial_metadata())
                if first is not None:
                    sent += 1
                    yield first
                for chunk in chunks:
                    sent += 1
                    yield chunk
            except GeneratorExit:
                outcome = OUTCOME_CANCELLED
                raise
            except Exception as exc:
                raise _bank_error(method, exc) from None
        except errors.BankError as exc:
            outcome = exc.reason
            context.abort_with_status(unary._abort_status(exc, call.current()))
        finally:
            _finished(method, outcome, sent, time.perf_counter() - started)
            # The servicer's generator is closed here, on this thread, whatever
            # ended the call (a client gone before the first chunk included):
            # it may hold a read transaction on this thread's connection, which
            # must end before the connection goes back and the thread serves
            # its next call.
            _close(chunks)
            slot.close()
            if entered:
                with contextlib.suppress(Exception):  # the answer is already out
                    connection.__exit__(None, None, None)
            logs.request_id_var.reset(log_token)
            call.end(token)
            scope.__exit__(None, None, None)

    return handle


def wrap_audit(method: str, behavior: Behavior, settings: Settings) -> Behavior:
    def handle(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        if not audit_store.accepting():
            audit._refuse(method, request, context, settings)
        with call.observe() as seen:
            outcome = rules.OUTCOME_OK
            try:
                yield from behavior(request, context)
            except GeneratorExit:
                outcome = OUTCOME_CANCELLED
                raise
            except BaseException:
                outcome = audit._outcome(context)
                raise
            finally:
                info = seen[0] if seen else None
                audit._record(method, request, None, context, info, outcome, settings)

    return handle
