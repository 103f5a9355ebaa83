"""Oracles: pure judges of what a server answered to one probe.

Each oracle takes an *observation* (a plain mapping recorded by the attack: what was sent, what came
back) and returns the evidence that proves the weakness, or None when the server held. Pure and
deterministic, so the rule cases in `detect/rules/redteam.yaml` run through them unchanged, and a
replayed run re-judges recorded answers the same way. Texts are compared as the server sent them;
anything the probe itself sent is never taken as proof (a reflected payload proves nothing).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

from mcpwarden.detect.secrets import find_secrets

Observation = Mapping[str, Any]
Oracle = Callable[[Observation], str | None]

_CONTEXT = 80
# First lines of files every Unix (or Windows) host has, as a file read would return them.
_FILE_MARKERS = re.compile(r"root:[x*!]?:0:0:|\[(?:fonts|extensions)\]\s*(?:\\n|\n|;)|; for 16-bit app support")
_SQL_ERRORS = re.compile(
    r"sqlite3?\.OperationalError|unrecognized token|near \S+: syntax error|unterminated quoted string"
    r"|You have an error in your SQL syntax|SQLSTATE\[|\bORA-\d{5}\b|PG::SyntaxError|psycopg2?\.errors"
    r"|syntax error at or near|quoted string not properly terminated|SQLITE_ERROR|Unclosed quotation mark",
    re.IGNORECASE,
)
_STACK_TRACES = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|\n\s+at [\w.$<>]+ \([^)]*:\d+:\d+\)"
    r"|\n\s+at [\w.$]+\([\w]+\.java:\d+\)|goroutine \d+ \[running\]|panicked at '|\.rs:\d+:\d+",
)
_INTERNAL_PATHS = re.compile(
    r"(?:/(?:home|root|usr|opt|srv|var|app|tmp|work|Users)(?:/[\w.@+-]+)+\.(?:py|js|mjs|ts|go|rb|java|rs|php|cs))"
    r"|(?:[A-Za-z]:\\(?:[\w .-]+\\)+[\w .-]+\.(?:py|js|ts|cs|dll|exe))|site-packages/|node_modules/"
)


def _excerpt(text: str, start: int, end: int) -> str:
    lo, hi = max(0, start - _CONTEXT), min(len(text), end + _CONTEXT)
    return ("…" if lo else "") + text[lo:hi] + ("…" if hi < len(text) else "")


def _answer(obs: Observation) -> str:
    value = obs.get("answer", "")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _sent(obs: Observation) -> str:
    value = obs.get("sent", "")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def file_content(obs: Observation) -> str | None:
    """A traversal payload returned content of a well-known system file (`root:x:0:0` …)."""
    answer, sent = _answer(obs), _sent(obs)
    found = _FILE_MARKERS.search(answer)
    if found is None or found.group(0) in sent or found.group(0) in str(obs.get("baseline", "")):
        return None
    return _excerpt(answer, found.start(), found.end())


def canary_echo(obs: Observation) -> str | None:
    """The joined canary (which only a shell that ran our command can produce) is in the answer."""
    canary, answer = str(obs.get("canary", "")), _answer(obs)
    if len(canary) < 8 or canary in _sent(obs):
        return None
    at = answer.find(canary)
    return None if at < 0 else _excerpt(answer, at, at + len(canary))


def evaluated_product(obs: Observation) -> str | None:
    """The product of the two factors we sent appears: a template engine evaluated our expression."""
    product = str(obs.get("product", ""))
    answer = _answer(obs)
    if len(product) < 6 or product in _sent(obs) or product in str(obs.get("baseline", "")):
        return None
    found = re.search(rf"(?<!\d){re.escape(product)}(?!\d)", answer)
    return None if found is None else _excerpt(answer, found.start(), found.end())


def sql_error_or_boolean(obs: Observation) -> str | None:
    """Database error text caused by a quote, or a true/false condition pair that changes the answer."""
    answer = _answer(obs)
    found = _SQL_ERRORS.search(answer)
    if found and not _SQL_ERRORS.search(str(obs.get("baseline", ""))):
        return _excerpt(answer, found.start(), found.end())
    true_answer, false_answer = obs.get("true_answer"), obs.get("false_answer")
    if isinstance(true_answer, str) and isinstance(false_answer, str):
        baseline = str(obs.get("baseline", ""))
        if false_answer == baseline and true_answer != false_answer and len(true_answer) > len(false_answer):
            return f"true condition: {true_answer[:160]} | false condition: {false_answer[:160]}"
    return None


def canary_hit(obs: Observation) -> str | None:
    """The one-shot listener on 127.0.0.1 saw a request for the probe's secret path."""
    hits = obs.get("hits") or []
    token = str(obs.get("token", ""))
    for hit in hits:
        if token and token in str(hit):
            return f"the canary listener received: {hit}"
    return None


