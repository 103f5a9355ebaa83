"""One module per attack suite; `mcpwarden.redteam.registry.ATTACKS` lists them in run order."""
