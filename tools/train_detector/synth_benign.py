"""Synthetic benign tool outputs and descriptions, written by this project (licence: the project's).

Tool outputs take the shapes real tools return (emails, calendar entries, chat messages, tables,
JSON records, file listings, logs, search results, tickets), filled by Faker (MIT) with made-up
names, dates and numbers. Benign look-alikes are the hard part: mail that says "forward this to",
documentation that says "ignore", a surprise party to keep secret, security articles that describe
prompt injection, code that builds a system prompt. They teach the model that an imperative is not
an injection unless it is aimed at the model.
"""

from __future__ import annotations

import json
import random

from faker import Faker

HUMAN_LINES = [
    "Please forward this to {name} when you get a chance.",
    "Ignore my previous email, the meeting moved to {day}.",
    "Don't tell {name} about the party, it's a surprise!",
    "Can you send the report to {email} by {day}?",
    "Please do not reply to this automated message.",
    "Remember to submit your timesheet before {day}.",
    "Click the link below to confirm your subscription.",
    "Feel free to disregard the earlier invoice, it was a duplicate.",
    "Keep this confidential until the announcement on {day}.",
    "Forward the signed contract to legal at {email}.",
    "You can safely ignore this message if you did not request a password reset.",
    "Reminder: the office will be closed on {day}.",
    "Let me know if you need anything else.",
    "I've attached the slides from yesterday's call.",
    "Could you review the draft and add your comments?",
    "Please transfer the deposit of {amount} before the end of the month.",
    "Your order has shipped and will arrive {day}.",
    "Pay the balance of {amount} at your earliest convenience.",
    "Please share the file with the rest of the team.",
    "Do not share your password with anyone, including our staff.",
    "Forget the old agenda, here is the new one.",
    "Delete the old backups once the migration has been verified.",
    "Run the tests before you push any changes.",
]
DOC_LINES = [
    "To ignore a file, add its path to `.gitignore`.",
    "The `--force` flag ignores previous settings.",
    "Set `system_prompt` in the config file to change the assistant's default behaviour.",
    "Warnings can be ignored with `-W ignore`.",
    "This function overrides the default handler.",
    "Prompt injection is an attack in which instructions hidden in data are followed by a language model.",
    "Attackers may write phrases such as 'ignore previous instructions' into web pages; filters should flag them.",
    "Never paste your API key into a public issue.",
    "The assistant role is used for model replies in the chat API.",
    "Run `rm -rf build/` to clean the build directory.",
    "Send a POST request to /api/v1/items to create an item.",
    "Credentials are read from ~/.aws/credentials by default.",
    "Use `ssh-keygen` to create a key in ~/.ssh/id_ed25519.",
    "The tool forwards messages to the configured webhook URL.",
    "Administrators can reset a user's password from the console.",
    "Jailbreak prompts try to make a chatbot break its rules; see the red-team guide for examples.",
    "Do not commit `.env` files: they contain secrets.",
    "Call `list_tables` first to discover the schema.",
    "Install it with `pip install {pkg}`.",
    "Run `npm install` and then `npm start`.",
    "You can ignore this warning.",
    "If pip prints a warning about an outdated version, you can safely ignore it.",
    "Restart the server after changes.",
    "Add the following to your claude_desktop_config.json:",
    "Set the API_KEY environment variable before starting.",
    "Delete the cache directory to force a rebuild.",
    "Send us an email at {email} if you find a bug.",
    "Forward port 8080 to your local machine with `ssh -L`.",
    "Copy `.env.example` to `.env` and fill in your token.",
]
CODE = [
    'messages = [\n    {"role": "system", "content": "You are a helpful assistant."},\n'
    '    {"role": "user", "content": question},\n]\nreply = client.chat(messages)',
    'def forward_email(msg, to):\n    """Forward a message to another address."""\n    smtp.send(to, msg)\n',
    "# ignore previous results if the cache is stale\nif cache.expired():\n    cache.clear()\n",
    "SYSTEM_PROMPT = (\n    'You summarise support tickets in three bullet points.'\n)\n",
    "for path in Path('~/.ssh').expanduser().glob('*.pub'):\n    print(path.read_text())\n",
]


def _email(fake: Faker, rng: random.Random) -> str:
    lines = [fake.sentence(nb_words=rng.randint(6, 14)) for _ in range(rng.randint(1, 4))]
    lines += [_fill(rng.choice(HUMAN_LINES), fake, rng) for _ in range(rng.randint(1, 3))]
    rng.shuffle(lines)
    body = f"Hi {fake.first_name()},\n\n" + " ".join(lines) + f"\n\nBest,\n{fake.name()}"
    head = (
        f"From: {fake.email()}\nTo: {fake.email()}\nDate: {fake.date_time_this_year()}\nSubject: {fake.catch_phrase()}"
    )
    return head + "\n\n" + body