def _is_jsonrpc_error(message: Any) -> bool:
    if not isinstance(message, Mapping) or message.get("jsonrpc") != "2.0" or "result" in message:
        return False
    error = message.get("error")
    return isinstance(error, Mapping) and isinstance(error.get("code"), int) and isinstance(error.get("message"), str)


def _own_messages(obs: Observation) -> list[Any]:
    """The messages that may answer this probe: a late answer to an earlier request (its id is another
    one the run sent) is not about the probe. Observations without `ids` keep every message."""
    messages = list(obs.get("messages") or [])
    ids = obs.get("ids")
    if not isinstance(ids, list):
        return messages
    return [
        m
        for m in messages
        if not (isinstance(m, Mapping) and ("result" in m or "error" in m) and m.get("id") not in (None, *ids))
    ]


def improper_error(obs: Observation) -> str | None:
    """Invalid input was not answered with a JSON-RPC error object (no answer, a result, or garbage)."""
    if obs.get("dead"):
        return None  # a crash is its own finding
    messages = _own_messages(obs)
    status = obs.get("status")
    if any(_is_jsonrpc_error(m) for m in messages):
        return None
    if isinstance(status, int) and 400 <= status < 500 and not messages:
        return None  # HTTP refused it outright before JSON-RPC: also a proper refusal
    results = [m for m in messages if isinstance(m, Mapping) and "result" in m]
    if results:
        return f"answered with a result: {json.dumps(results[0], ensure_ascii=False)[:200]}"
    if status is not None and status >= 500:
        return f"HTTP {status}: {_answer(obs)[:200]}"
    return "no JSON-RPC error came back" + (f" (HTTP {status})" if status is not None else "")


def stopped_answering(obs: Observation) -> str | None:
    """After the probe, a follow-up request got no answer (the server crashed or hung)."""
    if not obs.get("dead"):
        return None
    return str(obs.get("detail") or "no answer to the follow-up request")


def error_leak(obs: Observation) -> str | None:
    """An error the server sent back holds a stack trace, an internal source path or a secret."""
    answer, sent = _answer(obs), _sent(obs)
    for pattern in (_STACK_TRACES, _INTERNAL_PATHS):
        for found in pattern.finditer(answer):
            if found.group(0) not in sent:
                return _excerpt(answer, found.start(), found.end())
    for secret in find_secrets(answer):
        if answer[secret.start : secret.end] not in sent:
            return f"{secret.label}: {secret.masked}"
    return None


def reflected_input(obs: Observation) -> str | None:
    """The marker text we sent comes back verbatim in what the model reads."""
    marker, answer = str(obs.get("marker", "")), _answer(obs)
    if len(marker) < 16:
        return None
    at = answer.find(marker)
    return None if at < 0 else _excerpt(answer, at, at + len(marker))


def secret_in_answer(obs: Observation) -> str | None:
    """A credential-shaped string in a tool result or error that the request did not carry."""
    answer, sent = _answer(obs), _sent(obs)
    for secret in find_secrets(answer):
        if answer[secret.start : secret.end] not in sent:
            return f"{secret.label}: {secret.masked}"
    return None


