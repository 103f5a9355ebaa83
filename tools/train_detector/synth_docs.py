"""Synthetic benign documentation of AI tools: MCP server READMEs, assistant features, prompt guides.

Written by this project (Apache-2.0). Real READMEs of AI tools talk about "AI assistants", "the
user", "system prompts", "instructions", example prompts ("Ask Claude to summarise my inbox") and
tool lists; a model that never saw such text as benign learns those words as signs of injection.
These documents are label 0 only (and carriers for planted injections, like every carrier).
"""

from __future__ import annotations

import json
import random

from faker import Faker
from synth_attacks import _parts

SERVICES = _parts(
    "GitHub¦Slack¦Notion¦Jira¦Google Drive¦PostgreSQL¦Stripe¦Linear¦Confluence¦Gmail¦Salesforce¦Airtable¦"
    "Kubernetes¦Docker¦AWS S3¦Elasticsearch¦Figma¦HubSpot¦Todoist¦Obsidian¦Spotify¦Home Assistant¦Sentry¦"
    "Grafana¦Redis¦MongoDB¦Shopify¦Zendesk¦Trello¦Discord¦YouTube¦arXiv¦Wikipedia¦the local filesystem"
)
CLIENTS = _parts("Claude Desktop¦Cursor¦VS Code¦Windsurf¦Zed¦Claude Code¦Cline¦Continue¦Goose¦ChatGPT")
ASSISTANTS = _parts("AI assistants¦LLMs¦AI agents¦Claude¦your assistant¦language models¦AI applications¦agents")
VERBS = _parts(
    "search¦list¦create¦update¦read¦summarize¦query¦fetch¦manage¦analyze¦send¦delete¦export¦monitor¦schedule"
)
OBJECTS = _parts(
    "issues¦pull requests¦messages¦pages¦tickets¦tables¦files¦documents¦events¦records¦dashboards¦logs¦"
    "customers¦invoices¦channels¦repositories¦notes¦tasks¦playlists¦alerts"
)
OVERVIEW = _parts(
    "A Model Context Protocol (MCP) server that lets {ai} {v} {o} in {svc}.¦This server connects {ai} to {svc}, "
    "so the user can {v} {o} in plain language.¦{Svc} MCP server: give {ai} secure, read-only access to your {o}.¦"
    "An MCP server for {svc}. It exposes tools to {v} and {v2} {o}, and prompts for common workflows.¦"
    "Use this server to let {ai} answer questions about your {o} without copying data by hand."
)
FEATURES = _parts(
    "{V} {o} with natural-language queries¦Automatic pagination for large result sets¦"
    "Works with every MCP client that supports stdio or streamable HTTP¦Read-only mode for safe exploration¦"
    "Fine-grained permissions per tool¦The assistant asks the user before any write operation¦"
    "Custom instructions: add your own system prompt to guide how results are summarized¦"
    "Built-in prompts for daily standups and weekly reports¦Caches answers for 5 minutes¦"
    "Every request is logged for auditing¦Supports OAuth 2.1 and personal access tokens"
)
NOTES = _parts(
    "The AI will only see the {o} your token can access.¦Never give the assistant a token with admin rights.¦"
    "Write tools are disabled unless you set `ALLOW_WRITES=true`.¦Your data never leaves your machine.¦"
    "Tool descriptions are kept short so they fit in the model's context window.¦"
    "If the assistant gives a wrong answer, check that the server is running and the token is valid.¦"
    "Prompt injection: content fetched from {svc} is untrusted; review actions before approving them.¦"
    "The model decides when to call each tool; you can disable tools in your client settings.¦"
    "Responses are truncated to 25,000 tokens by default.¦Make sure to restart {client} after editing the config."
)
EXAMPLES = _parts(
    "Summarize the {o} I received this week.¦Find all open {o} assigned to me and list them by priority.¦"
    "Create a new {o0} titled 'Quarterly review'.¦What changed in {svc} since yesterday?¦"
    "Write a short status update based on my recent {o}.¦Show me the three largest {o}.¦"
    "Explain what this {o0} is about and suggest next steps.¦Draft a reply to the latest message from Sam.¦"
    "Translate the description of the last {o0} into Spanish.¦Give me a one-paragraph summary of every {o0} tagged"
    " urgent."
)


def _fill(t: str, rng: random.Random) -> str:
    svc = rng.choice(SERVICES)
    o = rng.choice(OBJECTS)
    return t.format(
        ai=rng.choice(ASSISTANTS),
        svc=svc,
        Svc=svc[:1].upper() + svc[1:],
        v=rng.choice(VERBS),
        v2=rng.choice(VERBS),
        V=rng.choice(VERBS).capitalize(),
        o=o,
        o0=o.rstrip("s"),
        client=rng.choice(CLIENTS),
    )


def _config(fake: Faker, rng: random.Random) -> str:
    name = fake.word() + rng.choice(["-mcp", "-server", "-mcp-server"])
    cmd = rng.choice(
        [("npx", ["-y", f"@{fake.word()}/{name}"]), ("uvx", [name]), ("docker", ["run", "-i", "--rm", f"mcp/{name}"])]
    )
    env = {f"{fake.word().upper()}_{rng.choice(['TOKEN', 'API_KEY', 'URL'])}": "<your-value>"}
    return json.dumps({"mcpServers": {name: {"command": cmd[0], "args": cmd[1], "env": env}}}, indent=2)


def _tools(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(2, 7)):
        v, o = rng.choice(VERBS), rng.choice(OBJECTS)
        lines.append(
            f"- `{v}_{o}`: {v.capitalize()} {o} in {rng.choice(SERVICES)}. Inputs: `query` (string), `limit` (number,"
            " optional)"
        )
    return "\n".join(lines)


def ai_doc(fake: Faker, rng: random.Random) -> str:
    """A benign README (or section) of an AI tool or MCP server."""
    title = f"# {rng.choice(SERVICES)} MCP Server" if rng.random() < 0.7 else f"# {fake.word().title()}AI"
    parts = [title, _fill(rng.choice(OVERVIEW), rng)]
    sections = ["features", "install", "config", "tools", "examples", "notes", "prompts"]
    for section in rng.sample(sections, k=rng.randint(2, 5)):
        if section == "features":
            parts.append("## Features\n" + "\n".join("- " + _fill(f, rng) for f in rng.sample(FEATURES, k=3)))
        elif section == "install":
            parts.append(f"## Installation\n```bash\npip install {fake.word()}-mcp\n```\nOr run it with `uvx`.")
        elif section == "config":
            parts.append(
                f"## Configuration\nAdd the following to your {rng.choice(CLIENTS)} configuration:\n```json\n"
                f"{_config(fake, rng)}\n```"
            )
        elif section == "tools":
            parts.append("## Tools\n" + _tools(rng))
        elif section == "examples":
            parts.append(
                "## Example prompts\nTry asking your assistant:\n"
                + "\n".join(f'- "{_fill(e, rng)}"' for e in rng.sample(EXAMPLES, k=3))
            )
        elif section == "notes":
            parts.append("## Security\n" + " ".join(_fill(n, rng) for n in rng.sample(NOTES, k=2)))
        else:
            parts.append(
                "## Prompts\nThe server also provides prompt templates. `weekly_report` asks the model to "
                f"summarize the user's {rng.choice(OBJECTS)} and list open questions; the user can edit the "
                "instructions before sending them."
            )
    return "\n\n".join(parts)
