"""The gateway: one MCP server in front of many, every call through the interceptor chain.

Fronts (streamable HTTP, stdio) parse what a client sent, find or make its `Session`, and hand each
message to `Gateway.handle`, which returns the response text. Listings are aggregated by the
router; tools/call, prompts/get and resources/read become `ToolCall`s that pass the request-side
interceptors, are forwarded upstream (the client's params text edited only where namespacing,
the envelope or a `modify` verdict requires), pass the response-side interceptors, are audited,
and answered. Messages upstreams send on their own are routed here to the right sessions.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup, TaskStatus
from mcp_types import SERVER_INFO_META_KEY  # noqa: F401 - re-exported for fronts and tests
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION, MODERN_PROTOCOL_VERSIONS

from mcpwarden import __version__
from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.gateway.audit_events import AuditedSessionStore, audit_events, hidden_names
from mcpwarden.gateway.config import GatewayConfig
from mcpwarden.gateway.deps import GatewayDeps, labels_of
from mcpwarden.gateway.forwarding import forward_params, refusal_text
from mcpwarden.gateway.interceptors.scanning import ResultScanning
from mcpwarden.gateway.jsonrpc import (
    AUDIT_FAILED,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    REQUEST_CANCELLED,
    Message,
    ProtocolError,
    dumps,
    error_text,
    notification_text,
    result_text,
)
from mcpwarden.gateway.metrics import GatewayMetrics
from mcpwarden.gateway.pipeline import Interceptor, InterceptorContext, Pipeline, default_interceptors
from mcpwarden.gateway.pool import UpstreamPool
from mcpwarden.gateway.router import KINDS, LIST_CHANGED, ListKind, RouteError, Router
from mcpwarden.gateway.session import CLIENT_LINK, ClientLink, InFlight, Session, SessionStore
from mcpwarden.gateway.shaping import Shaper
from mcpwarden.gateway.telemetry import build_telemetry
from mcpwarden.gateway.upstream import Upstream, UpstreamError
from mcpwarden.types import CallAction, Principal, ToolCall, ToolDef, Verdict

log = logging.getLogger("mcpwarden.gateway")

Emit = Callable[[str], None]
Spawn = Callable[[Callable[[], Awaitable[None]]], None]
LOCAL_PRINCIPAL = Principal(id="local", kind="agent")
SERVER_INFO = {"name": "mcpwarden", "version": __version__}
CAPABILITIES = {
    "tools": {"listChanged": True},
    "prompts": {"listChanged": True},
    "resources": {"subscribe": True, "listChanged": True},
    "completions": {},
    "logging": {},
}
INSTRUCTIONS = "Tools are served through the mcpwarden security gateway; names are <server>__<tool>."
AUDIT_TIMEOUT_S = 10.0
HOUSEKEEPING_S = 30.0
_PROXIED: dict[str, CallAction] = {
    "tools/call": "call_tool",
    "prompts/get": "get_prompt",
    "resources/read": "read_resource",
}
_LISTS: dict[str, ListKind] = {info.method: kind for kind, info in KINDS.items()}


async def _logged(fn: Callable[[], Awaitable[None]]) -> None:
    try:
        await fn()
    except Exception:  # one request's writer failing must not end the gateway's task group
        log.exception("a gateway task failed")


def _release_freed_memory() -> None:
    """Give the C heap's free memory back to the system. Compiling the Hyperscan databases (when
    they are not cached yet) peaks at a few hundred MB, which glibc otherwise keeps mapped for the
    life of the process; trimming takes it back to what the databases use."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)


def _id_key(request_id: Any) -> str:
    """A request id as the key of the session's calls in flight (str of an int is its JSON)."""
    return str(request_id) if type(request_id) is int else dumps(request_id)


