"""The gateway's configuration: one YAML file, validated once at start, secrets resolved at load.

Every problem is a `ConfigError` naming the file, the key (dotted, e.g. `upstreams.files.command`) and
what is wrong, so the CLI prints one line. Secret values (API keys, upstream credentials) are written
as references, `env:NAME` or `file:PATH`, and resolved here; the config file never has to hold them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from mcpwarden.errors import ConfigError
from mcpwarden.gateway.auth.auth_config import parse_auth
from mcpwarden.gateway.auth.settings import AuthSettings
from mcpwarden.gateway.auth.upstream_auth_config import parse_upstream_auth
from mcpwarden.gateway.auth.upstream_credentials import with_credentials
from mcpwarden.gateway.telemetry import TelemetrySettings, parse_telemetry
from mcpwarden.settings import Settings
from mcpwarden.types import Principal, ServerSpec

Mode = Literal["enforce", "monitor"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_PATH = "/mcp"
DEFAULT_SEPARATOR = "__"
MAX_CONFIG_BYTES = 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_TOP_KEYS = {
    "listen",
    "mode",
    "namespace_separator",
    "limits",
    "upstreams",
    "clients",
    "policy",
    "interceptors",
    "storage",
    "logging",
    "auth",
    "telemetry",
}


@dataclass(frozen=True)
class Listen:
    """Where the HTTP front listens and whom it answers (Origin and Host allow-lists)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    path: str = DEFAULT_PATH
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def effective_hosts(self) -> frozenset[str]:
        """`Host` header values accepted: the configured list, or the loopback names on our port."""
        if self.allowed_hosts:
            return frozenset(h.lower() for h in self.allowed_hosts)
        names = {f"127.0.0.1:{self.port}", f"localhost:{self.port}", f"[::1]:{self.port}"}
        if not self.is_loopback and self.host not in ("0.0.0.0", "::"):  # noqa: S104 - compared, not bound
            names.add(f"{self.host}:{self.port}".lower())
        return frozenset(names)

    def effective_origins(self) -> frozenset[str]:
        """`Origin` values accepted from browsers: the configured list, or our own loopback origins."""
        if self.allowed_origins:
            return frozenset(o.rstrip("/").lower() for o in self.allowed_origins)
        return frozenset(f"{self.scheme}://{h}" for h in self.effective_hosts())


@dataclass(frozen=True)
class Limits:
    """Bounds on what a client may send and how long the gateway waits."""

    max_message_bytes: int = 4 * 1024 * 1024
    max_json_depth: int = 64
    max_batch: int = 32
    call_timeout: float = 60.0
    startup_timeout: float = 30.0
    max_sessions: int = 10_000
    session_idle_timeout: float = 3600.0


@dataclass(frozen=True)
class ClientIdentity:
    """A configured client: who it is, and the API key (stored as a SHA-256 digest) it presents."""

    id: str
    key_digest: bytes
    principal: Principal


@dataclass(frozen=True)
class GatewayConfig:
    """The whole validated configuration. `source` is the file it came from (for messages)."""

    upstreams: tuple[ServerSpec, ...]
    listen: Listen = field(default_factory=Listen)
    mode: Mode = "enforce"
    namespace_separator: str = DEFAULT_SEPARATOR
    namespaced: bool = True
    limits: Limits = field(default_factory=Limits)
    clients: tuple[ClientIdentity, ...] = ()
    policy: Path | None = None
    interceptors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    db_path: Path | None = None
    log_level: str = "info"
    source: str = "<config>"
    auth: AuthSettings | None = None
    insecure: bool = False  # `--insecure`: serve beyond loopback without authentication (warned on every start)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)

    def upstream(self, name: str) -> ServerSpec:
        for spec in self.upstreams:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def authenticated(self) -> bool:
        """Whether callers must prove who they are (API keys or OAuth tokens)."""
        return bool(self.clients) or self.auth is not None

    def with_listen(
        self, host: str | None = None, port: int | None = None, *, insecure: bool | None = None
    ) -> GatewayConfig:
        """The same config listening elsewhere (CLI `--host`/`--port`/`--insecure` override the file)."""
        listen = replace(self.listen, host=host or self.listen.host, port=port or self.listen.port)
        config = replace(self, listen=listen, insecure=self.insecure if insecure is None else insecure)
        _check_exposure(config)
        return config


