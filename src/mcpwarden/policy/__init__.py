"""Authorization policy: a short YAML language compiled to Cedar, and the engine that decides requests.

`policy/` makes pure decisions; it imports nothing above `types`/`errors` (capability labels
come in through `starter_policy(classify=…)`, not from `detect`).
"""

from __future__ import annotations

from mcpwarden.policy.engine import PolicyEngine
from mcpwarden.policy.model import Explanation, ResourceInfo
from mcpwarden.policy.starter import starter_policy
from mcpwarden.policy.yaml_compile import compile_yaml_policy

__all__ = ["Explanation", "PolicyEngine", "ResourceInfo", "compile_yaml_policy", "starter_policy"]
