"""Auth attacks (streamable HTTP only): no credentials, the 401 challenge and RFC 9728 metadata
(judged by parsing; authorization-server URLs are never fetched), a token in the query string, and,
with a signing key, expired, wrong-audience, `alg: none` and badly signed tokens."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from mcp_types import CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY
from mcp_types.version import LATEST_MODERN_VERSION

from mcpwarden.redteam.attack import Context
from mcpwarden.redteam.oracles import accepted
from mcpwarden.redteam.params import parameters
from mcpwarden.redteam.session import CLIENT_INFO, McpSession
from mcpwarden.redteam.suites.transport import host_is_local, host_is_loopback, observe
from mcpwarden.redteam.tokens import TestTokens
from mcpwarden.redteam.wire import Exchange
from mcpwarden.types import Severity

_METADATA_PARAM = re.compile(r'resource_metadata="([^"]+)"')


def without_credentials(ctx: Context) -> dict[str, str | None]:
    """Headers that drop every configured header (tokens, API keys) from a request."""
    return dict.fromkeys(ctx.target.headers)


def bearer(ctx: Context) -> str | None:
    """Principal A's token: the configured bearer token, else a minted valid one."""
    for key, value in ctx.target.headers.items():
        if key.lower() == "authorization" and value.lower().startswith("bearer "):
            return value[7:].strip()
    tokens = test_tokens(ctx)
    return tokens.valid if tokens else None


def test_tokens(ctx: Context) -> TestTokens | None:
    """Tokens minted from `--signing-key` by the runner, or None without a key."""
    tokens = ctx.state.get("tokens")
    return tokens if isinstance(tokens, TestTokens) else None


async def initialize_as(ctx: Context, headers: dict[str, str | None], url: str | None = None) -> Exchange:
    """A fresh session's initialize with `headers`; the session is ended again if it was opened."""
    session = McpSession(ctx.http_wire(), ctx.ids)
    exchange = await session.initialize(headers=headers, url=url)
    if session.session_id:
        await session.wire.send(None, method="DELETE", headers={**session.session_headers(), **headers}, url=url)
    return exchange


# The transport probes that, when they all held, leave a loopback server reachable by local processes only.
_LOCAL_ONLY_PROBES = ("transport.origin", "transport.host")
_LOCAL_ONLY = (
    "Low here: the server is on loopback, refused a foreign Origin and a rebinding Host, and answers on no "
    "other address, so only processes on this machine (of any user) can use it."
)
_LOOPBACK_AS = "Low here: the server itself is on loopback, so clients following it stay on their own machine."


def no_credentials_severity(url: str, outcomes: Mapping[str, str]) -> Severity | None:
    """How much an unauthenticated server exposes (None: the rule's medium).

    High beyond this machine. On loopback it is low once this run proved the browser paths closed (a
    foreign `Origin` and a rebinding `Host` were refused) and that the server answers on no other
    address of the machine (or the machine has none): then only local processes reach it, the trust a
    stdio server has. Medium when any of that is unproven (`--suite auth` alone, or a probe failed).
    """
    if not host_is_local(url):
        return Severity.HIGH
    if not host_is_loopback(url):
        return None
    held = all(outcomes.get(key) == "held" for key in _LOCAL_ONLY_PROBES)
    return Severity.LOW if held and outcomes.get("transport.bind") in ("held", "inconclusive") else None


def authorization_server_severity(url: str, servers: Sequence[Any]) -> Severity | None:
    """Low when a loopback server names only loopback authorization servers (None: the rule's medium).

    A client already talking to a loopback server reaches nothing new on the same machine's loopback,
    and plain http there never leaves it (OAuth 2.1 allows http for loopback for the same reason).
    Anything private or link-local, or a loopback one behind a non-loopback server, keeps its severity.
    """
    local = host_is_loopback(url) and bool(servers)
    return Severity.LOW if local and all(host_is_loopback(str(s)) for s in servers) else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def metadata_urls(url: str, challenge: str | None) -> list[str]:
    """Where the protected-resource metadata should be: the challenge's URL (same origin only), then
    the RFC 9728 well-known locations on the server's own origin."""
    urls = []
    if challenge and (found := _METADATA_PARAM.search(challenge)) and _origin(found.group(1)) == _origin(url):
        urls.append(found.group(1))
    path = urlsplit(url).path.rstrip("/")
    urls += [
        f"{_origin(url)}/.well-known/oauth-protected-resource{path}",
        f"{_origin(url)}/.well-known/oauth-protected-resource",
    ]
    return list(dict.fromkeys(urls))


