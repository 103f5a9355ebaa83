"""Interceptors shipped with the gateway, one module each; `BUILTIN_FACTORIES` maps chain slots to them.

Every slot of `pipeline.SLOTS` has a built-in; `default_interceptors(..., factories=...)` may
replace any of them.
"""

from __future__ import annotations

from collections.abc import Mapping

from mcpwarden.gateway.interceptors.approval import Approval
from mcpwarden.gateway.interceptors.authz import Authorization
from mcpwarden.gateway.interceptors.constraints import ArgumentConstraints
from mcpwarden.gateway.interceptors.description_scan import DescriptionScan
from mcpwarden.gateway.interceptors.flow_control import FlowControl
from mcpwarden.gateway.interceptors.kill_switch import KillSwitch
from mcpwarden.gateway.interceptors.pin_check import PinCheck
from mcpwarden.gateway.interceptors.rate_limit import RateLimits
from mcpwarden.gateway.interceptors.scanning import ResultScanning
from mcpwarden.gateway.pipeline import InterceptorFactory

BUILTIN_FACTORIES: Mapping[str, InterceptorFactory] = {
    "kill_switch": KillSwitch.from_options,
    "descriptions": DescriptionScan.from_options,
    "authz": Authorization.from_options,
    "constraints": ArgumentConstraints.from_options,
    "rate_limit": RateLimits.from_options,
    "flow_control": FlowControl.from_options,
    "approval": Approval.from_options,
    "pin_check": PinCheck.from_options,
    "scanning": ResultScanning.from_options,
}

__all__ = [
    "BUILTIN_FACTORIES",
    "Approval",
    "ArgumentConstraints",
    "Authorization",
    "DescriptionScan",
    "FlowControl",
    "KillSwitch",
    "PinCheck",
    "RateLimits",
    "ResultScanning",
]
