"""Config and server-level checks: what a server entry asks for, and how the server answered.

Three entry points, one per stage of a scan:
- `check_specs`: static checks of configured servers (secrets, unpinned launchers, download-and-run,
  container privileges, cleartext HTTP). No I/O: safe for `--static`.
- `check_inventories`: after connecting (could not connect, no authentication, old protocol).
- `check_problems`: config files that could not be read become findings, never crashes.

Rules are data (`detect/rules/config*.yaml`); each names its check here by `check:`. A server listed
in several config files is one finding, located at its first source, with the others in the message.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcp_types import version as mcp_versions

from mcpwarden.detect import containers
from mcpwarden.detect.launchers import command_lines, download_and_execute, launched_packages
from mcpwarden.detect.ruleset import Rule, load_rule_file, make_finding
from mcpwarden.detect.secret_fields import scan_spec_secrets, spec_secret_values
from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.errors import RuleError
from mcpwarden.types import (
    ConfigProblem,
    Finding,
    Location,
    ServerInventory,
    ServerSource,
    ServerSpec,
    Severity,
    Transport,
    escape_evidence,
)

SpecCheck = Callable[[Rule, ServerSpec], list[Finding]]
InventoryCheck = Callable[[Rule, ServerInventory], list[Finding]]
ProblemCheck = Callable[[Rule, ConfigProblem], list[Finding]]

_STDERR_TAIL_LINES = 5
_STDERR_TAIL_CHARS = 500


# -- locations and shared helpers


def pointer(base: str, *parts: str | int) -> str:
    """Extend JSON pointer `base` with `parts`, escaping `~` and `/` (RFC 6901)."""
    tail = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return base.rstrip("/") + tail if base != "/" else tail


def spec_location(spec: ServerSpec, *field: str | int) -> Location:
    """Where a spec's field is: the first source's file and line, its key extended by `field`."""
    source = spec.sources[0] if spec.sources else None
    base = source.key if source else ""
    return Location(
        server=spec.name,
        file=source.path if source else None,
        line=source.line if source else None,
        key=pointer(base, *field) if (base or field) else None,
    )


def also_configured(spec: ServerSpec) -> str:
    """The sentence naming the other files that list this server ("" when there are none)."""
    first = spec.sources[0].path if spec.sources else None
    others = list(dict.fromkeys(s.path for s in spec.sources[1:] if s.path != first))
    return f"Also configured in: {', '.join(others)}." if others else ""


def _detail(*parts: str) -> str:
    """Message tail from parts that may carry config text (key names, paths): escaped for display."""
    return escape_evidence(" ".join(p for p in parts if p), limit=2000)


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8, ::1, localhost (and *.localhost); 0.0.0.0 too, since a client dialling it reaches this host."""
    if not host:
        return False
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _url_host(url: str | None) -> str | None:
    try:
        return urlsplit(url or "").hostname
    except ValueError:
        return None


# -- static spec checks (MW201–MW207)


def _check_plaintext_secret(rule: Rule, spec: ServerSpec) -> list[Finding]:
    min_length = int(rule.options.get("min_length", 12))
    min_entropy = float(rule.options.get("min_entropy", 3.0))
    findings = []
    for hit in scan_spec_secrets(spec, min_length=min_length, min_entropy=min_entropy):
        labels = ", ".join(dict.fromkeys(m.label for m in hit.matches))
        findings.append(
            make_finding(
                rule,
                spec_location(spec, *hit.field),
                hit.evidence,
                detail=_detail(f"Found: {labels} in {hit.where}.", also_configured(spec)),
            )
        )
    return findings


def _check_unpinned_launcher(rule: Rule, spec: ServerSpec) -> list[Finding]:
    # One finding per command line (its evidence, hence its fingerprint), naming every unpinned package.
    findings = []
    for argv in command_lines(spec.command, spec.args):
        unpinned = [p for p in launched_packages(argv) if not p.pinned]
        if not unpinned:
            continue
        fetches = "; ".join(f"{p.launcher} fetches {p.spec!r}: {p.reason}" for p in unpinned)
        findings.append(
            make_finding(
                rule,
                spec_location(spec, "args"),
                mask_secrets(" ".join(argv)),
                detail=_detail(mask_secrets(fetches) + ".", also_configured(spec)),
            )
        )
    return findings


def _check_download_execute(rule: Rule, spec: ServerSpec) -> list[Finding]:
    text = " ".join([spec.command or "", *spec.args])
    snippet = download_and_execute(text)
    if snippet is None:
        return []
    return [make_finding(rule, spec_location(spec, "args"), mask_secrets(snippet), detail=also_configured(spec))]


def _check_cleartext_http(rule: Rule, spec: ServerSpec) -> list[Finding]:
    if spec.transport == "stdio" or not spec.url:
        return []
    try:
        parts = urlsplit(spec.url.strip())
        host = parts.hostname
    except ValueError:
        return []
    if parts.scheme.lower() != "http" or not host or "$" in host or "{" in host or is_loopback_host(host):
        return []
    return [make_finding(rule, spec_location(spec, "url"), mask_secrets(spec.url), detail=also_configured(spec))]


