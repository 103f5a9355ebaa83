"""Container command lines: host path normalisation and the issues each check reports."""

from __future__ import annotations

import pytest

from mcpwarden.detect.config import config_rules
from mcpwarden.detect.containers import host_namespaces, normalize_host_path, privileged, sensitive_mounts
from mcpwarden.detect.ruleset import Rule

RULES = {r.id: r for r in config_rules()}


def _rule(rule_id: str) -> Rule:
    return RULES[rule_id]


@pytest.mark.parametrize(
    ("path", "normal"),
    [
        ("~/", "~"),
        ("$HOME", "~"),
        ("${HOME}/.ssh/", "~/.ssh"),
        ("${env:USERPROFILE}\\.aws", "~/.aws"),
        ("%USERPROFILE%\\.kube\\config", "~/.kube/config"),
        ("${userHome}/.ssh", "~/.ssh"),
        ("/", "/"),
        ("//", "/"),
        ("/etc/", "/etc"),
        ("/var//run/docker.sock", "/var/run/docker.sock"),
        ("C:\\Users\\alice\\", "C:/Users/alice"),
        ("$HOMEDIR/x", "$HOMEDIR/x"),  # not $HOME
        ("", ""),
    ],
)
def test_normalize_host_path(path: str, normal: str) -> None:
    assert normalize_host_path(path) == normal


def test_each_issue_is_reported_once_with_the_option_as_written() -> None:
    argv = ["docker", "run", "--privileged", "--cap-add", "SYS_ADMIN,NET_ADMIN", "--cap-add=chown"]
    argv += ["--pid=host", "--network", "host", "-v", "/:/host:ro", "-v", "/srv/data:/data", "img:1"]
    assert [i.evidence for i in privileged(_rule("MW204"), argv)] == [
        "--privileged",
        "--cap-add SYS_ADMIN",
        "--cap-add NET_ADMIN",
    ]
    assert [i.evidence for i in host_namespaces(_rule("MW205"), argv)] == ["--network host", "--pid host"]
    mounts = sensitive_mounts(_rule("MW206"), argv)
    assert [i.evidence for i in mounts] == ["-v /:/host:ro"]
    assert "Read-only" in mounts[0].detail


@pytest.mark.parametrize(
    "argv",
    [
        ["npx", "-y", "--privileged", "-v", "/:/host"],
        ["docker", "ps", "--privileged"],
        ["docker", "run", "img:1", "--network", "host", "-v", "/:/x"],
    ],
)
def test_options_outside_docker_run_are_ignored(argv: list[str]) -> None:
    assert privileged(_rule("MW204"), argv) == []
    assert host_namespaces(_rule("MW205"), argv) == []
    assert sensitive_mounts(_rule("MW206"), argv) == []
