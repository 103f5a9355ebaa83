"""OpenTelemetry spans: the gateway in process over a real stdio upstream, spans kept in the SDK's memory exporter."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from mcpwarden.errors import ConfigError
from mcpwarden.gateway.config import GatewayConfig, parse_config
from mcpwarden.gateway.core import LOCAL_PRINCIPAL, Gateway
from mcpwarden.gateway.jsonrpc import Message, parse_client_payload
from mcpwarden.gateway.session import Session
from mcpwarden.gateway.telemetry import TelemetrySettings, build_telemetry
from mcpwarden.types import ServerSpec
from tests.gateway.conftest import UPSTREAM

pytestmark = pytest.mark.anyio
SPEC = ServerSpec(name="fx", transport="stdio", command=sys.executable, args=(str(UPSTREAM), "--name", "fx"))
ALLOWED_VALUE = "otel-marker-allowed-5f1c"
DENIED_VALUE = "otel-marker-denied-9a3e"
BASE = {"upstreams": {"fx": {"command": sys.executable, "args": [str(UPSTREAM), "--name", "fx"]}}}


@asynccontextmanager
async def traced_gateway() -> AsyncIterator[tuple[Gateway, Session, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    gateway = Gateway(GatewayConfig(upstreams=(SPEC,)))
    assert gateway.telemetry is None  # off unless configured
    gateway.telemetry = build_telemetry(TelemetrySettings(otel=True), provider=provider)
    async with anyio.create_task_group() as tg:
        await tg.start(gateway.run)
        await gateway.pool.wait_ready(30)
        session, _ = gateway.open_session(LOCAL_PRINCIPAL, _message("initialize", {"protocolVersion": "2025-06-18"}))
        try:
            yield gateway, session, exporter
        finally:
            tg.cancel_scope.cancel()
    provider.shutdown()


def _message(method: str, params: dict[str, Any], request_id: int = 1) -> Message:
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    parsed = parse_client_payload(body.encode(), max_bytes=10**6, max_depth=64, max_batch=1)
    assert isinstance(parsed, Message)
    return parsed


async def _request(gateway: Gateway, session: Session, method: str, params: dict[str, Any]) -> dict[str, Any]:
    reply = await gateway.handle(session, _message(method, params, 7))
    assert reply is not None
    return json.loads(reply)


def _server_span(spans: list[ReadableSpan], method: str) -> ReadableSpan:
    found = [s for s in spans if s.kind == SpanKind.SERVER and (s.attributes or {}).get("mcp.method.name") == method]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def _children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


async def test_spans_for_an_allowed_call_a_denied_call_and_a_listing() -> None:
    async with traced_gateway() as (gateway, session, exporter):
        listing = await _request(gateway, session, "tools/list", {})
        allowed = await _request(
            gateway, session, "tools/call", {"name": "fx__echo", "arguments": {"text": ALLOWED_VALUE}}
        )
        denied = await _request(
            gateway, session, "tools/call", {"name": "fx__read_file", "arguments": {"path": [DENIED_VALUE]}}
        )
        unknown = await _request(gateway, session, "tools/call", {"name": "fx__missing", "arguments": {}})
        chain = [i.name for i in gateway.pipeline.interceptors]
    assert allowed["result"]["content"][0]["text"] == ALLOWED_VALUE and denied["result"]["isError"] is True
    spans = list(exporter.get_finished_spans())
    assert next(s.name for s in spans if s.kind == SpanKind.SERVER) == "initialize"

    listed = _server_span(spans, "tools/list")
    attributes = dict(listed.attributes or {})
    assert listed.name == "tools/list" and attributes["mcp.session.id"] == session.id
    assert attributes["mcpwarden.listing.count"] == len(listing["result"]["tools"])
    assert attributes["mcpwarden.listing.hidden_count"] == 0 and attributes["jsonrpc.request.id"] == "7"

    calls = [s for s in spans if s.kind == SpanKind.SERVER and s.name.startswith("tools/call")]
    ok, refused, missing = calls
    attributes = dict(ok.attributes or {})
    assert ok.name == "tools/call fx__echo" and ok.status.status_code == StatusCode.UNSET
    assert attributes["gen_ai.tool.name"] == "fx__echo" and attributes["gen_ai.operation.name"] == "execute_tool"
    assert attributes["mcpwarden.upstream"] == "fx" and attributes["mcpwarden.decision"] == "allow"
    assert attributes["mcpwarden.principal.id"] == "local" and "error.type" not in attributes
    children = _children(spans, ok)
    upstream = [s for s in children if s.kind == SpanKind.CLIENT]
    assert [s.name for s in upstream] == ["tools/call echo"]
    assert (upstream[0].attributes or {})["gen_ai.tool.name"] == "echo"
    interceptors = [(s.attributes or {})["mcpwarden.interceptor.name"] for s in children if s.kind == SpanKind.INTERNAL]
    assert set(interceptors) <= set(chain)  # the steps that decided something or took 0.1 ms or more
    assert all(ok.start_time <= s.start_time <= s.end_time <= ok.end_time for s in children)  # type: ignore[operator]

    attributes = dict(refused.attributes or {})
    assert refused.name == "tools/call fx__read_file" and attributes["mcpwarden.decision"] == "deny"
    assert "constraints.schema" in attributes["mcpwarden.verdict.reasons"]
    assert attributes["error.type"] == "tool_error" and refused.status.status_code == StatusCode.UNSET
    children = _children(spans, refused)
    assert not [s for s in children if s.kind == SpanKind.CLIENT]  # refused before it went upstream
    deciding = [s for s in children if (s.attributes or {}).get("mcpwarden.decision") == "deny"]
    assert [(s.attributes or {})["mcpwarden.interceptor.name"] for s in deciding] == ["constraints"]

    attributes = dict(missing.attributes or {})
    assert missing.name == "tools/call" and attributes["rpc.response.status_code"] == str(unknown["error"]["code"])
    assert missing.status.status_code == StatusCode.UNSET  # the caller's mistake, not a server error

    for span in spans:
        seen = json.dumps([span.name, span.status.description, dict(span.attributes or {})], default=str)
        seen += json.dumps([dict(e.attributes or {}) for e in span.events], default=str)
        assert ALLOWED_VALUE not in seen and DENIED_VALUE not in seen, span.name


@pytest.mark.parametrize(
    ("section", "environ", "enabled"),
    [
        (None, {}, False),
        ({"otel": True}, {}, True),
        ({"otel": False}, {"OTEL_TRACES_EXPORTER": "console"}, False),
        (None, {"OTEL_TRACES_EXPORTER": "console"}, True),
        (None, {"OTEL_TRACES_EXPORTER": "none"}, False),
        (None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"otel": True}, {"OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_telemetry_is_on_when_the_config_or_the_otel_variables_say_so(
    tmp_path: Path, section: dict[str, Any] | None, environ: dict[str, str], enabled: bool
) -> None:
    data = {**BASE, "telemetry": section} if section is not None else BASE
    config = parse_config(data, source="warden.yaml", base_dir=tmp_path, environ=environ)
    assert config.telemetry.otel is enabled


@pytest.mark.parametrize(
    ("section", "key"),
    [({"otel": "yes"}, "telemetry.otel"), ({"exporter": "otlp"}, "telemetry"), ({"service_name": ""}, "service_name")],
)
def test_a_bad_telemetry_section_names_the_key(tmp_path: Path, section: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**BASE, "telemetry": section}, source="warden.yaml", base_dir=tmp_path, environ={})
    assert key in caught.value.one_line()


_SCRIPT = """
import anyio, json, sys
from pathlib import Path
from mcpwarden.gateway.config import parse_config
from mcpwarden.gateway.core import LOCAL_PRINCIPAL, Gateway
from mcpwarden.gateway.jsonrpc import parse_client_payload