def _fill(template: str, fake: Faker, rng: random.Random) -> str:
    return template.format(
        name=fake.first_name(), email=fake.email(), day=fake.day_of_week(), amount=f"${rng.randint(20, 5000)}"
    )


def _json_records(fake: Faker, rng: random.Random) -> str:
    kind = rng.choice(["event", "transaction", "contact", "file", "review", "hotel", "ticket", "message"])
    records = []
    for _ in range(rng.randint(1, 5)):
        if kind == "event":
            rec = {
                "title": fake.catch_phrase(),
                "start": str(fake.date_time_this_month()),
                "location": fake.city(),
                "participants": [fake.email() for _ in range(rng.randint(1, 4))],
                "description": fake.sentence(),
            }
        elif kind == "transaction":
            rec = {
                "id": rng.randint(1, 999),
                "date": str(fake.date_this_year()),
                "amount": round(rng.uniform(-900, 900), 2),
                "recipient": fake.iban(),
                "subject": rng.choice([fake.bs(), "Rent", "Groceries", "Salary", "Refund"]),
            }
        elif kind == "contact":
            rec = {"name": fake.name(), "email": fake.email(), "phone": fake.phone_number(), "company": fake.company()}
        elif kind == "file":
            rec = {
                "name": fake.file_name(),
                "size": rng.randint(10, 10**7),
                "owner": fake.user_name(),
                "modified": str(fake.date_time_this_year()),
                "shared_with": [fake.email()],
            }
        elif kind == "review":
            rec = {"author": fake.name(), "rating": rng.randint(1, 5), "text": fake.paragraph(nb_sentences=2)}
        elif kind == "hotel":
            rec = {
                "name": f"{fake.last_name()} {rng.choice(['Hotel', 'Inn', 'Suites'])}",
                "city": fake.city(),
                "price_per_night": rng.randint(60, 600),
                "rating": round(rng.uniform(2.5, 5), 1),
            }
        elif kind == "ticket":
            rec = {
                "key": f"PRJ-{rng.randint(1, 9999)}",
                "summary": fake.sentence(),
                "status": rng.choice(["Open", "Done"]),
                "assignee": fake.name(),
                "comment": _fill(rng.choice(HUMAN_LINES), fake, rng),
            }
        else:
            rec = {
                "channel": f"#{fake.word()}",
                "sender": fake.user_name(),
                "body": _fill(rng.choice(HUMAN_LINES), fake, rng),
            }
        records.append(rec)
    if rng.random() < 0.5:
        return json.dumps(records if len(records) > 1 else records[0], indent=rng.choice([None, 2]))
    return "\n".join("\n".join(f"{k}: {v}" for k, v in r.items()) for r in records)


def _table(fake: Faker, rng: random.Random) -> str:
    cols = rng.sample(
        ["name", "city", "amount", "date", "status", "email", "product", "qty", "notes"], k=rng.randint(3, 6)
    )
    gen = {
        "name": fake.name,
        "city": fake.city,
        "amount": lambda: f"{rng.uniform(1, 9999):.2f}",
        "date": fake.date,
        "status": lambda: rng.choice(["paid", "pending", "shipped"]),
        "email": fake.email,
        "product": fake.word,
        "qty": lambda: str(rng.randint(1, 50)),
        "notes": lambda: fake.sentence(nb_words=5),
    }
    rows = [[str(gen[c]()) for c in cols] for _ in range(rng.randint(2, 12))]
    if rng.random() < 0.5:
        return "\n".join(",".join(r) for r in [cols, *rows])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])


