"""Authorization: Cedar policy decisions on calls and listings, with labels from the classifier."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.errors import ConfigError
from mcpwarden.gateway.interceptors.authz import Authorization
from mcpwarden.gateway.pipeline import Pipeline
from mcpwarden.gateway.testing import make_call
from mcpwarden.types import Principal
from tests.gateway.interceptors.helpers import catalog, context

pytestmark = pytest.mark.anyio

POLICY = """\
version: 1
rules:
  - id: readonly
    allow: {tools: ["*"], when: {labels_none: [exfiltration_sink, destructive]}}
  - id: mail-needs-a-human
    ask: {tools: ["mail/*"]}
  - id: no-deleting
    deny: {tools: ["files/delete_*"]}
  - id: ops-web
    allow: {principals: {groups: [ops]}, tools: ["web/*"]}
"""


def _authz(tmp_path: Path) -> Authorization:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return Authorization.from_options({}, context(policy=policy))


@pytest.mark.parametrize(
    ("tool", "groups", "decision", "reasons"),
    [
        ("fx__echo", (), "allow", ("readonly",)),
        ("mail__send_email", (), "ask", ("mail-needs-a-human",)),
        ("files__delete_file", (), "deny", ("no-deleting",)),
        ("web__fetch", (), "deny", ("default-deny",)),  # a sink: no permit applies
        ("web__fetch", ("ops",), "allow", ("ops-web",)),
    ],
)
async def test_policy_decides_each_call(
    tmp_path: Path, tool: str, groups: tuple[str, ...], decision: str, reasons: tuple[str, ...]
) -> None:
    principal = Principal(id="agent-1", groups=frozenset(groups))
    verdict = await _authz(tmp_path).request(make_call(tool, principal=principal))
    assert verdict is not None and verdict.decision == decision and verdict.reasons == reasons


async def test_listing_hides_what_the_principal_may_not_use(tmp_path: Path) -> None:
    defs = list(catalog().definitions.values())
    hidden = await _authz(tmp_path).hide(defs, Principal(id="agent-1"))
    assert hidden == {("web", "tool", "fetch"), ("files", "tool", "delete_file")}


async def test_no_policy_allows_everything() -> None:
    authz = Authorization.from_options({}, context())
    assert await authz.request(make_call("files__delete_file")) is None
    assert await authz.hide(list(catalog().definitions.values()), Principal(id="x")) == set()


async def test_ask_without_approval_is_refused_by_the_pipeline(tmp_path: Path) -> None:
    outcome = await Pipeline([_authz(tmp_path)]).on_request(make_call("mail__send_email"))
    assert outcome.refusal is not None and outcome.refusal.reasons == ("mail-needs-a-human",)


def test_a_broken_policy_file_is_a_config_error(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrules:\n  - id: x\n    allow: {tool: ['*']}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="tool"):
        Authorization.from_options({}, context(policy=policy))