async def main():
    data = {"upstreams": {"fx": {"command": sys.executable, "args": [sys.argv[1], "--name", "fx"]}}}
    gateway = Gateway(parse_config(data, source="w.yaml", base_dir=Path(".")))
    def message(method):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": {"protocolVersion": "2025-06-18"}})
        return parse_client_payload(body.encode(), max_bytes=10**6, max_depth=64, max_batch=1)
    async with anyio.create_task_group() as tg:
        await tg.start(gateway.run)
        await gateway.pool.wait_ready(30)
        session, _ = gateway.open_session(LOCAL_PRINCIPAL, message("initialize"))
        await gateway.handle(session, message("tools/list"))
        tg.cancel_scope.cancel()

anyio.run(main)
"""


def test_the_standard_otel_variables_select_the_exporter(tmp_path: Path) -> None:
    env = {**os.environ, "OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "warden-test"}
    env["MCPWARDEN_HOME"] = str(tmp_path)
    env.pop("OTEL_SDK_DISABLED", None)
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(UPSTREAM)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # stdout may be the MCP channel: the console exporter writes to stderr
    assert '"name": "tools/list"' in proc.stderr and '"name": "initialize"' in proc.stderr
    assert '"service.name": "warden-test"' in proc.stderr


def test_without_the_sdk_the_gateway_runs_untraced(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("opentelemetry.sdk", "opentelemetry.sdk.resources", "opentelemetry.sdk.trace"):
        monkeypatch.setitem(sys.modules, name, None)  # as if the extra were not installed
    config = dataclasses.replace(GatewayConfig(upstreams=(SPEC,)), telemetry=TelemetrySettings(otel=True))
    with caplog.at_level(logging.WARNING, logger="mcpwarden.gateway.telemetry"):
        gateway = Gateway(config)
    assert gateway.telemetry is None
    assert "mcpwarden[otel]" in caplog.text