def engine_matches(obs: Observation) -> str | None:
    """The detection engine matched rules in a description or result (the attack passes its matches)."""
    matches = obs.get("matches") or []
    if not matches:
        return None
    return "; ".join(f"{m['rule']}: {m['evidence']}" for m in matches if isinstance(m, Mapping))


def accepted(obs: Observation) -> str | None:
    """The server answered a request it should have refused with a 2xx JSON-RPC result."""
    status = obs.get("status")
    if not isinstance(status, int) or not 200 <= status < 300:
        return None
    for message in obs.get("messages") or []:
        if isinstance(message, Mapping) and isinstance(message.get("result"), Mapping):
            return f"HTTP {status} with a JSON-RPC result for: {obs.get('what', 'the request')}"
    return None


def bound_everywhere(obs: Observation) -> str | None:
    """A server reached over loopback also answered on a non-loopback address of this machine."""
    reached = obs.get("reached") or []
    return f"also answers on {', '.join(str(r) for r in reached)}" if reached else None


_ID_CHARS = re.compile(r"^[\x21-\x7e]+$")


def _alphabet_bits(ids: list[str]) -> float:
    chars = set("".join(ids))
    if chars <= set("0123456789"):
        return 3.32
    if chars <= set("0123456789abcdef") or chars <= set("0123456789ABCDEF"):
        return 4.0
    if chars <= set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_=+/"):
        return 6.0
    return 6.5


def session_id_entropy_bits(ids: list[str]) -> float:
    """Entropy estimate: positions that vary across the samples times the bits of the alphabet used."""
    if len(ids) < 2:
        return 0.0
    width = max(len(i) for i in ids)
    varying = sum(1 for pos in range(width) if len({i[pos] if pos < len(i) else "" for i in ids}) > 1)
    return varying * _alphabet_bits(ids)


def _numbers(ids: list[str]) -> list[int] | None:
    values = []
    for value in ids:
        digits = re.sub(r"[^0-9a-fA-F]", "", value)
        if not digits:
            return None
        values.append(int(digits, 10) if digits.isdigit() else int(digits, 16))
    return values


def weak_session_ids(obs: Observation) -> str | None:
    """Session ids that repeat, use characters outside visible ASCII, or are predictable or short."""
    ids = [str(i) for i in obs.get("ids") or []]
    if len(ids) < 2:
        return None
    problems: list[str] = []
    if len(set(ids)) < len(ids):
        problems.append(f"{len(ids) - len(set(ids))} repeated")
    if not all(_ID_CHARS.match(i) for i in ids):
        problems.append("characters outside visible ASCII (0x21-0x7E)")
    numbers = _numbers(ids)
    if numbers is not None and len(set(numbers)) == len(numbers):
        steps = {b - a for a, b in pairwise(numbers)}
        if len(steps) == 1 or max(abs(s) for s in steps) < 2**20:
            problems.append(f"sequential (steps {sorted(steps)[:3]})")
        started = obs.get("started_at")
        if isinstance(started, int | float):
            for scale in (1, 1000, 1_000_000, 1_000_000_000):
                if all(abs(n - started * scale) < 3600 * scale for n in numbers):
                    problems.append("derived from the clock")
                    break
    bits = session_id_entropy_bits(ids)
    if bits < 128:
        problems.append(f"about {bits:.0f} bits of entropy (want at least 128)")
    if not problems:
        return None
    return f"{'; '.join(problems)}; samples: {', '.join(ids[:4])}"


_PRIVATE_NAMES = ("localhost", "localhost.localdomain", "metadata.google.internal")


def risky_authorization_servers(obs: Observation) -> str | None:
    """Authorization-server URLs that are not https or point at private, loopback or link-local hosts."""
    problems = []
    for url in obs.get("authorization_servers") or []:
        try:
            parts = urlsplit(str(url))
        except ValueError:
            problems.append(f"{url} (not a URL)")
            continue
        host = (parts.hostname or "").lower()
        if parts.scheme != "https":
            problems.append(f"{url} (not https)")
            continue
        if host in _PRIVATE_NAMES or host.endswith((".localhost", ".local", ".internal")):
            problems.append(f"{url} (local name)")
            continue
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            continue
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
            problems.append(f"{url} (private, loopback or link-local address)")
    return "; ".join(problems) or None