def _benign_call(ctx: Context) -> tuple[str, dict[str, Any], str | None]:
    """A harmless `tools/call` (a safe tool, parameterless if there is one); `tools/list` when none is safe."""
    tools = sorted(ctx.safe_tools, key=lambda tool: any(p.required for p in parameters(tool)))
    if not tools:
        return "tools/list", {}, None
    return "tools/call", {"name": tools[0].name, "arguments": ctx.benign_arguments(tools[0])}, tools[0].name


class NoCredentials:
    id = "auth.no_credentials"
    suite = "auth"
    rule_ids = ("MW750", "MW751", "MW752", "MW753", "MW754")
    sends = (
        "initialize without any configured header; if refused, a stateless tools/call without credentials "
        "(2025-era: no session id; 2026-era: per-request envelope); then GETs the server's own RFC 9728 metadata"
    )
    judged_by = "a JSON-RPC result without credentials; else the 401 challenge and the metadata document, by parsing"
    transports = frozenset({"http"})

    async def run(self, ctx: Context) -> None:
        url = ctx.target.url or ""
        with ctx.probe(self.id):
            exchange = await initialize_as(ctx, without_credentials(ctx))
        severity = no_credentials_severity(url, ctx.outcomes)
        if ctx.judge(
            self.id,
            "MW750",
            observe(exchange, "initialize without a token"),
            request="POST initialize without credentials",
            pointer="/headers/Authorization",
            severity=severity,
            detail=_LOCAL_ONLY if severity is Severity.LOW else None,
        ):
            ctx.state["open"] = True
            return
        # Refused, so the challenge and metadata below are judged too, even when a call that skipped
        # `initialize` got through.
        await self._stateless_calls(ctx, severity)
        ctx.state["auth_required"] = exchange.status in (401, 403)
        challenge = exchange.header("www-authenticate")
        ctx.judge(
            f"{self.id}:challenge",
            "MW751",
            {"status": exchange.status, "www_authenticate": challenge},
            request="POST initialize without credentials",
            pointer="/headers/WWW-Authenticate",
        )
        if exchange.status != 401:
            return
        metadata: Any = None
        tried = metadata_urls(url, challenge)
        with ctx.probe(f"{self.id}:metadata"):
            for candidate in tried:
                answer = await ctx.http_wire().send(
                    None,
                    method="GET",
                    url=candidate,
                    headers={**without_credentials(ctx), "Accept": "application/json"},
                )
                if answer.status == 200:
                    try:
                        metadata = json.loads(answer.body)
                    except ValueError:
                        metadata = "not JSON"
                    break
        ctx.state["metadata"] = metadata
        ctx.judge(
            f"{self.id}:metadata",
            "MW752",
            {"metadata": metadata, "tried": ", ".join(tried)},
            request=f"GET {tried[0]}",
            pointer="/.well-known/oauth-protected-resource",
        )
        if isinstance(metadata, dict):
            ctx.judge(
                f"{self.id}:resource",
                "MW753",
                {"resource": metadata.get("resource"), "url": url},
                request=f"GET {tried[0]}",
                pointer="/resource",
            )
            servers = metadata.get("authorization_servers")
            servers = servers if isinstance(servers, list) else []
            severity = authorization_server_severity(url, servers)
            ctx.judge(
                f"{self.id}:authorization_servers",
                "MW754",
                {"authorization_servers": servers},
                request=f"GET {tried[0]}",
                pointer="/authorization_servers",
                severity=severity,
                detail=_LOOPBACK_AS if severity is Severity.LOW else None,
            )

    async def _stateless_calls(self, ctx: Context, severity: Severity | None) -> None:
        """A server that checks the token only on `initialize` answers calls that skip it: send one of
        each protocol era without credentials."""
        method, params, name = _benign_call(ctx)
        version = (await ctx.session()).protocol_version
        modern_meta = {
            PROTOCOL_VERSION_META_KEY: LATEST_MODERN_VERSION,
            CLIENT_CAPABILITIES_META_KEY: {},
            CLIENT_INFO_META_KEY: CLIENT_INFO,
        }
        routing = {"Mcp-Method": method, **({"Mcp-Name": name} if name else {})}
        variants: tuple[tuple[str, dict[str, Any], dict[str, str | None], str], ...] = (
            ("tools_call", params, {"MCP-Protocol-Version": version}, "no Mcp-Session-Id"),
            (
                "tools_call_modern",
                {**params, "_meta": modern_meta},
                {"MCP-Protocol-Version": LATEST_MODERN_VERSION, **routing},
                f"MCP-Protocol-Version: {LATEST_MODERN_VERSION}, per-request envelope",
            ),
        )
        for suffix, body, headers, how in variants:
            key = f"{self.id}:{suffix}"
            with ctx.probe(key):
                exchange, _ = await ctx.fresh_session().request(
                    method, body, headers={**without_credentials(ctx), **headers}
                )
            target = f" {name}" if name else ""
            ctx.judge(
                key,
                "MW750",
                observe(exchange, f"{method}{target} without a token or an initialized session"),
                request=f"POST {method}{target} without credentials ({how})",
                pointer="/headers/Authorization",
                severity=severity,
                detail=_LOCAL_ONLY if severity is Severity.LOW else None,
            )


