"""The interceptor chain: checked at registration, fail closed, monitor mode records only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from mcpwarden.errors import ConfigError
from mcpwarden.gateway.config import GatewayConfig
from mcpwarden.gateway.pipeline import (
    SLOTS,
    DefinitionKey,
    InterceptorContext,
    Pipeline,
    check_interceptor,
    default_interceptors,
)
from mcpwarden.gateway.testing import StaticCatalog, make_call
from mcpwarden.types import Principal, ToolCall, ToolDef, Verdict

pytestmark = pytest.mark.anyio


class Fixed:
    def __init__(self, name: str, request: Verdict | None = None, response: Verdict | None = None) -> None:
        self.name = name
        self._request = request
        self._response = response
        self.seen = 0

    async def request(self, call: ToolCall) -> Verdict | None:
        self.seen += 1
        return self._request

    async def response(self, call: ToolCall) -> Verdict | None:
        return self._response


class Raises(Fixed):
    async def request(self, call: ToolCall) -> Verdict | None:
        raise RuntimeError("policy store unreachable")


class Misspelt:
    name = "typo"

    async def request(self, call: ToolCall) -> Verdict | None:
        return None

    async def respones(self, call: ToolCall) -> Verdict | None:
        return None


class SyncHook:
    name = "sync"

    def request(self, call: ToolCall) -> Verdict | None:
        return None

    async def response(self, call: ToolCall) -> Verdict | None:
        return None


class ExtraHook(Fixed):
    async def on_response(self, call: ToolCall) -> Verdict | None:
        return None


@pytest.mark.parametrize(
    ("interceptor", "fragment"),
    [
        (Misspelt(), "no `response` hook"),
        (SyncHook(), "must be an `async def`"),
        (ExtraHook("x"), "misspelt hook"),
        (object(), "no `name`"),
    ],
)
def test_broken_interceptors_fail_at_registration(interceptor: Any, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("`", ".")):
        check_interceptor(interceptor)


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ConfigError, match="twice"):
        Pipeline([Fixed("a"), Fixed("a")])


DENY = Verdict("deny", source="authz", reasons=("policy.p1",), message="no")
ALLOW = Verdict("allow", source="x")
ASK = Verdict("ask", source="authz", reasons=("policy.p2",))


async def test_first_denial_stops_the_chain_in_enforce_mode() -> None:
    later = Fixed("later")
    outcome = await Pipeline([Fixed("authz", DENY), later]).on_request(call := make_call())
    assert outcome.refusal is DENY and later.seen == 0 and call.verdicts == [DENY]


async def test_monitor_mode_records_everything_and_refuses_nothing() -> None:
    later = Fixed("later", Verdict("modify", source="later"))
    outcome = await Pipeline([Fixed("authz", DENY), later], mode="monitor").on_request(call := make_call())
    assert outcome.refusal is None and not outcome.modified
    assert later.seen == 1 and [v.decision for v in call.verdicts] == ["deny", "modify"]


async def test_an_interceptor_that_raises_denies() -> None:
    outcome = await Pipeline([Raises("authz")]).on_request(call := make_call())
    assert outcome.refusal is not None and outcome.refusal.denies
    assert "policy store unreachable" in outcome.refusal.errors[0]
    assert call.verdicts[0].source == "authz"


@pytest.mark.parametrize(
    ("chain", "denied"),
    [
        ([Fixed("authz", ASK)], True),
        ([Fixed("authz", ASK), Fixed("approval", ALLOW)], False),
        ([Fixed("authz", ASK), Fixed("approval", DENY)], True),
        ([Fixed("authz", ASK), Fixed("other", ALLOW)], True),
    ],
)
async def test_ask_needs_an_answer_from_approval(chain: list[Fixed], denied: bool) -> None:
    outcome = await Pipeline(chain).on_request(make_call())
    assert (outcome.refusal is not None) is denied


async def test_non_verdict_return_is_an_error() -> None:
    class Bad(Fixed):
        async def request(self, call: ToolCall) -> Any:
            return "allow"

    outcome = await Pipeline([Bad("bad")]).on_request(make_call())
    assert outcome.refusal is not None and "not a Verdict" in outcome.refusal.errors[0]


def _config(interceptors: dict[str, Any]) -> GatewayConfig:
    return GatewayConfig(upstreams=(), interceptors=interceptors, source="warden.yaml")


def test_default_chain_follows_the_design_order() -> None:
    context = InterceptorContext(StaticCatalog())
    factories = {
        slot: (lambda options, ctx, slot=slot: Fixed(slot)) for slot in SLOTS if slot not in ("constraints", "scanning")
    }
    chain = default_interceptors(_config({}), context, factories)
    assert [i.name for i in chain] == list(SLOTS)


@pytest.mark.parametrize(
    ("interceptors", "fragment"),
    [
        ({"authz": {"policy_file": "p.yaml"}}, "interceptors.authz.policy_file: unknown option"),
        (
            {"rate_limit": {"limits": [{"key": "ip", "limit": 1, "window_s": 1}]}},
            "interceptors.rate_limit.limits[0].key",
        ),
        ({"rate_limit": {"limits": [{"key": "tool", "limit": 1}]}}, "interceptors.rate_limit.limits[0].window_s"),
        ({"flow_control": {"on_tainted": "shrug"}}, "interceptors.flow_control.on_tainted"),
        ({"flow_control": {"labels": {"web/fetch": ["sneaky"]}}}, "interceptors.flow_control.labels.web/fetch"),
        ({"approval": {"labels_any": ["scary"]}}, "interceptors.approval.labels_any"),
        ({"approval": {"timeout_s": 0}}, "interceptors.approval.timeout_s"),
        ({"pin_check": {"unknown": "allow"}}, "interceptors.pin_check.unknown"),
        ({"kill_switch": {"targets": []}}, "interceptors.kill_switch.targets"),
        ({"nonsense": {}}, "interceptors.nonsense: unknown interceptor"),
        ({"scanning": {"enabled": "yes"}}, "interceptors.scanning.enabled"),
        ({"scanning": {"tool_output": "shred"}}, "interceptors.scanning.tool_output"),
        ({"scanning": {"descriptions": "shred"}}, "interceptors.scanning.descriptions: must be one of hide"),
        ({"scanning": {"description_severity": "dire"}}, "interceptors.scanning.description_severity"),
        ({"descriptions": {"descriptions": "warn"}}, "interceptors.descriptions.descriptions: description scanning"),
        ({"constraints": {"tools": {"t": {"a": {"pattern": "("}}}}}, "interceptors.constraints.tools.t.a.pattern"),
    ],
)
def test_chain_config_errors_name_the_key(interceptors: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        default_interceptors(_config(interceptors), InterceptorContext(StaticCatalog(), source="warden.yaml"))
    assert fragment in caught.value.one_line()


@pytest.mark.parametrize(
    ("interceptors", "left_out"),
    [
        ({"scanning": {"enabled": False}}, {"scanning", "descriptions"}),  # description scanning is set there
        ({"scanning": {"descriptions": "off"}}, {"descriptions"}),
        ({"descriptions": {"enabled": False}}, {"descriptions"}),
        ({"authz": {"enabled": False}}, {"authz"}),
    ],
)
def test_disabled_interceptor_is_left_out(interceptors: dict[str, Any], left_out: set[str]) -> None:
    chain = default_interceptors(_config(interceptors), InterceptorContext(StaticCatalog()))
    assert [i.name for i in chain] == [slot for slot in SLOTS if slot not in left_out]


class Auditor(Fixed):
    """A listing filter and auditor: hides `hidden`, notes every definition, or fails when told to."""

    def __init__(self, name: str, hidden: set[str], *, fail: bool = False) -> None:
        super().__init__(name)
        self.hidden = hidden
        self.fail = fail

    async def hide(self, definitions: Sequence[ToolDef], principal: Principal) -> set[DefinitionKey]:
        return {(d.server, d.kind, d.name) for d in definitions if d.name in self.hidden}

    async def listing_verdicts(self, definitions: Sequence[ToolDef]) -> list[Verdict]:
        if self.fail:
            raise RuntimeError("rules did not load")
        return [Verdict("allow", source=self.name, reasons=("MW300",), message=d.name) for d in definitions]


LISTED = [ToolDef("fx", "tool", name, {"name": name}) for name in ("echo", "poisoned")]


@pytest.mark.parametrize(
    ("mode", "fail", "hidden", "notes"),
    [
        ("enforce", False, {"poisoned"}, ["echo", "poisoned"]),
        ("monitor", False, set(), ["echo", "poisoned"]),  # reviewed, nothing hidden
        ("enforce", True, {"echo", "poisoned"}, [""]),  # an auditor that fails hides the listing (fail closed)
        ("monitor", True, set(), [""]),
    ],
)
async def test_listing_review(mode: str, fail: bool, hidden: set[str], notes: list[str]) -> None:
    pipeline = Pipeline(
        [Auditor("descriptions", {"poisoned"}, fail=fail)], mode="monitor" if mode == "monitor" else "enforce"
    )
    review = await pipeline.review(LISTED, Principal("p"))
    assert pipeline.filters_listings
    assert {name for _, _, name in review.hidden} == hidden
    assert [v.message for v in review.verdicts] == notes
    assert all(bool(v.errors) is fail for v in review.verdicts)


async def test_filters_without_auditors_are_skipped_in_monitor_mode() -> None:
    class HidesOnly(Fixed):
        async def hide(self, definitions: Sequence[ToolDef], principal: Principal) -> set[DefinitionKey]:
            return {(d.server, d.kind, d.name) for d in definitions}

    assert Pipeline([HidesOnly("kill_switch")]).filters_listings
    assert not Pipeline([HidesOnly("kill_switch")], mode="monitor").filters_listings
