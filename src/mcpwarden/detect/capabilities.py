"""What a tool can do with data: capability labels from its name, description, input schema and annotations.

- `private_data`: reads the user's own data (files, mail, messages, databases, calendars, credentials, repos…)
- `untrusted_content`: returns content other people control (web pages, search results, inbound mail, issues…)
- `exfiltration_sink`: can carry data out (a request to any URL, sending mail or messages, posting to shared places)
- `destructive`: deletes, overwrites, kills, moves money, runs arbitrary commands

A label needs an action and an object that fit (`read` + `file` → private_data), or one strong signal (a
`url` parameter on a tool that fetches, `delete`, a `recipients` parameter). The name and title are read
whole; of the description only its first sentence, where tools say what they do (later sentences tend
to mention other tools and edge cases). Annotations only add labels: they are hints the server writes
about itself, and a server that claims to be read-only must not hide what its own text says it does;
`annotation_conflicts` reports such claims. Pure and deterministic: no I/O, the same input gives the
same labels, some 50–70 µs a tool (10,000 tools in under a second), so the gateway can classify at
`tools/list` time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from types import MappingProxyType
from typing import Any

from mcpwarden.detect.capability_words import VOCABULARY as _VOCABULARY
from mcpwarden.errors import ConfigError
from mcpwarden.types import Severity, ToolDef

PRIVATE_DATA = "private_data"
UNTRUSTED_CONTENT = "untrusted_content"
EXFILTRATION_SINK = "exfiltration_sink"
DESTRUCTIVE = "destructive"
LABELS = (PRIVATE_DATA, UNTRUSTED_CONTENT, EXFILTRATION_SINK, DESTRUCTIVE)

_READ, _FETCH, _WRITE, _SEND, _DESTROY, _PAY, _TRANSFER, _EXEC = (
    "read", "fetch", "write", "send", "destroy", "pay", "transfer", "exec"
)  # fmt: skip
_PRIVATE, _EXTERNAL, _SHARED, _REMOTE_SHARED, _REMOTE, _MONEY, _CODE, _DB = (
    "private", "external", "shared", "remote_shared", "remote", "money", "code", "db"
)  # fmt: skip
_URL, _HOOK, _RECIPIENT, _ADDRESSEE, _BODY = "url", "hook", "recipient", "addressee", "body"
# Too common in prose to mean anything there ("the user", "a status code"): these classes count in names only.
_NAME_ONLY = {"query": "*", "user": "*", "account": "*", "record": "*", "row": "*", "teams": "*", "code": _PRIVATE}
_ENGINES_AMBIGUOUS = frozenset({"google"})  # a search engine only beside `search`
_BIGRAMS = {("pull", "request"): "pull_request", ("pull", "requests"): "pull_request", ("look", "up"): "lookup",
            ("merge", "request"): "merge_request", ("api", "key"): "api_key", ("access", "token"): "access_token",
            ("e", "mail"): "email", ("web", "page"): "webpage"}  # fmt: skip
_PLAIN_ACTIONS = frozenset({_READ, _FETCH, _WRITE})
_URL_FORMATS = frozenset({"uri", "url", "iri", "uri-reference", "iri-reference"})
_CLAUSE_STARTS = frozenset({"to", "tool", "and", "or", "then", ",", ";", ":", "also", "will", "can", "function"})
_PUNCTUATION = frozenset(",;:()")
_IRREVERSIBLE = re.compile(
    r"\b(?:can(?:not|'t| not) be undone|irreversibl[a-z]*|permanently (?:delet|remov|eras|destroy)[a-z]*)"
)
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_TEXT_WORD = re.compile(r"\w+|[,;:()]")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
_FIRST_SENTENCE_CHARS = 300
_MAX_NAME = 256
_MAX_PARAMS = 64
_MAX_EVIDENCE = 4


def _forms(word: str) -> set[str]:
    forms = {word, word + "s", word + "es"}
    if word.endswith("y"):
        forms.add(word[:-1] + "ies")
    return forms


def _entries(text: str) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    key = ""
    for line in text.splitlines():
        if line.strip():
            words = line.split()
            key, words = (key, words) if line[0].isspace() else (words[0], words[1:])
            entries.setdefault(key, []).extend(words)
    return entries


def _table(entries: Mapping[str, list[str]], prefix: str) -> Mapping[str, tuple[str, ...]]:
    out: dict[str, set[str]] = {}
    for key, words in entries.items():
        if key.startswith(prefix):
            for form in (f for word in words for f in _forms(word)):
                out.setdefault(form, set()).add(key[len(prefix) :])
    return MappingProxyType({w: tuple(sorted(tags)) for w, tags in out.items()})


_WORDS = _entries(_VOCABULARY)
_VERB_TABLE = _table(_WORDS, "verb.")
_OBJECT_TABLE = _table(_WORDS, "object.")
_PARAM_TABLE = _table(_WORDS, "param.")
_AMBIGUOUS_FORMS = frozenset(f for w in _WORDS["ambiguous"] for f in _forms(w))
_READ_NOUNS, _EXEC_NOUNS, _HOLDS, _RECIPIENTS, _ADDRESSEES, _NEGATORS = (
    frozenset(_WORDS[k]) for k in ("read_nouns", "exec_nouns", "holds", "recipients", "addressees", "negators")
)
_NAME_ONLY_FORMS = {f: set(_OBJECT_TABLE[w]) if t == "*" else {t} for w, t in _NAME_ONLY.items() for f in _forms(w)}
_PROSE_OBJECTS = {
    w: tuple(t for t in tags if t not in _NAME_ONLY_FORMS.get(w, ())) for w, tags in _OBJECT_TABLE.items()
}
# Every word a description's loop must look at; the rest only become `previous`.
_PROSE_KNOWN = frozenset({*_VERB_TABLE, *(w for w, tags in _PROSE_OBJECTS.items() if tags), *_NEGATORS, *_PUNCTUATION})
_BIGRAM_FIRSTS = frozenset(first for first, _ in _BIGRAMS)
_PLAIN_PARAM = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Capabilities:
    """A tool's capability labels, and for each label the signals that gave it (`name:read`, `parameter:url`)."""

    labels: frozenset[str]
    evidence: Mapping[str, tuple[str, ...]]

    def __contains__(self, label: object) -> bool:
        return label in self.labels