class QueryToken:
    id = "auth.query_token"
    suite = "auth"
    rule_ids = ("MW755",)
    sends = "initialize without the Authorization header but with `?access_token=<token>`"
    judged_by = "a JSON-RPC result (when the same request without a token was refused)"
    transports = frozenset({"http"})

    async def run(self, ctx: Context) -> None:
        token = bearer(ctx)
        if not ctx.state.get("auth_required") or token is None:
            ctx.mark(self.id, "skipped", "needs a server that refuses requests without a token, and a token")
            return
        url = ctx.target.url or ""
        joined = f"{url}{'&' if '?' in url else '?'}{urlencode({'access_token': token})}"
        with ctx.probe(self.id):
            exchange = await initialize_as(ctx, without_credentials(ctx), url=joined)
        ctx.judge(
            self.id,
            "MW755",
            observe(exchange, "initialize with ?access_token="),
            request="POST initialize?access_token=«token» without Authorization",
            pointer="/query/access_token",
        )


class ForgedTokens:
    id = "auth.jwt"
    suite = "auth"
    rule_ids = ("MW756", "MW757", "MW758", "MW759")
    sends = (
        "initialize with tokens minted from --signing-key: valid (baseline), expired, other audience, alg none, "
        "signed by another key"
    )
    judged_by = "a JSON-RPC result for a token that must be refused (only when the valid token is accepted)"
    transports = frozenset({"http"})

    async def run(self, ctx: Context) -> None:
        tokens = test_tokens(ctx)
        if tokens is None:
            ctx.mark(self.id, "skipped", "needs --signing-key")
            return
        strip = without_credentials(ctx)
        with ctx.probe(f"{self.id}:baseline"):
            baseline = await initialize_as(ctx, {**strip, "Authorization": f"Bearer {tokens.valid}"})
        if not accepted(observe(baseline, "the valid test token")):
            ctx.mark(
                f"{self.id}:baseline", "inconclusive", f"the valid test token was refused (HTTP {baseline.status})"
            )
            return
        ctx.state["jwt_baseline"] = True
        cases = (
            ("expired", "MW756", tokens.expired),
            ("wrong_audience", "MW757", tokens.wrong_audience),
            ("alg_none", "MW758", tokens.alg_none),
            ("bad_signature", "MW759", tokens.bad_signature),
        )
        for name, rule_id, token in cases:
            key = f"{self.id}:{name}"
            with ctx.probe(key):
                exchange = await initialize_as(ctx, {**strip, "Authorization": f"Bearer {token}"})
            ctx.judge(
                key,
                rule_id,
                observe(exchange, f"initialize with a token that is {name.replace('_', ' ')}"),
                request=f"POST initialize, Authorization: Bearer «{name} token»",
                pointer="/headers/Authorization",
            )