class _Reader:
    """Typed access to a YAML mapping with errors that name the file and the dotted key."""

    def __init__(self, source: str, base_dir: Path, environ: Mapping[str, str]) -> None:
        self.source = source
        self.base_dir = base_dir
        self.environ = environ

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, where=f"{self.source}: {key}" if key else self.source)

    def mapping(self, value: Any, key: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a mapping, found {type(value).__name__}")
        return value

    def only(self, value: Mapping[str, Any], key: str, allowed: set[str]) -> None:
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.fail(key, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")

    def string(self, value: Any, key: str, *, secret: bool = False) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(key, f"must be a string, found {type(value).__name__}")
        return self.resolve(str(value), key) if secret else str(value)

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, found {type(value).__name__}")
        return tuple(self.string(v, f"{key}[{i}]") for i, v in enumerate(value))

    def number(self, value: Any, key: str, *, minimum: float, integer: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
            kind = "an integer" if integer else "a number"
            raise self.fail(key, f"must be {kind}, found {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum:g}, found {value!r}")
        return float(value)

    def resolve(self, value: str, key: str) -> str:
        """Resolve `env:NAME` and `file:PATH` references; other values are literal."""
        if value.startswith("env:"):
            name = value[4:]
            if name not in self.environ:
                raise self.fail(key, f"environment variable {name} is not set")
            return self.environ[name]
        if value.startswith("file:"):
            path = Path(value[5:]).expanduser()
            path = path if path.is_absolute() else self.base_dir / path
            try:
                return path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise self.fail(key, f"cannot read secret file {path}: {exc.strerror or exc}") from None
        return value


def _listen(r: _Reader, raw: Any) -> Listen:
    data = r.mapping(raw, "listen")
    r.only(data, "listen", {"host", "port", "path", "allowed_origins", "allowed_hosts", "tls"})
    port = int(r.number(data.get("port", DEFAULT_PORT), "listen.port", minimum=0, integer=True))
    if port > 65535:
        raise r.fail("listen.port", f"must be at most 65535, found {port}")
    path = r.string(data.get("path", DEFAULT_PATH), "listen.path")
    if not path.startswith("/"):
        raise r.fail("listen.path", f"must start with '/', found {path!r}")
    origins = r.strings(data.get("allowed_origins"), "listen.allowed_origins")
    for i, origin in enumerate(origins):
        if not re.match(r"^https?://[^/\s]+/?$", origin):
            raise r.fail(f"listen.allowed_origins[{i}]", f"must look like http(s)://host[:port], found {origin!r}")
    tls = r.mapping(data.get("tls"), "listen.tls")
    r.only(tls, "listen.tls", {"cert", "key"})
    cert = key = None
    if tls:
        if "cert" not in tls or "key" not in tls:
            raise r.fail("listen.tls", "needs `cert` and `key` (PEM files)")
        cert, key = (_existing_file(r, tls[name], f"listen.tls.{name}") for name in ("cert", "key"))
    return Listen(
        tls_cert=cert,
        tls_key=key,
        host=r.string(data.get("host", DEFAULT_HOST), "listen.host"),
        port=port,
        path=path.rstrip("/") or "/",
        allowed_origins=origins,
        allowed_hosts=r.strings(data.get("allowed_hosts"), "listen.allowed_hosts"),
    )


def _existing_file(r: _Reader, value: Any, key: str) -> Path:
    path = Path(r.string(value, key)).expanduser()
    path = path if path.is_absolute() else r.base_dir / path
    if not path.is_file():
        raise r.fail(key, f"file does not exist: {path}")
    return path


def _limits(r: _Reader, raw: Any) -> Limits:
    data = r.mapping(raw, "limits")
    defaults = Limits()
    r.only(data, "limits", set(defaults.__dataclass_fields__))
    values: dict[str, Any] = {}
    for name in defaults.__dataclass_fields__:
        if name in data:
            default = getattr(defaults, name)
            integer = isinstance(default, int)
            number = r.number(data[name], f"limits.{name}", minimum=1 if integer else 0.001, integer=integer)
            values[name] = int(number) if integer else number
    return replace(defaults, **values)


def _upstream(r: _Reader, name: str, raw: Any) -> ServerSpec:
    key = f"upstreams.{name}"
    if not _NAME.match(name):
        raise r.fail(key, "upstream names use letters, digits, '.', '_' and '-' (at most 64)")
    data = r.mapping(raw, key)
    if "command" in data:
        r.only(data, key, {"command", "args", "env", "cwd", "transport"})
        if data.get("transport", "stdio") != "stdio":
            raise r.fail(f"{key}.transport", "a `command` upstream is stdio")
        env = r.mapping(data.get("env"), f"{key}.env")
        cwd = data.get("cwd")
        return ServerSpec(
            name=name,
            transport="stdio",
            command=r.string(data["command"], f"{key}.command"),
            args=tuple(r.string(a, f"{key}.args[{i}]", secret=True) for i, a in enumerate(data.get("args") or [])),
            env={str(k): r.string(v, f"{key}.env.{k}", secret=True) for k, v in env.items()},
            cwd=str(Path(r.string(cwd, f"{key}.cwd")).expanduser()) if cwd is not None else None,
        )
    if "url" in data:
        r.only(data, key, {"url", "headers", "transport", "auth"})
        url = r.string(data["url"], f"{key}.url")
        if not re.match(r"^https?://", url):
            raise r.fail(f"{key}.url", f"must be an http(s) URL, found {url!r}")
        transport = r.string(data.get("transport", "http"), f"{key}.transport")
        if transport not in ("http", "sse"):
            raise r.fail(f"{key}.transport", f"must be http or sse for a `url` upstream, found {transport!r}")
        headers = r.mapping(data.get("headers"), f"{key}.headers")
        spec = ServerSpec(
            name=name,
            transport="http" if transport == "http" else "sse",
            url=url,
            headers={str(k): r.string(v, f"{key}.headers.{k}", secret=True) for k, v in headers.items()},
        )
        return with_credentials(spec, parse_upstream_auth(r, data.get("auth"), key, spec.headers))
    raise r.fail(key, "needs a `command` (stdio) or a `url` (http/sse)")


def _clients(r: _Reader, raw: Any) -> tuple[ClientIdentity, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise r.fail("clients", f"must be a list, found {type(raw).__name__}")
    out: list[ClientIdentity] = []
    seen_keys: set[bytes] = set()
    for i, item in enumerate(raw):
        key = f"clients[{i}]"
        data = r.mapping(item, key)
        r.only(data, key, {"id", "api_key", "principal"})
        if "id" not in data or "api_key" not in data:
            raise r.fail(key, "needs `id` and `api_key`")
        client_id = r.string(data["id"], f"{key}.id")
        api_key = r.string(data["api_key"], f"{key}.api_key", secret=True)
        if len(api_key) < 16:
            raise r.fail(f"{key}.api_key", "must be at least 16 characters")
        digest = hashlib.sha256(api_key.encode()).digest()
        if digest in seen_keys:
            raise r.fail(f"{key}.api_key", "the same key is configured for two clients")
        seen_keys.add(digest)
        p = r.mapping(data.get("principal"), f"{key}.principal")
        r.only(p, f"{key}.principal", {"id", "kind", "groups", "scopes"})
        kind = r.string(p.get("kind", "agent"), f"{key}.principal.kind")
        if kind not in ("user", "agent"):
            raise r.fail(f"{key}.principal.kind", f"must be user or agent, found {kind!r}")
        principal = Principal(
            id=r.string(p.get("id", client_id), f"{key}.principal.id"),
            kind="user" if kind == "user" else "agent",
            client_id=client_id,
            groups=frozenset(r.strings(p.get("groups"), f"{key}.principal.groups")),
            scopes=frozenset(r.strings(p.get("scopes"), f"{key}.principal.scopes")),
        )
        out.append(ClientIdentity(client_id, digest, principal))
    return tuple(out)


def _check_exposure(config: GatewayConfig) -> None:
    if not config.listen.is_loopback and not config.authenticated and not config.insecure:
        raise ConfigError(
            f"listening on {config.listen.host} exposes the gateway beyond this machine without authentication",
            where=f"{config.source}: listen.host",
            hint="configure `auth` (OAuth) or `clients` (API keys), listen on 127.0.0.1, or pass --insecure",
        )


def parse_config(
    data: Any,
    *,
    source: str,
    base_dir: Path,
    environ: Mapping[str, str] | None = None,
    require_upstreams: bool = True,
    insecure: bool = False,
) -> GatewayConfig:
    """Validate an already-parsed YAML document; `base_dir` anchors relative paths.

    `require_upstreams=False` is for `wrap`, whose one upstream comes from the command line.
    """
    r = _Reader(source, base_dir, os.environ if environ is None else environ)
    top = r.mapping(data, "")
    r.only(top, "", _TOP_KEYS)
    mode = r.string(top.get("mode", "enforce"), "mode")
    if mode not in ("enforce", "monitor"):
        raise r.fail("mode", f"must be enforce or monitor, found {mode!r}")
    separator = r.string(top.get("namespace_separator", DEFAULT_SEPARATOR), "namespace_separator")
    if not re.match(r"^[_.-]{1,4}$", separator):
        raise r.fail("namespace_separator", f"must be 1-4 of the characters '_', '.' and '-', found {separator!r}")
    ups = r.mapping(top.get("upstreams"), "upstreams")
    if not ups and require_upstreams:
        raise r.fail("upstreams", "at least one upstream server is required")
    upstreams = tuple(_upstream(r, str(name), raw) for name, raw in ups.items())
    for spec in upstreams:
        if separator in spec.name:
            raise r.fail(f"upstreams.{spec.name}", f"the name contains the namespace separator {separator!r}")
    interceptors = r.mapping(top.get("interceptors"), "interceptors")
    for name, options in interceptors.items():
        r.mapping(options, f"interceptors.{name}")
    storage = r.mapping(top.get("storage"), "storage")
    r.only(storage, "storage", {"db"})
    logging_cfg = r.mapping(top.get("logging"), "logging")
    r.only(logging_cfg, "logging", {"level"})
    level = r.string(logging_cfg.get("level", "info"), "logging.level").lower()
    if level not in ("debug", "info", "warning", "error"):
        raise r.fail("logging.level", f"must be debug, info, warning or error, found {level!r}")
    policy = None
    if top.get("policy") is not None:
        policy = Path(r.string(top["policy"], "policy")).expanduser()
        policy = policy if policy.is_absolute() else base_dir / policy
        if not policy.is_file():
            raise r.fail("policy", f"policy file does not exist: {policy}")
    db = storage.get("db")
    db_path = Path(r.string(db, "storage.db")).expanduser() if db is not None else Settings.build().db_path
    listen = _listen(r, top.get("listen"))
    config = GatewayConfig(
        auth=parse_auth(r, top.get("auth"), tls=listen.tls_cert is not None),
        upstreams=upstreams,
        listen=listen,
        mode="monitor" if mode == "monitor" else "enforce",
        namespace_separator=separator,
        limits=_limits(r, top.get("limits")),
        clients=_clients(r, top.get("clients")),
        policy=policy,
        interceptors={str(k): dict(v or {}) for k, v in interceptors.items()},
        db_path=db_path if db_path.is_absolute() else base_dir / db_path,
        log_level=level,
        source=source,
        insecure=insecure,
        telemetry=parse_telemetry(r, top.get("telemetry")),
    )
    _check_exposure(config)
    return config


def load_config(
    path: Path, environ: Mapping[str, str] | None = None, *, require_upstreams: bool = True, insecure: bool = False
) -> GatewayConfig:
    """Read and validate the gateway config file at `path`."""
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"file is {size} bytes, over the {MAX_CONFIG_BYTES} byte limit", where=where)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file does not exist", where=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", where=where) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"invalid YAML{at}: {problem}", where=where) from None
    return parse_config(
        data,
        source=path.name,
        base_dir=path.parent.resolve(),
        environ=environ,
        require_upstreams=require_upstreams,
        insecure=insecure,
    )