@dataclass(frozen=True)
class AnnotationConflict:
    """An annotation whose claim the tool's own name or description contradicts."""

    annotation: str
    claim: str
    behaviour: tuple[str, ...]
    severity: Severity


@dataclass
class _Signals:
    """What the texts of one definition say: actions and object classes, each with its evidence."""

    actions: dict[str, list[str]] = field(default_factory=dict)
    stated: dict[str, list[str]] = field(default_factory=dict)  # actions the tool plainly says it takes
    objects: dict[str, list[str]] = field(default_factory=dict)
    holds: bool = False  # the name says nothing leaves (`draft_email`)

    def act(self, action: str, evidence: str, *, stated: bool = True, counts: bool = True) -> None:
        for name in (action, _READ) if action == _FETCH else (action,):
            if counts:
                _note(self.actions, name, evidence)
            if stated:
                _note(self.stated, name, evidence)

    def obj(self, tag: str, evidence: str) -> None:
        _note(self.objects, tag, evidence)

    def named(self, tag: str) -> list[str]:
        """Evidence for an object class from the name or title; from the description only when the name
        names no object at all (`add_reaction` adds a reaction, whatever message the description mentions)."""
        found = self.objects.get(tag, [])
        from_name = [e for e in found if e.startswith(("name:", "title:"))]
        if from_name or any(e.startswith(("name:", "title:")) for items in self.objects.values() for e in items):
            return from_name
        return found


def _note(table: dict[str, list[str]], key: str, evidence: str) -> None:
    found = table.setdefault(key, [])
    if evidence not in found:
        found.append(evidence)