def _container_check(find: Callable[[Rule, Sequence[str]], list[containers.ContainerIssue]]) -> SpecCheck:
    def check(rule: Rule, spec: ServerSpec) -> list[Finding]:
        issues = [issue for argv in command_lines(spec.command, spec.args) for issue in find(rule, argv)]
        # The same option written twice is one finding (same evidence, same fingerprint).
        unique = {issue.evidence: issue for issue in issues}.values()
        return [
            make_finding(
                rule,
                spec_location(spec, "args"),
                mask_secrets(issue.evidence),
                detail=_detail(issue.detail, also_configured(spec)),
            )
            for issue in unique
        ]

    return check


# -- after connecting (MW110, MW208, MW209)


def _scrub(text: str, spec: ServerSpec) -> str:
    """Mask recognisable secrets and every credential value the spec itself carries.

    A server often echoes its own token in an error ("invalid token …") in no recognisable format.
    """
    for value in spec_secret_values(spec):
        text = text.replace(value, "*" * 8)
    return mask_secrets(text)


def _check_unreachable(rule: Rule, inventory: ServerInventory) -> list[Finding]:
    if inventory.ok:
        return []
    spec = inventory.spec
    error = _scrub(inventory.error or "unknown error", spec)
    first_line = next((line.strip() for line in error.splitlines() if line.strip()), "unknown error")
    tail_lines = [line for line in _scrub(inventory.stderr, spec).splitlines() if line.strip()]
    tail = "\n".join(tail_lines[-_STDERR_TAIL_LINES:])[-_STDERR_TAIL_CHARS:]
    stderr_note = f"Last stderr lines: {tail}" if tail else ""
    return [
        make_finding(
            rule,
            spec_location(spec),
            first_line,
            detail=_detail(stderr_note, also_configured(spec)),
        )
    ]


def _check_no_auth(rule: Rule, inventory: ServerInventory) -> list[Finding]:
    spec = inventory.spec
    if not inventory.ok or inventory.authenticated is not False or spec.transport == "stdio" or not spec.url:
        return []
    loopback = is_loopback_host(_url_host(spec.url))
    severity = Severity.LOW if loopback else rule.severity
    where = "on this machine only (loopback)" if loopback else "reachable over the network"
    return [
        make_finding(
            rule,
            spec_location(spec, "url"),
            mask_secrets(spec.url),
            detail=_detail(f"The server is {where}.", also_configured(spec)),
            severity=severity,
        )
    ]


def _check_legacy_protocol(rule: Rule, inventory: ServerInventory) -> list[Finding]:
    version = inventory.protocol_version
    if not inventory.ok or not version:
        return []
    known = mcp_versions.KNOWN_PROTOCOL_VERSIONS
    latest = mcp_versions.LATEST_PROTOCOL_VERSION
    if version == latest:
        return []
    baseline = str(rule.options.get("security_baseline", "2025-06-18"))
    if baseline not in known:  # the SDK dropped it: fall back to the oldest revision it still speaks
        baseline = mcp_versions.OLDEST_SUPPORTED_VERSION
    if version not in known:
        severity, why = rule.severity, f"{version!r} is not a protocol revision this SDK knows; treated as old."
    elif not mcp_versions.is_version_at_least(version, baseline):
        severity, why = rule.severity, f"{version} predates {baseline} and its authorization and security fixes."
    elif version == mcp_versions.LATEST_HANDSHAKE_VERSION:
        severity = Severity.INFO
        why = f"{version} is the newest handshake revision; the server does not speak the stateless {latest}."
    else:
        severity, why = Severity.LOW, f"{version} is older than the newest revision {latest}."
    return [
        make_finding(
            rule,
            spec_location(inventory.spec),
            f"protocolVersion: {version}",
            detail=_detail(why, also_configured(inventory.spec)),
            severity=severity,
        )
    ]


# -- config files (MW100)


def _check_file_problem(rule: Rule, problem: ConfigProblem) -> list[Finding]:
    reason = mask_secrets(problem.reason)
    location = Location(file=problem.path, line=problem.line)
    return [make_finding(rule, location, reason, detail=_detail(f"Client: {problem.client}."))]


# -- registry and entry points

_SPEC_CHECKS: Mapping[str, SpecCheck] = {
    "config_plaintext_secret": _check_plaintext_secret,
    "config_unpinned_launcher": _check_unpinned_launcher,
    "config_download_execute": _check_download_execute,
    "config_container_privileged": _container_check(containers.privileged),
    "config_container_host_namespace": _container_check(containers.host_namespaces),
    "config_container_sensitive_mount": _container_check(containers.sensitive_mounts),
    "config_cleartext_http": _check_cleartext_http,
}
_INVENTORY_CHECKS: Mapping[str, InventoryCheck] = {
    "server_unreachable": _check_unreachable,
    "server_no_auth": _check_no_auth,
    "server_legacy_protocol": _check_legacy_protocol,
}
_PROBLEM_CHECKS: Mapping[str, ProblemCheck] = {"config_file_problem": _check_file_problem}
CHECK_NAMES = frozenset({*_SPEC_CHECKS, *_INVENTORY_CHECKS, *_PROBLEM_CHECKS})