class Gateway:
    """The proxy core shared by both fronts."""

    def __init__(
        self,
        config: GatewayConfig,
        deps: GatewayDeps | None = None,
        *,
        interceptors: list[Interceptor] | None = None,
    ) -> None:
        self.config = config
        deps = deps or GatewayDeps()
        self.metrics = GatewayMetrics()
        limits = config.limits
        self.pool = UpstreamPool(
            config.upstreams,
            on_notification=self._upstream_notification,
            startup_timeout=limits.startup_timeout,
            max_message_bytes=limits.max_message_bytes,
        )
        self.router = Router(
            self.pool, separator=config.namespace_separator, namespaced=config.namespaced, timeout=limits.call_timeout
        )
        context = InterceptorContext(catalog=self.router, source=config.source, services=deps.services)
        chain = interceptors if interceptors is not None else default_interceptors(config, context, deps.factories)
        self.pipeline = Pipeline(chain, mode=config.mode)
        # Listings and session starts/ends are audited too when the sink takes plain entries.
        self.events = audit_events(deps.audit, timeout=AUDIT_TIMEOUT_S, on_failure=self.metrics.audit_failures.inc)
        self.sessions: SessionStore = AuditedSessionStore(
            self.events, max_sessions=limits.max_sessions, idle_timeout=limits.session_idle_timeout
        )
        self.telemetry = build_telemetry(config.telemetry)  # None unless OpenTelemetry is installed and on
        self.shaper = Shaper(SERVER_INFO)
        self.audit = deps.audit
        self.classify = deps.classify
        self._progress: dict[str, tuple[Session, Any, Emit | None]] = {}
        self._label_cache: dict[tuple[str, str], tuple[ToolDef, frozenset[str]]] = {}
        self._progress_seq = 0
        self._tasks: TaskGroup | None = None
        self._preparing: anyio.Event | None = None  # set while the detection engine's databases load
        self.detection_ready = False  # the databases are loaded (`/healthz` says so)
        self._children: dict[tuple[Any, ...], Any] = {}  # labelled metric children, looked up once

    # --- lifetime and identity

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run the upstream pool and housekeeping until cancelled."""
        async with anyio.create_task_group() as tg:
            self._preparing = anyio.Event()
            tg.start_soon(self._prepare_detection)
            await tg.start(self.pool.run)
            if self.events is not None:
                tg.start_soon(self.events.run, self.sessions)
            tg.start_soon(self._housekeeping)
            self._tasks = tg
            try:
                task_status.started()
                await anyio.sleep_forever()
            finally:
                self._tasks = None

    async def _prepare_detection(self) -> None:
        """Load (or, the first time, compile) the detection engine's databases in a thread while the
        gateway starts serving: proxied calls wait for them (`_ready`), so none pays for them and the
        event loop never blocks on a compile."""
        try:
            await anyio.to_thread.run_sync(self._prepare_engines, abandon_on_cancel=True)
        except Exception:
            log.exception("preparing the detection engine failed; it is built on first use")
        finally:
            ready, self._preparing = self._preparing, None
            self.detection_ready = True
            if ready is not None:
                ready.set()

    def _prepare_engines(self) -> None:
        for interceptor in self.pipeline.interceptors:
            if isinstance(interceptor, ResultScanning):
                interceptor.engine.prepare()
        _release_freed_memory()

    async def _ready(self) -> None:
        preparing = self._preparing
        if preparing is not None:
            with anyio.move_on_after(self.config.limits.call_timeout):  # then it is built on first use
                await preparing.wait()

    @property
    def running(self) -> bool:
        """Whether `run` is serving (and `spawn` can start tasks)."""
        return self._tasks is not None

    def spawn(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Run `fn` as a task of the gateway's own (a request's SSE writer); its errors are logged."""
        if self._tasks is None:
            raise RuntimeError("the gateway is not running")
        self._tasks.start_soon(_logged, fn)

    async def _housekeeping(self) -> None:
        while True:
            await anyio.sleep(HOUSEKEEPING_S)
            self.sessions.reap()
            self.refresh_gauges()

    def refresh_gauges(self) -> None:
        self.metrics.sessions.set(len(self.sessions))
        for upstream in self.pool:
            self.metrics.upstream_up.labels(upstream.name).set(1 if upstream.ready else 0)
            self.metrics.restarts.labels(upstream.name).set(upstream.restarts)

    def authenticate(self, key: str | None) -> Principal | None:
        """The principal for a presented API key.

        With neither API-key clients nor OAuth configured every caller is local; with OAuth only, no
        key matches (tokens are checked by the HTTP front's resource server).
        """
        if not self.config.authenticated:
            return LOCAL_PRINCIPAL
        if not key:
            return None
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        found = None
        for client in self.config.clients:  # compare with every key: timing does not tell which matched
            if hmac.compare_digest(digest, client.key_digest):
                found = client.principal
        return found

    # --- sessions

    def open_session(self, principal: Principal, message: Message) -> tuple[Session, str]:
        """Answer a 2025-era `initialize` by opening a session; returns it and the response text."""
        params = message.params or {}
        requested = params.get("protocolVersion")
        version = requested if requested in HANDSHAKE_PROTOCOL_VERSIONS else LATEST_HANDSHAKE_VERSION
        client_info = params.get("clientInfo")
        info: dict[str, Any] = client_info if isinstance(client_info, dict) else {}
        declared = params.get("capabilities")
        session = self.sessions.create(principal, version, info, declared if isinstance(declared, dict) else None)
        self.metrics.sessions.set(len(self.sessions))
        if self.events is not None:
            self.events.session_started(session)
        if self.telemetry is not None:
            self.telemetry.initialized(session)
        result = {
            "protocolVersion": version,
            "capabilities": CAPABILITIES,
            "serverInfo": SERVER_INFO,
            "instructions": INSTRUCTIONS,
        }
        return session, result_text(message.id_text or "null", dumps(result))

    def modern_session(self, principal: Principal, version: str, client_info: Any) -> Session:
        """The throwaway session of one stateless (2026-07-28) request."""
        info = client_info if isinstance(client_info, dict) else {}
        return Session(None, principal, "modern", version, info)

    # --- dispatch

    async def handle(self, session: Session, message: Message, emit: Emit | None = None) -> str | None:
        """Process one client message; the response text for a request, None otherwise."""
        if self.telemetry is not None:
            return await self.telemetry.traced(session, message, self._dispatch(session, message, emit))
        return await self._dispatch(session, message, emit)

    async def _dispatch(self, session: Session, message: Message, emit: Emit | None) -> str | None:
        if message.is_notification:
            self._client_notification(session, message)
            return None
        if not message.is_request:
            session.deliver(message)  # a response to a request the gateway sent (elicitation); unknown ids ignored
            return None
        method = message.method or ""
        try:
            if method in _PROXIED:
                return await self._proxied(session, message, emit, _PROXIED[method])
            if method in _LISTS:
                return await self._listing(session, message, method)
            if method == "ping" and session.era == "legacy":
                return result_text(message.id_text or "null", "{}")
            if method == "server/discover" and session.era == "modern":
                result = {"supportedVersions": list(MODERN_PROTOCOL_VERSIONS), "capabilities": CAPABILITIES}
                return self._reply(session, message, method, {**result, "instructions": INSTRUCTIONS})
            if method == "initialize":
                raise ProtocolError(INVALID_REQUEST, "this session is already initialized")
            if method == "logging/setLevel":
                return self._reply(session, message, method, {})
            if method in ("resources/subscribe", "resources/unsubscribe"):
                return await self._subscription(session, message, method)
            if method == "completion/complete":
                return await self._completion(session, message)
            raise ProtocolError(METHOD_NOT_FOUND, f"Method not found: {method}")
        except ProtocolError as exc:
            self.metrics.protocol_errors.labels(str(exc.code)).inc()
            return error_text(message.id_text, exc.code, exc.message, exc.data)
        except RouteError as exc:
            return error_text(message.id_text, INVALID_PARAMS, str(exc))
        except UpstreamError as exc:
            return error_text(message.id_text, exc.code, exc.message)

    async def _listing(self, session: Session, message: Message, method: str) -> str:
        started = time.perf_counter()
        kind = _LISTS[method]
        listed = await self.router.aggregate(kind)
        items, notes = await self._visible(session, kind, listed)
        hidden = hidden_names(listed, items) if len(items) != len(listed) else ()
        if self.telemetry is not None:
            self.telemetry.listed(len(items), hidden)
        if self.events is not None and not await self.events.listing(
            session, method, len(items), hidden, started, notes
        ):
            withheld = "the audit record could not be written, so the listing is withheld"
            return error_text(message.id_text, AUDIT_FAILED, withheld)
        return self._reply(session, message, method, {KINDS[kind].key: items})

    async def _visible(
        self, session: Session, kind: ListKind, items: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], tuple[Verdict, ...]]:
        """The listing without what interceptors hide (quarantined, poisoned or rug-pulled tools and prompts),
        and the verdicts its audit record carries."""
        if kind not in ("tools", "prompts") or not self.pipeline.filters_listings:
            return items, ()
        definition_kind = KINDS[kind].definition
        found: list[tuple[dict[str, Any], ToolDef | None]] = []
        for item in items:
            split = self.router.split_name(str(item.get("name", "")))
            definition = self.router.definition(split[0], definition_kind, split[1]) if split else None
            found.append((item, definition))
        review = await self.pipeline.review([d for _, d in found if d is not None], session.principal)
        hidden = review.hidden
        return [item for item, d in found if d is None or (d.server, d.kind, d.name) not in hidden], review.verdicts

    def _reply(self, session: Session, message: Message, method: str, result: dict[str, Any]) -> str:
        return result_text(message.id_text or "null", self.shaper.from_dict(session.era, method, result))

    def _client_notification(self, session: Session, message: Message) -> None:
        if message.method == "notifications/cancelled":
            request_id = (message.params or {}).get("requestId")
            inflight = session.inflight.get(_id_key(request_id))
            if inflight is not None:
                inflight.upstream.cancel_soon(inflight.request_id, "cancelled by the client")
                if inflight.scope is not None:
                    inflight.scope.cancel()

    # --- proxied calls

    async def _resolve(self, action: CallAction, params: dict[str, Any]) -> tuple[Upstream, str, str, ToolDef | None]:
        """(upstream, public name, upstream name, definition) for a call's target."""
        key = "uri" if action == "read_resource" else "name"
        target = params.get(key)
        if not isinstance(target, str) or not target:
            raise ProtocolError(INVALID_PARAMS, f"params.{key} must be a non-empty string")
        if action == "read_resource":
            return await self.router.resolve_resource(target), target, target, None
        try:
            upstream, definition = await self.router.resolve("tool" if action == "call_tool" else "prompt", target)
        except RouteError:
            raise ProtocolError(
                INVALID_PARAMS, f"Unknown {'tool' if action == 'call_tool' else 'prompt'}: {target}"
            ) from None
        return upstream, target, definition.name, definition

    async def _proxied(self, session: Session, message: Message, emit: Emit | None, action: CallAction) -> str:
        if self._preparing is not None:
            await self._ready()
        started = time.perf_counter()
        id_text = message.id_text or "null"
        params = message.params or {}
        arguments = params.get("arguments", {})
        if not isinstance(arguments, dict):
            raise ProtocolError(INVALID_PARAMS, "params.arguments must be an object")
        upstream, public, upstream_name, definition = await self._resolve(action, params)
        call = ToolCall(
            id=secrets.token_hex(8),
            principal=session.principal,
            session_id=session.id,
            upstream=upstream.name,
            tool=public,
            upstream_tool=upstream_name,
            action=action,
            client=session.client_name,
            arguments=arguments,
            raw_request=message.text.encode("utf-8", "surrogatepass"),
            started_at=time.time(),
            labels=self._labels(definition),
        )
        metric_tool = public if action != "read_resource" else "(resource)"
        response, outcome = await self._serve(session, message, emit, call, upstream)
        if self.telemetry is not None:
            self.telemetry.call_done(call, outcome)
        call.timings["total"] = time.perf_counter() - started
        if not await self._audit(call):
            withheld = "the audit record could not be written, so the result is withheld"
            response, outcome = error_text(id_text, AUDIT_FAILED, withheld), "error"
        self._child(self.metrics.calls, upstream.name, metric_tool, outcome).inc()
        self._child(self.metrics.latency, upstream.name, metric_tool).observe(time.perf_counter() - started)
        return response

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, remembered (bounded by the tools the upstreams list)."""
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    async def _serve(
        self, session: Session, message: Message, emit: Emit | None, call: ToolCall, upstream: Upstream
    ) -> tuple[str, str]:
        method = message.method or ""
        id_text = message.id_text or "null"
        # The approval interceptor may ask this call's client (elicitation) when it declared it can answer.
        record = self.events.record if self.events is not None else None  # its answer is audited too
        link = CLIENT_LINK.set(ClientLink(session, emit, record)) if session.supports_elicitation else None
        try:
            outcome = await self.pipeline.on_request(call)
        finally:
            if link is not None:
                CLIENT_LINK.reset(link)
        if outcome.refusal is not None:
            return self._refusal(session, message, call, outcome.refusal), "denied"
        rename = call.upstream_tool if call.action != "read_resource" and call.upstream_tool != call.tool else None
        token = None
        params_text = self._forward_params(message, call, rename, outcome.modified)
        if isinstance(params_text, tuple):
            params_text, token, client_token = params_text
            self._progress[token] = (session, client_token, emit)
        rid = upstream.new_id()
        key = _id_key(message.id)
        inflight = InFlight(upstream, rid)
        session.inflight[key] = inflight
        started = time.perf_counter()
        try:
            with anyio.CancelScope() as scope:
                inflight.scope = scope
                reply = await upstream.request(
                    method, params_text, timeout=self.config.limits.call_timeout, request_id=rid
                )
            if scope.cancelled_caught:
                return error_text(id_text, REQUEST_CANCELLED, "the request was cancelled"), "cancelled"
        except UpstreamError as exc:
            call.verdicts.append(Verdict("deny", source="upstream", reasons=("upstream.error",), errors=(exc.message,)))
            return error_text(id_text, exc.code, exc.message), "error"
        finally:
            session.inflight.pop(key, None)
            if token is not None:
                self._progress.pop(token, None)
        call.timings["upstream"] = elapsed = time.perf_counter() - started
        self._child(self.metrics.upstream_latency, upstream.name).observe(elapsed)
        call.raw_response = reply.text.encode("utf-8", "surrogatepass")
        result = reply.members.get("result")
        if result is None or not isinstance(result.value, dict):
            if "error" in reply.members:
                return f'{{"jsonrpc":"2.0","id":{id_text},"error":{reply.span("error")}}}', "upstream_error"
            return error_text(id_text, INTERNAL_ERROR, f"upstream {upstream.name} sent an invalid response"), "error"
        call.result = result.value
        outcome = await self.pipeline.on_response(call)
        if outcome.refusal is not None:
            return self._refusal(session, message, call, outcome.refusal), "denied"
        if outcome.modified:
            return result_text(id_text, self.shaper.from_dict(session.era, method, call.result)), "modified"
        text = reply.text[result.start : result.end]
        return result_text(id_text, self.shaper.from_text(session.era, method, text, result.value)), "allowed"

    def _forward_params(
        self, message: Message, call: ToolCall, rename: str | None, modified: bool
    ) -> str | tuple[str, str, Any] | None:
        def new_token() -> str:
            self._progress_seq += 1
            return f"mw-{self._progress_seq}"

        return forward_params(message, call.arguments if modified else None, rename, new_token)

    def _refusal(self, session: Session, message: Message, call: ToolCall, verdict: Verdict) -> str:
        for reason in verdict.reasons or (verdict.source,):
            self.metrics.denials.labels(verdict.source, reason).inc()
        return refusal_text(self.shaper, session, message, call, verdict)

    def _labels(self, definition: ToolDef | None) -> frozenset[str]:
        if self.classify is None or definition is None:
            return frozenset()
        key = (definition.server, definition.name)
        cached = self._label_cache.get(key)
        if cached is not None and cached[0] is definition:  # the same listing: the same labels
            return cached[1]
        try:
            labels = labels_of(self.classify(definition))
        except Exception:
            log.exception("capability classification failed for %s/%s", definition.server, definition.name)
            labels = frozenset()
        self._label_cache[key] = (definition, labels)
        return labels

    async def _audit(self, call: ToolCall) -> bool:
        """Record the call; False (and the call's result withheld) when the record could not be written."""
        if self.audit is None:
            return True
        try:
            with anyio.fail_after(AUDIT_TIMEOUT_S):
                if self.events is not None and self.events.pending:
                    await self.events.flush()  # the session's start goes in the chain before its calls
                await self.audit.append(call)
        except Exception as exc:
            log.error(
                "audit append failed; the call is refused", extra={"fields": {"call": call.id, "error": repr(exc)}}
            )
            self.metrics.audit_failures.inc()
            return False
        return True

    # --- other routed requests

    async def _subscription(self, session: Session, message: Message, method: str) -> str:
        uri = (message.params or {}).get("uri")
        if not isinstance(uri, str):
            raise ProtocolError(INVALID_PARAMS, "params.uri must be a string")
        upstream = await self.router.resolve_resource(uri)
        reply = await upstream.request(method, dumps({"uri": uri}), timeout=self.config.limits.call_timeout)
        if "error" in reply.members:
            return f'{{"jsonrpc":"2.0","id":{message.id_text},"error":{reply.span("error")}}}'
        if method == "resources/subscribe":
            session.subscriptions.add(uri)
        else:
            session.subscriptions.discard(uri)
        return self._reply(session, message, method, {})

    async def _completion(self, session: Session, message: Message) -> str:
        params = dict(message.params or {})
        ref = params.get("ref")
        if not isinstance(ref, dict):
            raise ProtocolError(INVALID_PARAMS, "params.ref must be an object")
        if ref.get("type") == "ref/prompt":
            upstream, _, name, _ = await self._resolve("get_prompt", ref)
            params["ref"] = {**ref, "name": name}
        else:
            upstream = await self.router.resolve_resource(str(ref.get("uri", "")))
        params.pop("_meta", None)
        reply = await upstream.request("completion/complete", dumps(params), timeout=self.config.limits.call_timeout)
        result = reply.members.get("result")
        if result is None or not isinstance(result.value, dict):
            error = (
                reply.span("error")
                if "error" in reply.members
                else dumps({"code": INTERNAL_ERROR, "message": "invalid"})
            )
            return f'{{"jsonrpc":"2.0","id":{message.id_text},"error":{error}}}'
        return self._reply(session, message, "completion/complete", result.value)

    # --- messages from upstreams

    def _upstream_notification(self, upstream: str, message: Message) -> None:
        method = message.method or ""
        params = message.params or {}
        if method in LIST_CHANGED:
            self.router.invalidate(upstream, LIST_CHANGED[method])
            self._broadcast(notification_text(method, None))
        elif method == "notifications/progress":
            entry = self._progress.get(str(params.get("progressToken")))
            if entry is not None:
                session, client_token, emit = entry
                text = notification_text(method, dumps({**params, "progressToken": client_token}))
                if emit is not None:
                    emit(text)
                else:
                    session.push(text)
        elif method == "notifications/resources/updated":
            uri = params.get("uri")
            text = notification_text(method, dumps({"uri": uri}))
            for session in self.sessions:
                if uri in session.subscriptions:
                    session.push(text)
        elif method == "notifications/message":
            logger = f"{upstream}/{params['logger']}" if isinstance(params.get("logger"), str) else upstream
            self._broadcast(mask_secrets(notification_text(method, dumps({**params, "logger": logger}))))

    def _broadcast(self, text: str) -> None:
        for session in self.sessions:
            session.push(text)