def _fold(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _join_bigrams(words: list[str]) -> list[str]:
    if _BIGRAM_FIRSTS.isdisjoint(words):
        return words
    out: list[str] = []
    skip = False
    for index, word in enumerate(words):
        if skip:
            skip = False
            continue
        joined = _BIGRAMS.get((word, words[index + 1])) if index + 1 < len(words) else None
        out.append(joined or word)
        skip = joined is not None
    return out


def _read_name(text: str, source: str, signals: _Signals) -> None:
    """A name or title: every word is an object; the verb is the first unambiguous one, else a read-noun,
    else the first ambiguous one (`post_message` posts, `message_history` reads)."""
    words = _join_bigrams([w.lower() for w in _NAME_WORD.findall(_fold(text[:_MAX_NAME]))])
    holds = not _HOLDS.isdisjoint(words)
    signals.holds = signals.holds or holds
    verbs = [w for w in words if w in _VERB_TABLE and w not in _AMBIGUOUS_FORMS]
    read_noun = next((w for w in words if w in _READ_NOUNS), None) if not verbs else None
    if read_noun is not None:
        signals.act(_READ, f"{source}:{read_noun}")
    elif not verbs and not holds:  # `draft_email` drafts: `email` is its object, not its verb
        verbs = [w for w in words if w in _VERB_TABLE][:1]
    for verb in verbs:
        for action in _VERB_TABLE[verb]:
            signals.act(action, f"{source}:{verb}")
    for word in words:
        for tag in _OBJECT_TABLE.get(word, ()):
            signals.obj(tag, f"{source}:{word}")
        if word in _EXEC_NOUNS:
            signals.act(_EXEC, f"{source}:{word}")
    if "search" in words and _ENGINES_AMBIGUOUS.intersection(words):
        signals.obj(_EXTERNAL, f"{source}:{sorted(_ENGINES_AMBIGUOUS.intersection(words))[0]}")


def _first_sentence(description: str) -> str:
    head = description[: _FIRST_SENTENCE_CHARS * 2].lstrip()
    end = _SENTENCE_END.search(head)
    return head[: end.start() if end else _FIRST_SENTENCE_CHARS][:_FIRST_SENTENCE_CHARS]


def _read_description(description: str, signals: _Signals) -> None:
    """The first sentence: verbs not negated (base or third-person form, so `deleted files` is no delete),
    ambiguous ones only where a clause starts; objects except those that mean little in prose.

    When the name has a verb, the description adds only graver actions it plainly states (`write_file`:
    "…or overwrite an existing file"); its reads and writes, and verbs of purpose ("branches to delete"),
    are kept for `annotation_conflicts` alone.
    """
    named_verb = bool(signals.actions)
    words = _join_bigrams(_TEXT_WORD.findall(_fold(_first_sentence(description)).lower()))
    last_negator = -10
    previous = ""
    for index, word in enumerate(words):
        if word not in _PROSE_KNOWN:
            pass
        elif word in _PUNCTUATION:
            last_negator = -10
        elif word in _NEGATORS:
            last_negator = index
        elif index - last_negator > 3:
            if word in _VERB_TABLE and (word not in _AMBIGUOUS_FORMS or index == 0 or previous in _CLAUSE_STARTS):
                stated = previous != "to"  # "files to delete" names a purpose, not what the tool does
                for action in _VERB_TABLE[word]:
                    counts = not named_verb or (stated and action not in _PLAIN_ACTIONS)
                    signals.act(action, f"description:{word}", stated=stated, counts=counts)
            for tag in _PROSE_OBJECTS.get(word, ()):
                signals.obj(tag, f"description:{word}")
        previous = word
    lowered = description[:2000].lower()
    marker = (
        _IRREVERSIBLE.search(lowered)
        if "undone" in lowered or "irrevers" in lowered or "permanent" in lowered
        else None
    )
    if marker is not None:
        signals.act(_DESTROY, f"description:{marker.group()}")


def _read_schema(schema: Any, signals: _Signals) -> None:
    """Parameter names and formats: `url`, `to` + `body`, `path`, `sql`, `command`, `owner` + `repo`…"""
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(properties, Mapping):
        return
    names: list[str] = []
    for raw_name, spec in islice(properties.items(), _MAX_PARAMS):
        raw = str(raw_name)[:_MAX_NAME]
        name = raw if _PLAIN_PARAM.fullmatch(raw) else "_".join(w.lower() for w in _NAME_WORD.findall(_fold(raw)))
        names.append(name)
        evidence = f"parameter:{str(raw_name)[:64]}"
        tags = {tag for word in name.split("_") for tag in _PARAM_TABLE.get(word, ())}
        fmt = spec.get("format") if isinstance(spec, Mapping) else None
        if fmt in _URL_FORMATS:
            tags.add(_URL)
        if fmt == "email" or name in _ADDRESSEES:
            tags.add(_ADDRESSEE)
        if name in _RECIPIENTS:
            tags.add(_RECIPIENT)
        if _URL in tags:
            tags.add(_EXTERNAL)
        for tag in sorted(tags):
            signals.obj(tag, evidence)
    if "owner" in names and "repo" in names:
        signals.obj(_REMOTE, "parameter:owner+repo")


def _signals(defn: ToolDef) -> _Signals:
    signals = _Signals()
    body = defn.definition
    _read_name(defn.name, "name", signals)
    annotations = body.get("annotations")
    for title in (body.get("title"), annotations.get("title") if isinstance(annotations, Mapping) else None):
        if isinstance(title, str) and title:
            _read_name(title[:200], "title", signals)
    if defn.description:
        _read_description(defn.description, signals)
    _read_schema(body.get("inputSchema"), signals)
    if not signals.actions and _URL in signals.objects:  # `webpage(url)`: a URL and nothing else is fetched
        signals.act(_FETCH, signals.objects[_URL][0], stated=False)
    return signals


def _derive(s: _Signals) -> dict[str, list[str]]:
    """Labels from signals; each label's evidence is the action and the object that made it."""
    a, o = s.actions, s.objects
    out: dict[str, list[str]] = {}

    def add(label: str, *evidence: list[str]) -> None:
        for items in evidence:
            for item in items[:2]:
                _note(out, label, item)

    if _READ in a and _PRIVATE in o:
        add(PRIVATE_DATA, a[_READ], o[_PRIVATE])
    if _EXEC in a and _DB in o and _WRITE not in a:  # `run_query`: arbitrary SQL reads; `write_query` writes
        add(PRIVATE_DATA, a[_EXEC], o[_DB])
    if _READ in a and _EXTERNAL in o:
        add(UNTRUSTED_CONTENT, a[_READ], o[_EXTERNAL])
    if _SEND in a:
        add(EXFILTRATION_SINK, a[_SEND])
    if _WRITE in a and s.named(_SHARED):
        add(EXFILTRATION_SINK, a[_WRITE], s.named(_SHARED))
    if _WRITE in a and s.named(_REMOTE_SHARED) and _REMOTE in o:
        add(EXFILTRATION_SINK, a[_WRITE], s.named(_REMOTE_SHARED), o[_REMOTE])
    if _URL in o and _READ in a:  # whatever fetches a URL it is given can put data in that URL
        add(EXFILTRATION_SINK, o[_URL], a[_READ])
    if not s.holds:
        for tag in (_HOOK, _RECIPIENT):
            if tag in o:
                add(EXFILTRATION_SINK, o[tag])
        if _ADDRESSEE in o and (_SEND in a or _BODY in o):
            add(EXFILTRATION_SINK, o[_ADDRESSEE], o.get(_BODY, []))
    if _EXEC in a and _CODE in o:  # a shell or interpreter can read, send and destroy anything
        for label in (PRIVATE_DATA, EXFILTRATION_SINK, DESTRUCTIVE):
            add(label, a[_EXEC], o[_CODE])
    for action in (_DESTROY, _PAY):
        if action in a:
            add(DESTRUCTIVE, a[action])
    money = o.get(_MONEY, [])
    movers = [_TRANSFER, _SEND, _EXEC]
    if any(not e.startswith("parameter:") for e in money):  # `create_payment`, not `create_invoice(amount)`
        movers.append(_WRITE)
    moved = next((a[x] for x in movers if x in a), None)
    if money and moved:
        add(DESTRUCTIVE, moved, money)
    return out


def _annotations(defn: ToolDef) -> Mapping[str, Any]:
    value = defn.definition.get("annotations")
    return value if isinstance(value, Mapping) else {}


def _from_annotations(defn: ToolDef, s: _Signals, out: dict[str, list[str]]) -> None:
    """Annotations add labels, never remove them (they are the server's own unverified claims)."""
    hints = _annotations(defn)
    read_only = hints.get("readOnlyHint")
    if hints.get("destructiveHint") is True and read_only is not True:
        _note(out, DESTRUCTIVE, "annotation:destructiveHint=true")
    if hints.get("openWorldHint") is True:
        if _READ in s.actions or read_only is True:
            _note(out, UNTRUSTED_CONTENT, "annotation:openWorldHint=true")
        if _SEND in s.actions or _WRITE in s.actions or read_only is False:
            _note(out, EXFILTRATION_SINK, "annotation:openWorldHint=true")


def parse_override(key: str, entries: Iterable[str]) -> tuple[frozenset[str] | None, frozenset[str], frozenset[str]]:
    """An override's meaning: (labels that replace the derived ones, or None; labels added; labels removed).

    `["private_data"]` replaces; `["+destructive", "-exfiltration_sink"]` adjusts; `[]` means no labels.
    Raises ConfigError (naming `key`) for an unknown label or a mix of both forms.
    """
    if isinstance(entries, str):
        raise ConfigError("labels must be a list, not a string", where=key)
    items = [str(e).strip() for e in entries]
    signed = [e for e in items if e[:1] in "+-" and e]
    if signed and len(signed) != len(items):
        raise ConfigError("either list labels to replace the derived ones, or +label/-label to adjust", where=key)
    names = [e[1:] if signed else e for e in items]
    unknown = sorted(set(names) - set(LABELS))
    if unknown:
        raise ConfigError(f"unknown labels {unknown} (one of: {', '.join(LABELS)})", where=key)
    if not signed:
        return frozenset(names), frozenset(), frozenset()
    return None, frozenset(e[1:] for e in signed if e[0] == "+"), frozenset(e[1:] for e in signed if e[0] == "-")


def validate_overrides(overrides: Mapping[str, Iterable[str]]) -> None:
    """Check a whole override table at config load time (keys `server/tool` or `server/*`)."""
    for key, entries in overrides.items():
        if key.count("/") < 1 or not key.split("/", 1)[0] or not key.split("/", 1)[1]:
            raise ConfigError("override keys are `server/tool` or `server/*`", where=key)
        parse_override(key, entries)


def _apply_override(defn: ToolDef, out: dict[str, list[str]], overrides: Mapping[str, Iterable[str]]) -> None:
    for key in (f"{defn.server}/{defn.name}", f"{defn.server}/*"):
        if key in overrides:
            replace, added, removed = parse_override(key, overrides[key])
            if replace is not None:
                added, removed = replace, frozenset(LABELS) - replace
            for label in removed:
                out.pop(label, None)
            for label in added:
                out[label] = [f"override:{key}"]
            return


def classify_tool(defn: ToolDef, overrides: Mapping[str, Iterable[str]] | None = None) -> Capabilities:
    """The capability labels of one tool, each with its evidence.

    `overrides` (from gateway or scan configuration) is keyed `server/tool`, or `server/*` for every tool
    of a server; its value replaces the labels (`["private_data"]`, `[]` for none) or adjusts them
    (`["+destructive", "-exfiltration_sink"]`). Raises ConfigError for an invalid override entry.
    """
    signals = _signals(defn)
    out = _derive(signals)
    _from_annotations(defn, signals, out)
    if overrides:
        _apply_override(defn, out, overrides)
    evidence = {label: tuple(out[label][:_MAX_EVIDENCE]) for label in LABELS if label in out}
    return Capabilities(frozenset(evidence), MappingProxyType(evidence))


def annotation_conflicts(defn: ToolDef) -> tuple[AnnotationConflict, ...]:
    """Annotations the tool's own name or description contradicts.

    `readOnlyHint: true` on a tool that says it deletes, sends, pays or runs commands (high), or that it
    writes (medium); `destructiveHint: false` on a tool that says it deletes, pays or runs commands (medium).
    Only what the tool plainly states counts: its name and title, and verbs that start a clause of its
    first description sentence.
    """
    hints = _annotations(defn)
    if hints.get("readOnlyHint") is not True and hints.get("destructiveHint") is not False:
        return ()
    signals = _signals(defn)
    stated = signals.stated
    code_exec = [e for e in stated.get(_EXEC, []) if _CODE in signals.objects]
    money = stated.get(_TRANSFER, []) if _MONEY in signals.objects else []
    destroys = [*stated.get(_DESTROY, []), *stated.get(_PAY, []), *money, *code_exec]
    if hints.get("readOnlyHint") is True:
        grave = [*destroys, *stated.get(_SEND, [])]
        found = grave or stated.get(_WRITE, [])
        if found:
            severity = Severity.HIGH if grave else Severity.MEDIUM
            return (AnnotationConflict("readOnlyHint", "readOnlyHint: true", tuple(found[:_MAX_EVIDENCE]), severity),)
        return ()
    if destroys:
        return (AnnotationConflict("destructiveHint", "destructiveHint: false", tuple(destroys[:4]), Severity.MEDIUM),)
    return ()