def config_rules() -> list[Rule]:
    """The rules implemented here, from the package's `detect/rules/config*.yaml` files.

    Raises RuleError when a rule names a `config_`/`server_` check this module does not have.
    """
    root = resources.files("mcpwarden.detect") / "rules"
    files = sorted(p.name for p in root.iterdir() if p.name.startswith("config") and p.name.endswith((".yaml", ".yml")))
    rules = [rule for name in files for rule in load_rule_file(Path(str(root / name)))]
    for rule in rules:
        if rule.check not in CHECK_NAMES:
            raise RuleError(f"unknown check {rule.check!r}", where=f"{rule.source}:{rule.id}")
    return rules


def _selected(rules: Iterable[Rule] | None, table: Mapping[str, Any]) -> list[Rule]:
    chosen = config_rules() if rules is None else rules
    return [rule for rule in chosen if rule.check in table]


def check_specs(specs: Sequence[ServerSpec], rules: Iterable[Rule] | None = None) -> list[Finding]:
    """Static checks of configured servers; no I/O. `rules` defaults to `config_rules()`."""
    selected = _selected(rules, _SPEC_CHECKS)
    return [finding for spec in specs for rule in selected for finding in _SPEC_CHECKS[str(rule.check)](rule, spec)]


def check_inventories(inventories: Sequence[ServerInventory], rules: Iterable[Rule] | None = None) -> list[Finding]:
    """Checks on what servers answered: could not connect, no authentication, old protocol revision."""
    selected = _selected(rules, _INVENTORY_CHECKS)
    return [f for inv in inventories for rule in selected for f in _INVENTORY_CHECKS[str(rule.check)](rule, inv)]


def check_problems(problems: Sequence[ConfigProblem], rules: Iterable[Rule] | None = None) -> list[Finding]:
    """Config files that could not be read or understood, as findings (MW100)."""
    selected = _selected(rules, _PROBLEM_CHECKS)
    return [f for problem in problems for rule in selected for f in _PROBLEM_CHECKS[str(rule.check)](rule, problem)]


# -- rule cases (the YAML `cases:` contract)

_CASE_SOURCE = ServerSource(client="case", path="mcp.json", key="/mcpServers/case", line=2)


def spec_from_case(entry: Mapping[str, Any], name: str = "case") -> ServerSpec:
    """A ServerSpec from a config-entry-like mapping (`command`/`args`/`env`, or `url`/`headers`/`type`)."""
    transport: Transport = "stdio"
    if entry.get("url"):
        transport = "sse" if entry.get("type") == "sse" else "http"
    return ServerSpec(
        name=name,
        transport=transport,
        command=entry.get("command"),
        args=tuple(str(a) for a in entry.get("args") or ()),
        env={str(k): str(v) for k, v in (entry.get("env") or {}).items()},
        url=entry.get("url"),
        headers={str(k): str(v) for k, v in (entry.get("headers") or {}).items()},
        sources=(_CASE_SOURCE,),
        raw=dict(entry),
    )


def run_rule_case(rule: Rule, case: Mapping[str, Any]) -> list[Finding]:
    """Run one of `rule`'s YAML cases through its check and return every finding it produced.

    Spec checks take a config entry; server checks take an entry plus inventory fields (`ok`, `error`,
    `stderr`, `protocol_version`, `authenticated`); the file check takes `path`, `reason`, `line`, and
    a case without `reason` stands for a file that parsed.
    """
    check = str(rule.check)
    if check in _PROBLEM_CHECKS:
        if "reason" not in case:  # a file that parsed: no ConfigProblem, so nothing to report
            return []
        problem = ConfigProblem(
            client=str(case.get("client", "case")),
            path=str(case.get("path", "mcp.json")),
            reason=str(case["reason"]),
            line=case.get("line"),
        )
        return _PROBLEM_CHECKS[check](rule, problem)
    inventory_fields = {"ok", "error", "stderr", "protocol_version", "authenticated"}
    spec = spec_from_case({k: v for k, v in case.items() if k not in inventory_fields})
    if check in _SPEC_CHECKS:
        return _SPEC_CHECKS[check](rule, spec)
    inventory = ServerInventory(
        spec=spec,
        ok=bool(case.get("ok", True)),
        error=case.get("error"),
        protocol_version=case.get("protocol_version"),
        stderr=str(case.get("stderr", "")),
        authenticated=case.get("authenticated"),
    )
    return _INVENTORY_CHECKS[check](rule, inventory)
