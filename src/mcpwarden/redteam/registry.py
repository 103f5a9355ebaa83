"""The one list of attacks, in the order a run executes them.

Suites that open sessions or hit the HTTP layer run first, the tool-argument and output suites next,
and protocol robustness last, because its probes may bring a fragile server down.
"""

from __future__ import annotations

from collections.abc import Iterable

from mcpwarden.redteam.attack import SUITES, Attack
from mcpwarden.redteam.suites import arguments, auth, output, protocol, sessions, transport

ATTACKS: tuple[Attack, ...] = (
    transport.ForeignOrigin(),
    transport.SpoofedHost(),
    transport.ProtocolVersion(),
    transport.AllInterfaces(),
    auth.NoCredentials(),
    auth.QueryToken(),
    auth.ForgedTokens(),
    sessions.SessionIds(),
    sessions.TerminatedSession(),
    sessions.SessionWithoutToken(),
    arguments.PathTraversal(),
    arguments.CommandInjection(),
    arguments.TemplateInjection(),
    arguments.SqlInjection(),
    arguments.Ssrf(),
    arguments.ResourceTraversal(),
    output.DescriptionScan(),
    output.ResultScan(),
    output.Reflection(),
    output.SecretsInAnswers(),
    protocol.MalformedMessages(),
    protocol.HostileArguments(),
)


def attacks_for(suites: Iterable[str], transport_name: str) -> list[Attack]:
    """The attacks of `suites` that apply to the transport, in run order."""
    wanted = set(suites)
    return [a for a in ATTACKS if a.suite in wanted and transport_name in a.transports]


def validate_suites(suites: Iterable[str]) -> tuple[str, ...]:
    """The suites, checked; a ValueError names an unknown one."""
    out = tuple(dict.fromkeys(s.strip().lower() for s in suites))
    unknown = [s for s in out if s not in SUITES]
    if unknown:
        raise ValueError(f"unknown suite {unknown[0]!r} (one of: {', '.join(SUITES)})")
    return out