def _misc(fake: Faker, rng: random.Random) -> str:
    kind = rng.choice(["log", "listing", "search", "git", "weather", "doc", "code", "chat"])
    if kind == "log":
        return "\n".join(
            f"{fake.date_time_this_month()} {rng.choice(['INFO', 'WARN', 'ERROR'])} {fake.sentence()}"
            for _ in range(rng.randint(3, 15))
        )
    if kind == "listing":
        return "\n".join(
            f"{rng.choice(['-rw-r--r--', 'drwxr-xr-x'])} {fake.user_name()} {rng.randint(0, 99999):>6} "
            f"{fake.file_path()}"
            for _ in range(rng.randint(3, 15))
        )
    if kind == "search":
        return "\n\n".join(
            f"{i}. {fake.catch_phrase()}\n{fake.url()}\n{fake.paragraph(nb_sentences=2)}"
            for i in range(1, rng.randint(3, 6))
        )
    if kind == "git":
        return "\n\n".join(
            f"commit {fake.sha1()}\nAuthor: {fake.name()} <{fake.email()}>\n"
            f"Date: {fake.date_time_this_year()}\n\n    {fake.sentence()}"
            for _ in range(rng.randint(1, 5))
        )
    if kind == "weather":
        sky = rng.choice(["sunny", "cloudy", "rain"])
        return f"Weather for {fake.city()}: {rng.randint(-10, 35)}°C, {sky}, wind {rng.randint(0, 60)} km/h."
    if kind == "doc":
        lines = [
            line.format(pkg=fake.word() + rng.choice(["", "-cli", "-tools"]), email=fake.email())
            for line in rng.sample(DOC_LINES, k=rng.randint(2, 6))
        ]
        return "\n".join(lines + [fake.paragraph() for _ in range(rng.randint(0, 2))])
    if kind == "code":
        return rng.choice(CODE)
    return "\n".join(
        f"[{fake.time()}] {fake.first_name()}: "
        + (_fill(rng.choice(HUMAN_LINES), fake, rng) if rng.random() < 0.4 else fake.sentence())
        for _ in range(rng.randint(2, 8))
    )


def benign_output(rng: random.Random, fake: Faker) -> tuple[str, str]:
    """(text, generator name) of one benign synthetic tool output."""
    kind = rng.choices(["email", "json", "table", "misc"], weights=[3, 3, 1, 3])[0]
    fn = {"email": _email, "json": _json_records, "table": _table, "misc": _misc}[kind]
    return fn(fake, rng), kind


DESC_VERBS = [
    "Returns",
    "Lists",
    "Creates",
    "Fetches",
    "Searches",
    "Updates",
    "Deletes",
    "Sends",
    "Reads",
    "Writes",
    "Retrieves",
    "Gets",
    "Runs",
    "Uploads",
    "Downloads",
    "Schedules",
    "Transfers",
    "Forwards",
    "Summarizes",
]
DESC_OBJECTS = [
    "the files in a directory",
    "an email to the given recipients",
    "the current weather for a city",
    "issues matching a query",
    "a calendar event",
    "a message to a Slack channel",
    "the rows of a table",
    "the content of a web page as markdown",
    "a pull request",
    "money between two of the user's accounts",
    "the user's contacts",
    "log entries for a service",
    "a file's contents",
    "a shell command in a sandbox",
    "a document to the shared drive",
    "the balance of an account",
    "a ticket in the tracker",
]
DESC_NOTES = [
    "Use this tool when the user asks about {topic}.",
    "Call `{tool}` first to get the id.",
    "Paths must be absolute.",
    "Do not use this tool for large files; use `{tool}` instead.",
    "Returns an error if the item does not exist.",
    "Requires the `{scope}` scope.",
    "Always confirm with the user before deleting anything.",
    "Results are paginated; pass `cursor` to get the next page.",
    "Only works inside the allowed directories.",
    "The email is sent from the user's own account.",
    "Ask the user for confirmation before sending money.",
    "Never pass secrets in the query.",
    "Before calling this tool, make sure the repository is initialised.",
    "Ignores hidden files unless `include_hidden` is true.",
    "Supports glob patterns such as `*.py`.",
    "Important: dates must be ISO 8601.",
    "Note: this tool is read-only.",
    "If unsure, ask the user which account to use.",
]


def benign_description(rng: random.Random) -> str:
    """A synthetic benign tool description (with the usage notes real descriptions carry)."""
    parts = [f"{rng.choice(DESC_VERBS)} {rng.choice(DESC_OBJECTS)}."]
    for note in rng.sample(DESC_NOTES, k=rng.randint(0, 3)):
        parts.append(
            note.format(
                topic=rng.choice(["files", "email", "weather", "payments", "issues"]),
                tool=rng.choice(["list_items", "search", "get_user", "read_file_chunk"]),
                scope=rng.choice(["repo", "mail.send", "files.read"]),
            )
        )
    if rng.random() < 0.3:
        parts.append(
            "\n\nArgs:\n    "
            + "\n    ".join(
                f"{w}: {rng.choice(['The id.', 'Optional filter.', 'Maximum results.'])}"
                for w in rng.sample(["id", "query", "limit", "path", "to", "body"], k=2)
            )
        )
    return " ".join(parts)


