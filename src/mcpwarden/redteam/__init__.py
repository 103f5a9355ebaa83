"""Red team: safe, bounded attacks against one live MCP server, reported as Findings (MW7xx).

`run_redteam(Target, RunOptions)` runs the suites in `registry.ATTACKS` order; `replay` runs a
recorded transcript again and lists changed outcomes.
"""

from mcpwarden.redteam.attack import SUITES, Attack, Context, RunOptions, Target
from mcpwarden.redteam.registry import ATTACKS, attacks_for, validate_suites
from mcpwarden.redteam.replay import Change, ReplayResult, replay
from mcpwarden.redteam.runner import RedTeamReport, run_redteam

__all__ = [
    "ATTACKS",
    "SUITES",
    "Attack",
    "Change",
    "Context",
    "RedTeamReport",
    "ReplayResult",
    "RunOptions",
    "Target",
    "attacks_for",
    "replay",
    "run_redteam",
    "validate_suites",
]