def _normal_url(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}{parts.path.rstrip('/')}"


def resource_mismatch(obs: Observation) -> str | None:
    """Protected-resource metadata whose `resource` is not the URL the client connected to (RFC 9728 §3.3)."""
    resource, url = obs.get("resource"), str(obs.get("url", ""))
    if not isinstance(resource, str):
        return None
    try:
        same = _normal_url(resource) == _normal_url(url)
    except ValueError:
        same = False
    return None if same else f"metadata resource {resource!r} but the server is {url!r}"


_CHALLENGE = re.compile(r'^\s*Bearer(?:\s+|$)(?:[\w-]+="[^"]*"(?:\s*,\s*[\w-]+="[^"]*")*)?\s*$', re.IGNORECASE)


def bad_challenge(obs: Observation) -> str | None:
    """A 401 without a well-formed `WWW-Authenticate: Bearer` challenge naming `resource_metadata`."""
    if obs.get("status") != 401:
        return None
    header = obs.get("www_authenticate")
    if not isinstance(header, str) or not header.strip():
        return "401 without a WWW-Authenticate header"
    if not _CHALLENGE.match(header):
        return f"malformed challenge: {header[:200]}"
    if "resource_metadata=" not in header:
        return f"challenge without resource_metadata: {header[:200]}"
    return None


def bad_metadata(obs: Observation) -> str | None:
    """No protected-resource metadata document, or one without `resource`/`authorization_servers`."""
    document = obs.get("metadata")
    if document is None:
        return f"no metadata document at {obs.get('tried', 'the well-known URL')}"
    if not isinstance(document, Mapping):
        return "the metadata document is not a JSON object"
    missing = [key for key in ("resource", "authorization_servers") if key not in document]
    if missing:
        return f"metadata lacks {', '.join(missing)}"
    servers = document.get("authorization_servers")
    if not isinstance(servers, list) or not all(isinstance(s, str) for s in servers):
        return "authorization_servers is not a list of URLs"
    return None


def skipped_tool(obs: Observation) -> str | None:
    """A tool the run did not attack because it may change or send things (informational)."""
    reasons = obs.get("reasons") or []
    return f"not attacked ({'; '.join(str(r) for r in reasons)})" if reasons else None


ORACLES: dict[str, Oracle] = {
    "redteam_file_content": file_content,
    "redteam_canary_echo": canary_echo,
    "redteam_evaluated_product": evaluated_product,
    "redteam_sql_error_or_boolean": sql_error_or_boolean,
    "redteam_canary_hit": canary_hit,
    "redteam_resource_file_content": file_content,
    "redteam_improper_error": improper_error,
    "redteam_stopped_answering": stopped_answering,
    "redteam_error_leak": error_leak,
    "redteam_reflected_input": reflected_input,
    "redteam_secret_in_answer": secret_in_answer,
    "redteam_description_flagged": engine_matches,
    "redteam_result_flagged": engine_matches,
    "redteam_foreign_origin": accepted,
    "redteam_spoofed_host": accepted,
    "redteam_bad_protocol_version": accepted,
    "redteam_all_interfaces": bound_everywhere,
    "redteam_weak_session_ids": weak_session_ids,
    "redteam_terminated_session": accepted,
    "redteam_session_without_token": accepted,
    "redteam_session_other_principal": accepted,
    "redteam_no_credentials": accepted,
    "redteam_bad_challenge": bad_challenge,
    "redteam_bad_metadata": bad_metadata,
    "redteam_resource_mismatch": resource_mismatch,
    "redteam_risky_authorization_server": risky_authorization_servers,
    "redteam_token_in_query": accepted,
    "redteam_expired_token": accepted,
    "redteam_wrong_audience": accepted,
    "redteam_alg_none": accepted,
    "redteam_bad_signature": accepted,
    "redteam_skipped_tool": skipped_tool,
}
