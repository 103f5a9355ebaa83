"""Safe by default: which tools must not receive attack payloads unless `--allow-destructive` is given.

A tool is unsafe when its name, title or description suggests it writes, deletes, pays or sends
messages, when the capability classifier labels it destructive, or when its annotations say so.
Annotations only ever make a tool *less* safe: a `readOnlyHint` on a tool called `delete_file` is
a claim, and the name wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mcpwarden.detect.capabilities import DESTRUCTIVE, classify_tool
from mcpwarden.types import ToolDef

# Verbs and nouns that mean a call changes or sends something. Matched as whole words of the name
# (snake, kebab and camel case split) and of the description's first sentence.
_CHANGING = frozenset(
    """write create update delete del remove rm drop truncate insert put patch set edit modify rename move mv upload
    overwrite replace append save store commit push merge rebase reset revert checkout deploy install uninstall
    kill terminate stop shutdown reboot restart destroy purge wipe erase clear revoke archive approve reject
    invite ban block unblock assign close reopen lock unlock apply execute exec run send post publish reply
    forward email mail message notify sms tweet dm call dial broadcast share pay payment charge purchase buy order
    transfer refund withdraw deposit invoice checkout subscribe unsubscribe book schedule cancel add""".split()  # noqa: SIM905
)
_DESCRIPTION_ONLY_SAFE = frozenset({"run", "execute", "set", "add", "store", "save", "call", "order", "book"})
# Words that are as often nouns as verbs ("the commit logs", "a content block", "get_annotated_message"). In a
# description they count only where a verb stands: first word, or after "to", "and", "or" …; in a name that
# starts with a reading verb they name what is read. Reference servers showed the cost of counting them
# everywhere: git_log ("Shows the commit logs") and read_media_file ("… a content block") went unattacked.
_NOUN_TOO = frozenset(
    """commit patch store push merge checkout stop clear archive invite block lock post reply forward email mail
    message sms tweet dm broadcast share payment charge purchase transfer refund deposit invoice schedule upload
    edit drop order call book""".split()  # noqa: SIM905
)
_VERB_BEFORE = frozenset({"to", "and", "or", "then", "also", "will", "can", "may", "must", "please"})
_READING = frozenset(
    """get list read show fetch search find query describe view lookup look count check inspect retrieve preview
    browse display summarize summarise explain validate verify""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SENTENCE = re.compile(r"[.!?](?:\s|$)|\n")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _first_sentence(text: str) -> str:
    found = _SENTENCE.search(text)
    return text[: found.start()] if found else text[:300]


def _changing_in_name(name: str) -> list[str]:
    # A gateway namespaces tools as `upstream__tool`: the upstream part is a server's name, so only words
    # that are never nouns count there (`mail__list_inbox` reads; `delete__files` still does not).
    namespace, _, own = name.rpartition("__")
    words = _words(own)
    reading = bool(words) and words[0] in _READING
    found = [w for w in words if w in _CHANGING and not (reading and w in _NOUN_TOO)]
    return found + [w for w in _words(namespace) if w in _CHANGING and w not in _NOUN_TOO]


def _changing_in_description(words: list[str]) -> set[str]:
    found = set()
    for at, word in enumerate(words):
        if word not in _CHANGING or word in _DESCRIPTION_ONLY_SAFE:
            continue
        if word in _NOUN_TOO and at > 0 and words[at - 1] not in _VERB_BEFORE:
            continue
        found.add(word)
    return found


def _annotations(tool: ToolDef) -> Mapping[str, Any]:
    value = tool.definition.get("annotations")
    return value if isinstance(value, Mapping) else {}


def unsafe_reasons(tool: ToolDef) -> list[str]:
    """Why `tool` must not be attacked by default; empty when it looks read-only."""
    reasons: list[str] = []
    title = tool.definition.get("title")
    named = sorted(set(_changing_in_name(tool.name) + _changing_in_name(title if isinstance(title, str) else "")))
    if named:
        reasons.append(f"name says {', '.join(named)}")
    described = sorted(_changing_in_description(_words(_first_sentence(tool.description))))
    if described:
        reasons.append(f"description says {', '.join(described)}")
    if DESTRUCTIVE in classify_tool(tool):
        reasons.append("the capability classifier labels it destructive")
    hints = _annotations(tool)
    if hints.get("destructiveHint") is True:
        reasons.append("annotated destructiveHint")
    if hints.get("readOnlyHint") is False:
        reasons.append("annotated readOnlyHint: false")
    return reasons