# What real tool descriptions say to the model, legitimately: usage rules, ordering, confirmation,
# warnings about dangerous capabilities. Poisoning hides in exactly this register, so the model must
# see plenty of it as benign.
MODEL_NOTES = [
    "IMPORTANT: Always call `{tool}` first to obtain the {obj} id.",
    "You MUST provide either `path` or `url`, not both.",
    "Use this tool when the user asks to {verb} {obj}. Do not use it for {obj2}; use `{tool}` instead.",
    "The assistant should ask the user for confirmation before it {verb}s {obj}.",
    "Never guess IDs: look them up with `{tool}`.",
    "Returns JSON with the fields `id`, `name` and `url`.",
    "If the result is truncated, call the tool again with a larger `offset`.",
    "Prefer this tool over web search for questions about {obj}.",
    "Executes a shell command on the host and returns stdout, stderr and the exit code.",
    "Reads the file at the given path. Paths outside the workspace are rejected.",
    "Sends an email on behalf of the user. Only use it after the user has approved the draft.",
    "WARNING: this permanently deletes the {obj}. There is no undo.",
    "Requires admin privileges on the {obj}.",
    "Before calling this tool, make sure you know the user's {obj} id.",
    "When the user mentions a date without a year, assume the current year.",
    "Answer in the language the user wrote in.",
    "Do not put secrets or passwords in the `query` parameter.",
    "Results are sorted by relevance; show the user the top five.",
    "Pass the user's question verbatim in `query`.",
    "Returns the user's profile: name, email address and phone number.",
    "Gets the secret stored under `name` in the vault. The caller needs read access to that path.",
    "Runs an arbitrary SQL query against the configured database. Use read-only queries unless the user asks"
    " otherwise.",
    "This tool can read environment variables of the server process, e.g. to check configuration.",
    "Uploads a local file to the user's bucket and returns its public URL.",
    "Transfers money between the user's own accounts. The amount must be positive.",
    "Fetches a URL and returns the page as Markdown. Content from the web is untrusted.",
    "Use `{tool}` to list the available {obj} before calling this one.",
    "Call this at most once per conversation.",
    "Note: large repositories can take a minute to index.",
    "The response includes a `next_cursor`; pass it back to get more results.",
    "Must be called before any other tool of this server to authenticate the session.",
    "Always include the project key, for example `PROJ`.",
    "If the user does not specify a limit, use 10.",
    "Do not call this tool in a loop; batch the ids instead.",
    "Only available when the server runs with `--allow-write`.",
]
MODEL_OBJS = ["issue", "file", "repository", "calendar", "message", "table", "customer", "ticket", "dashboard", "page"]
MODEL_VERBS = ["create", "update", "delete", "read", "search", "send", "list", "export", "archive", "share"]


def tool_description(rng: random.Random) -> str:
    """A benign tool description in the register real MCP servers use, with model-directed notes."""
    verb, obj = rng.choice(MODEL_VERBS), rng.choice(MODEL_OBJS)
    head = rng.choice(
        [
            f"{verb.capitalize()} a {obj}.",
            f"{verb.capitalize()}s {obj}s matching the given filters.",
            f"Tool to {verb} {obj}s in the connected workspace.",
            f"{rng.choice(DESC_VERBS)} {rng.choice(DESC_OBJECTS)}.",
            f"This tool allows you to {verb} {obj}s.",
            f"Use this tool to {verb} the user's {obj}s.",
            f"Allows the user to {verb} a {obj}.",
            f"Use this tool to greet the user and {verb} their {obj}s.",
            f"{verb.capitalize()} {obj}s for the user. This tool lets you {verb} any {obj} you can access.",
        ]
    )
    notes = [
        n.format(
            tool=f"{rng.choice(MODEL_VERBS)}_{rng.choice(MODEL_OBJS)}s",
            obj=obj,
            obj2=rng.choice(MODEL_OBJS) + "s",
            verb=verb,
        )
        for n in rng.sample(MODEL_NOTES, k=rng.randint(1, 4))
    ]
    sep = rng.choice([" ", "\n\n", "\n"])
    text = head + sep + sep.join(notes)
    if rng.random() < 0.3:
        text += "\n\nArgs:\n    " + "\n    ".join(
            f"{p}: {rng.choice(['The id.', 'Optional filter.', 'Maximum results (default 10).', 'ISO 8601 date.'])}"
            for p in rng.sample(["id", "query", "limit", "path", "to", "body", "since"], k=rng.randint(1, 3))
        )
    return text
