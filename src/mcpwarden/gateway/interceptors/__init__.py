"""Interceptors shipped with the gateway, one module each; `BUILTIN_FACTORIES` maps chain slots to them.

Slots filled elsewhere (authz, rate limit, flow control, approval, pin check, kill switch) are
passed to `default_interceptors(..., factories=...)` by the modules that implement them.
"""

from __future__ import annotations

from collections.abc import Mapping

from mcpwarden.gateway.interceptors.constraints import ArgumentConstraints
from mcpwarden.gateway.interceptors.scanning import ResultScanning
from mcpwarden.gateway.pipeline import InterceptorFactory

BUILTIN_FACTORIES: Mapping[str, InterceptorFactory] = {
    "constraints": ArgumentConstraints.from_options,
    "scanning": ResultScanning.from_options,
}

__all__ = ["BUILTIN_FACTORIES", "ArgumentConstraints", "ResultScanning"]
