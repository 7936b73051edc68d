"""User-facing interfaces named in code: command-line options and commands, HTTP routes,
environment variables, database schema and wire formats.

Found as the common shapes of the common libraries (argparse, click, typer, clap, Go's flag
and cobra, commander; FastAPI, Flask, aiohttp, Django, Express, net/http, gin, axum, actix,
Spring; SQL DDL, Alembic, Django migrations; protobuf, OpenAPI), on each side of each hunk,
then paired: on the new side only is added, on the old side only is removed, on both with
another default is a new default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from digest.analysis.changes.hunks import Hunk, Line, Side, strip_comment
from digest.analysis.changes.model import Action, Kind, Symbol

_STATEMENT_LINES = 8

_CLI_CALL_RE = re.compile(
    r"\badd_argument\(|\.option\(|\btyper\.(?:Option|Argument)\(|\bclick\.(?:option|argument)\("
    r"|\bOption\(\s*['\"-]|\.addOption\(|\bnew Option\(|#\[(?:arg|clap)\(|\.long\(|\.flag\("
)
_QUOTED_RE = re.compile(r"""(["'])(-{1,2}[A-Za-z][^"']*)\1""")
_FLAG_RE = re.compile(r"(?:^|[\s,|])(-{1,2}[A-Za-z][\w-]*)")
_DEFAULT_RE = re.compile(r"\bdefault(?:_value(?:_t)?)?\s*[=:]\s*([^,)\n]+)")
_CLAP_LONG_RE = re.compile(r"\blong\s*=\s*\"([\w-]+)\"|\.long\(\s*\"([\w-]+)\"")
_CLAP_FIELD_RE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(\w+)\s*:")
_GO_FLAG_RE = re.compile(
    r"\b(?:flag|\w*[Ff]lags\(\)|fs|flags?)\.(?P<fn>(?:String|Bool|Int|Int64|Uint|Uint64|Float64|"
    r"Duration|StringSlice|StringArray|IntSlice|Var|Func|Count)\w*)\(\s*(?P<args>.*)"
)
_COMMAND_RES = (
    re.compile(r"\badd_parser\(\s*['\"]([\w-]+)"),
    re.compile(r"@\w+\.(?:command|group)\(\s*(?:name\s*=\s*)?['\"]([\w-]+)"),
    re.compile(r"\.command\(\s*['\"]([\w-]+)"),
    re.compile(r"^\s*Use:\s*\"([\w-]+)"),
)
_DECORATED_COMMAND_RE = re.compile(r"^\s*@\w+\.(?:command|group)\(\s*\)?\s*$")
_DEF_NAME_RE = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)")
_ROUTE_RES = (
    # FastAPI / Flask / Starlette / aiohttp decorators; routers by their usual names (Express,
    # Koa, Fastify, aiohttp's web.get); never a client's `session.get("/x")`.
    re.compile(r"^\s*@(?:\w+\.)*(?P<verb>get|post|put|patch|delete|head|options|websocket|"
               r"api_route|route)\(\s*[rf]?['\"](?P<path>/[^'\"]*)"),
    re.compile(r"\b(?:app|router|api|server|bp|blueprint|web|routes|fastify|engine)\."
               r"(?P<verb>get|post|put|patch|delete|head|options|all|route)\(\s*['\"`]"
               r"(?P<path>/[^'\"`]*)"),
    re.compile(r"\.add_(?P<verb>get|post|put|patch|delete|head|route)\(\s*['\"](?P<path>/[^'\"]*)"),
    # Go net/http and routers, axum, Spring, actix.
    re.compile(r"\bHandleFunc\(\s*\"(?P<path>/[^\"]*)\"|\bHandle\(\s*\"(?P<path2>/[^\"]*)\""),
    re.compile(r"\.(?P<verb>GET|POST|PUT|PATCH|DELETE)\(\s*\"(?P<path>/[^\"]*)\""),
    re.compile(r"\.route\(\s*\"(?P<path>/[^\"]*)\""),
    re.compile(r"@(?P<verb>Get|Post|Put|Delete|Patch|Request)Mapping\(\s*(?:value\s*=\s*|"
               r"path\s*=\s*)?\"(?P<path>[^\"]*)\""),
    re.compile(r"#\[(?P<verb>get|post|put|patch|delete)\(\s*\"(?P<path>[^\"]+)\""),
)  # fmt: skip
_DJANGO_PATH_RE = re.compile(r"\b(?:re_)?path\(\s*r?['\"](?P<path>[^'\"]*)['\"]\s*,")
_ENV_RES = (
    # Reads only: `os.environ["X"] = ...` sets a variable for a child, it offers no knob.
    re.compile(r"\bos\.(?:environ(?:\.get)?\s*[\[(]|getenv\()\s*"
               r"['\"](?P<name>[A-Z][A-Z0-9_]{2,})['\"](?!\s*\]\s*=[^=])"),
    re.compile(r"\b(?:Getenv|LookupEnv|env::var(?:_os)?|getenv|System\.getenv)\(\s*"
               r"['\"](?P<name>[A-Z][A-Z0-9_]{2,})['\"]"),
    re.compile(r"\bprocess\.env\.(?P<name>[A-Z][A-Z0-9_]{2,})\b"),
    re.compile(r"\benv\s*=\s*['\"](?P<name>[A-Z][A-Z0-9_]{2,})['\"]|`[^`]*\benv:\"(?P<tag>[A-Z][A-Z0-9_]{2,})"),
)  # fmt: skip
_FOREIGN_ENV = frozenset(
    {"PATH", "HOME", "USER", "USERNAME", "SHELL", "PWD", "TMPDIR", "TEMP", "TMP", "LANG",
     "TERM", "COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "CI", "TZ", "EDITOR", "VISUAL",
     "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
     "HOSTNAME", "PYTHONPATH", "VIRTUAL_ENV", "PAGER"}
)  # fmt: skip
_FOREIGN_ENV_PREFIXES = (
    "LC_", "XDG_", "GITHUB_", "RUNNER_", "SLURM_", "CUDA_", "NCCL_", "NVIDIA_", "OMPI_", "PMI_",
    "PMIX_", "KUBERNETES_", "AWS_", "AZURE_", "GOOGLE_", "PYTHON", "PYTEST_", "HF_",
    "HUGGINGFACE_", "TORCH", "TRANSFORMERS_", "TOKENIZERS_", "OMP_", "MKL_", "JAVA_", "GO",
    "CARGO_", "RUST", "NODE_", "NPM_", "DOCKER_", "SSH_", "DISPLAY", "WAYLAND_",
)  # fmt: skip
_SQL_RES = (
    (re.compile(r"\bCREATE\s+(?:TEMP(?:ORARY)?\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                r"(?P<t>[\w.\"`\[\]]+)", re.I), "table", Action.ADDED),
    (re.compile(r"\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<t>[\w.\"`\[\]]+)", re.I), "table",
     Action.REMOVED),
    (re.compile(r"\bALTER\s+TABLE\s+(?:ONLY\s+|IF\s+EXISTS\s+)*(?P<t>[\w.\"`\[\]]+)\s+"
                r"(?P<op>ADD|DROP|RENAME|ALTER|MODIFY)\s+(?:COLUMN\s+)?(?:IF\s+(?:NOT\s+)?EXISTS\s+)?"
                r"(?P<c>[\w\"`\[\]]+)", re.I), "column", Action.SIGNATURE),
    (re.compile(r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
                r"(?P<t>[\w\"`]+)", re.I), "index", Action.ADDED),
    (re.compile(r"\bop\.(?P<op>add_column|drop_column|alter_column|create_table|drop_table|"
                r"create_index|drop_index|rename_table)\(\s*['\"](?P<t>\w+)['\"](?:\s*,\s*"
                r"(?:sa\.Column\(\s*)?['\"](?P<c>\w+)['\"])?"), "op", Action.SIGNATURE),
    (re.compile(r"\bmigrations\.(?P<op>AddField|RemoveField|AlterField|RenameField|CreateModel|"
                r"DeleteModel)\((?:.*?model_name\s*=\s*['\"](?P<t>\w+)['\"])?(?:.*?\bname\s*=\s*"
                r"['\"](?P<c>\w+)['\"])?"), "op", Action.SIGNATURE),
)  # fmt: skip
_OP_ACTIONS = {
    "add": Action.ADDED, "create": Action.ADDED, "drop": Action.REMOVED, "remove": Action.REMOVED,
    "delete": Action.REMOVED,
}  # fmt: skip
_PROTO_TYPE_RE = re.compile(r"^\s*(?P<kw>message|enum|service)\s+(?P<name>\w+)")
_PROTO_FIELD_RE = re.compile(
    r"^\s*(?:repeated\s+|optional\s+|required\s+)?(?P<type>map<[^>]+>|[\w.]+)\s+(?P<name>\w+)\s*="
    r"\s*(?P<num>\d+)"
)
_PROTO_RPC_RE = re.compile(r"^\s*rpc\s+(?P<name>\w+)\s*\((?P<args>[^)]*)\)")
_OPENAPI_PATH_RE = re.compile(r"^\s{2,4}['\"]?(?P<path>/[\w/{}.:-]*)['\"]?\s*:\s*\{?\s*$")


@dataclass(frozen=True)
class _Found:
    kind: Kind
    name: str
    value: str | None  # a default, a field number, the statement text
    changed: bool
    action: Action | None = None  # fixed by the statement itself (DDL), else by pairing


def _statements(lines: tuple[Line, ...], start: re.Pattern[str]) -> Iterator[tuple[str, bool, int]]:
    """(joined text, any line changed, index) of each statement that starts with `start`."""
    for i, ln in enumerate(lines):
        if not start.search(ln.text):
            continue
        parts, changed, depth = [], False, 0
        for other in lines[i : i + _STATEMENT_LINES]:
            parts.append(other.text.strip())
            changed = changed or other.changed
            depth += other.text.count("(") - other.text.count(")")
            if depth <= 0 and not other.text.rstrip().endswith(("(", ",", "[")):
                break
        yield " ".join(parts), changed, i


def _cli(lines: tuple[Line, ...]) -> Iterator[_Found]:
    for text, changed, i in _statements(lines, _CLI_CALL_RE):
        default = _DEFAULT_RE.search(text)
        value = strip_comment(default.group(1)) if default else None
        flags = [f for _, q in _QUOTED_RE.findall(text) for f in _FLAG_RE.findall(" " + q)]
        long = _CLAP_LONG_RE.search(text)
        if text.startswith("#[") and re.search(r"\blong\b", text):
            fields = (_CLAP_FIELD_RE.match(ln.text) for ln in lines[i + 1 : i + 4])
            field = next((m for m in fields if m), None)
            name = (long.group(1) or long.group(2)) if long else None
            if name is None and field is not None:
                name = field.group(1).replace("_", "-")
            changed = changed or any(ln.changed for ln in lines[i + 1 : i + 3])
            flags = [f"--{name}"] if name else flags
        elif long and not flags:
            flags = [f"--{long.group(1) or long.group(2)}"]
        if flags:
            name = max(flags, key=lambda f: (f.startswith("--"), len(f)))
            yield _Found(Kind.OPTION, name, value, changed)
    for ln in lines:
        m = _GO_FLAG_RE.search(ln.text)
        if m:
            args = [a.strip() for a in m["args"].split(",")]
            args = [a for a in args if not a.startswith("&")]
            if args and args[0].startswith('"'):
                name = args[0].strip('"')
                rest = args[2:] if m["fn"].endswith("P") else args[1:]
                yield _Found(Kind.OPTION, f"--{name}", rest[0] if rest else None, ln.changed)


def _commands(lines: tuple[Line, ...]) -> Iterator[_Found]:
    for i, ln in enumerate(lines):
        for rx in _COMMAND_RES:
            m = rx.search(ln.text)
            if m:
                yield _Found(Kind.COMMAND, m.group(1), None, ln.changed)
                break
        else:
            if _DECORATED_COMMAND_RE.match(ln.text):
                for nxt in lines[i + 1 : i + 6]:
                    d = _DEF_NAME_RE.match(nxt.text)
                    if d:
                        name = d.group(1).replace("_", "-")
                        yield _Found(Kind.COMMAND, name, None, ln.changed or nxt.changed)
                        break


def _routes(lines: tuple[Line, ...], path: str) -> Iterator[_Found]:
    rxs = (*_ROUTE_RES, _DJANGO_PATH_RE) if path.endswith("urls.py") else _ROUTE_RES
    for ln in lines:
        for rx in rxs:
            m = rx.search(ln.text)
            if m:
                groups = m.groupdict()
                route = groups.get("path") or groups.get("path2") or ""
                verb = (groups.get("verb") or "").upper()
                verb = "" if verb in ("ROUTE", "API_ROUTE", "ALL", "REQUEST") else verb
                route = route if route.startswith("/") else f"/{route}"
                name = f"{verb} {route}".strip()
                yield _Found(Kind.ROUTE, name, None, ln.changed)
                break


def _env(lines: tuple[Line, ...]) -> Iterator[_Found]:
    for ln in lines:
        for rx in _ENV_RES:
            for m in rx.finditer(ln.text):
                name = next(g for g in m.groups() if g)
                yield _Found(Kind.ENV, name, None, ln.changed)


def is_foreign_env(name: str) -> bool:
    """Variables the platform or other tools own, and debug switches: read, not offered."""
    return name in _FOREIGN_ENV or name.startswith(_FOREIGN_ENV_PREFIXES) or "DEBUG" in name


def _schema(lines: tuple[Line, ...]) -> Iterator[_Found]:
    for ln in lines:
        if not ln.changed:
            continue
        for rx, what, action in _SQL_RES:
            for m in rx.finditer(ln.text):
                groups = m.groupdict()
                table = (groups.get("t") or "").strip('"`[]')
                column = (groups.get("c") or "").strip('"`[]')
                op = (groups.get("op") or "").lower()
                act = next((a for k, a in _OP_ACTIONS.items() if op.startswith(k)), action)
                per_column = what == "column" or ("table" not in op and "model" not in op)
                name = f"{table}.{column}" if per_column and column else table or column
                if name:
                    yield _Found(Kind.SCHEMA, name, None, True, act)


def _wire(lines: tuple[Line, ...], path: str, header: str) -> Iterator[_Found]:
    if path.endswith(".proto"):
        opened = _PROTO_TYPE_RE.match(header)
        scope = opened["name"] if opened else ""
        for ln in lines:
            t = _PROTO_TYPE_RE.match(ln.text)
            f = _PROTO_FIELD_RE.match(ln.text)
            r = _PROTO_RPC_RE.match(ln.text)
            if t:
                scope = t["name"]
                yield _Found(Kind.WIRE, f"{t['kw']} {t['name']}", None, ln.changed)
            elif r:
                yield _Found(Kind.ROUTE, f"rpc {scope}.{r['name']}", r["args"], ln.changed)
            elif f and f["name"] not in ("option", "reserved"):
                value = f"{f['type']} = {f['num']}"
                yield _Found(Kind.WIRE, f"{scope}.{f['name']}" if scope else f["name"], value,
                             ln.changed)  # fmt: skip
    elif re.search(r"(?:^|/)(openapi|swagger)[^/]*\.(ya?ml|json)$", path, re.I):
        for ln in lines:
            m = _OPENAPI_PATH_RE.match(ln.text)
            if m:
                yield _Found(Kind.ROUTE, m["path"], None, ln.changed)


def _side(hunks: tuple[Hunk, ...], which: Side, path: str, code: bool) -> list[_Found]:
    out: list[_Found] = []
    for hunk in hunks:
        lines = hunk.side(which)
        if code:
            for reader in (_cli, _commands, _env, _schema):
                out += reader(lines)
            out += _routes(lines, path)
        elif path.lower().endswith(".sql"):
            out += _schema(lines)
        out += _wire(lines, path, hunk.header)
    return out


def read_interfaces(
    path: str, hunks: tuple[Hunk, ...], *, code: bool, public: bool
) -> list[Symbol]:
    """Options, commands, routes, environment variables, schema and wire entries changed.

    `code` says the file is source (not a config file, a doc or a proto); `public` whether it
    is product code (not tests, examples, benchmarks or tooling).
    """
    old, new = _side(hunks, "old", path, code), _side(hunks, "new", path, code)
    out: dict[tuple[Kind, str], Symbol] = {}
    old = [f for f in old if not (f.kind is Kind.ENV and is_foreign_env(f.name))]
    new = [f for f in new if not (f.kind is Kind.ENV and is_foreign_env(f.name))]
    for f in old + new:
        if f.action is not None and (f.kind, f.name) not in out:
            out[(f.kind, f.name)] = Symbol(f.kind, f.name, f.action, path, public)
    old_by = {(f.kind, f.name): f for f in old}
    new_by = {(f.kind, f.name): f for f in new}
    for key in dict.fromkeys([(f.kind, f.name) for f in new + old if f.changed]):
        if key in out:
            continue
        a, b = old_by.get(key), new_by.get(key)
        if a is None or b is None:
            action = Action.ADDED if a is None else Action.REMOVED
            out[key] = Symbol(key[0], key[1], action, path, public)
        elif a.value != b.value and a.value is not None and b.value is not None:
            action = Action.DEFAULT if key[0] is Kind.OPTION else Action.SIGNATURE
            out[key] = Symbol(key[0], key[1], action, path, public, a.value, b.value, True)
    return list(out.values())
