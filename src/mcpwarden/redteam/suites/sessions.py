"""Session attacks (streamable HTTP only): the quality of session ids, sessions that survive DELETE,
and sessions usable without the token or with another principal's token."""

from __future__ import annotations

import time

from mcpwarden.redteam.attack import Context
from mcpwarden.redteam.oracles import session_id_entropy_bits, weak_session_ids
from mcpwarden.redteam.session import McpSession
from mcpwarden.redteam.suites.auth import bearer, test_tokens, without_credentials
from mcpwarden.redteam.suites.transport import observe
from mcpwarden.types import Severity

SESSION_SAMPLES = 10


def _auth_headers(ctx: Context) -> dict[str, str | None]:
    """Principal A's credentials: the configured headers, or a minted valid token."""
    token = bearer(ctx)
    if token is None or any(k.lower() == "authorization" for k in ctx.target.headers):
        return {}
    return {"Authorization": f"Bearer {token}"}


async def _open(ctx: Context) -> McpSession | None:
    session = McpSession(ctx.http_wire(), ctx.ids)
    await session.initialize(headers=_auth_headers(ctx))
    return session if session.session_id else None


class SessionIds:
    id = "session.ids"
    suite = "session"
    rule_ids = ("MW740",)
    sends = f"{SESSION_SAMPLES} initialize requests (each session is ended again with DELETE)"
    judged_by = "uniqueness, visible-ASCII charset, sequence or clock patterns, and an entropy estimate ≥ 128 bits"
    transports = frozenset({"http"})

    async def run(self, ctx: Context) -> None:
        ids: list[str] = []
        started = time.time()
        with ctx.probe(self.id):
            for _ in range(SESSION_SAMPLES):
                session = await _open(ctx)
                if session is None or session.session_id is None:
                    break
                ids.append(session.session_id)
                await session.wire.send(
                    None, method="DELETE", headers={**session.session_headers(), **_auth_headers(ctx)}
                )
        if len(ids) < 2:
            ctx.mark(
                self.id, "inconclusive", "the server issues no session ids (stateless) or refused to open sessions"
            )
            return
        observation = {"ids": ids, "started_at": started}
        proof = weak_session_ids(observation)
        patterned = proof is not None and any(w in proof for w in ("repeated", "sequential", "clock", "ASCII"))
        weak = patterned or session_id_entropy_bits(ids) < 64
        ctx.judge(
            self.id,
            "MW740",
            observation,
            request=f"{len(ids)} × POST initialize → Mcp-Session-Id",
            pointer="/headers/Mcp-Session-Id",
            severity=Severity.HIGH if weak else Severity.LOW,
        )


class TerminatedSession:
    id = "session.terminated"
    suite = "session"
    rule_ids = ("MW741",)
    sends = "DELETE of an open session, then tools/list with its id"
    judged_by = "a JSON-RPC result for the deleted session (when the DELETE was accepted)"
    transports = frozenset({"http"})

    async def run(self, ctx: Context) -> None:
        with ctx.probe(self.id):
            session = await _open(ctx)
            if session is None:
                ctx.mark(self.id, "inconclusive", "no session id to terminate")
                return
            headers = {**session.session_headers(), **_auth_headers(ctx)}
            deleted = await session.wire.send(None, method="DELETE", headers=headers)
            if deleted.status is None or deleted.status >= 300:
                ctx.mark(self.id, "inconclusive", f"DELETE answered HTTP {deleted.status}: sessions cannot be ended")
                return
            exchange, _ = await session.request("tools/list", headers=_auth_headers(ctx))
        ctx.judge(
            self.id,
            "MW741",
            observe(exchange, "tools/list on a deleted session"),
            request="DELETE (session), then POST tools/list with the same Mcp-Session-Id",
            pointer="/headers/Mcp-Session-Id",
        )


class SessionWithoutToken:
    id = "session.without_token"
    suite = "session"
    rule_ids = ("MW742", "MW743")
    sends = "tools/list with an open session's id but no token, then with another principal's token"
    judged_by = "a JSON-RPC result for either"
    transports = frozenset({"http"})

    async def run(self, ctx: Context) -> None:
        if bearer(ctx) is None:
            ctx.mark(self.id, "skipped", "needs a token (--token, or --signing-key to mint one)")
            return
        with ctx.probe(self.id):
            session = await _open(ctx)
            if session is None:
                ctx.mark(self.id, "inconclusive", "no session id")
                return
            exchange, _ = await session.request(
                "tools/list", headers=without_credentials(ctx) | {"Authorization": None}
            )
        ctx.judge(
            self.id,
            "MW742",
            observe(exchange, "tools/list with the session id and no token"),
            request="POST tools/list with Mcp-Session-Id and no Authorization",
            pointer="/headers/Authorization",
        )
        tokens = test_tokens(ctx)
        other = ctx.options.other_token or (tokens.other_principal if tokens else None)
        key = f"{self.id}:other_principal"
        if other is None:
            ctx.mark(key, "skipped", "needs --other-token or --signing-key")
        else:
            ctx.transcript.masker.add([other])
            with ctx.probe(key):
                headers = without_credentials(ctx) | {"Authorization": f"Bearer {other}"}
                exchange, _ = await session.request("tools/list", headers=headers)
            ctx.judge(
                key,
                "MW743",
                observe(exchange, "tools/list with the session id and another principal's token"),
                request="POST tools/list with Mcp-Session-Id and another principal's token",
                pointer="/headers/Authorization",
            )
        with ctx.probe(self.id):
            await session.wire.send(None, method="DELETE", headers={**session.session_headers(), **_auth_headers(ctx)})
