"""Pure rules shared by every analyzer: what a path is and what a title declares (the
importance post-rules that build on them live in post_rules.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from digest.models import ChangeType, Commit, FileChange


class PathKind(StrEnum):
    SOURCE = "source"
    DOCS = "docs"
    TEST = "test"
    CI = "ci"
    BUILD = "build"
    LOCKFILE = "lockfile"
    GENERATED = "generated"
    VENDORED = "vendored"
    MINIFIED = "minified"
    BINARY = "binary"
    MIGRATION = "migration"
    SECURITY = "security"  # code or keys in an auth / crypto / secrets / permissions area
    CONFIG = "config"
    MANIFEST = "manifest"  # dependency manifest: pyproject.toml, package.json, go.mod ...


# Kept in the file manifest but never worth prompt space in the diff.
DIFF_EXCLUDED_KINDS = frozenset(
    {PathKind.LOCKFILE, PathKind.GENERATED, PathKind.VENDORED, PathKind.MINIFIED, PathKind.BINARY}
)
# Code that runs in the product.
CODE_KINDS = frozenset({PathKind.SOURCE, PathKind.SECURITY, PathKind.MIGRATION})
# A commit made only of these is "docs/test/CI-only" and capped at medium.
PERIPHERAL_KINDS = frozenset({PathKind.DOCS, PathKind.TEST, PathKind.CI})

_LOCKFILES = frozenset(
    name.lower()
    for name in (
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
        "poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock", "Cargo.lock", "go.sum", "go.work.sum",
        "Gemfile.lock", "composer.lock", "packages.lock.json", "gradle.lockfile", "mix.lock",
        "pubspec.lock", "Package.resolved", "conda-lock.yml", "pixi.lock", "deno.lock",
    )
)  # fmt: skip
_MANIFESTS = frozenset(
    name.lower()
    for name in (
        "pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "environment.yml", "environment.yaml",
        "constraints.txt", "package.json", "go.mod", "Cargo.toml", "Gemfile", "composer.json",
        "pom.xml", "build.gradle", "build.gradle.kts", "vcpkg.json", "conanfile.txt",
        "conanfile.py", "pubspec.yaml", "mix.exs", "Package.swift", "deno.json", "pixi.toml",
    )
)  # fmt: skip
_BUILD_NAMES = frozenset(
    name.lower()
    for name in (
        "Makefile", "GNUmakefile", "CMakeLists.txt", "Dockerfile", "Containerfile", "build.rs",
        "meson.build", "BUILD", "BUILD.bazel", "WORKSPACE", "MODULE.bazel", "justfile",
        "Taskfile.yml", "noxfile.py", "Earthfile", "Rakefile", ".bazelrc", "compose.yaml",
    )
)  # fmt: skip
_DOC_NAMES = frozenset(
    {"readme", "changelog", "changes", "history", "license", "licence", "copying", "notice",
     "authors", "contributors", "contributing", "code_of_conduct"}
)  # fmt: skip
_VENDOR_DIRS = frozenset(
    {"vendor", "vendored", "_vendor", "third_party", "third-party", "thirdparty", "3rdparty",
     "node_modules"}
)  # fmt: skip
_TEST_DIRS = frozenset(
    {"test", "tests", "__tests__", "spec", "specs", "testing", "testdata", "e2e", "benches",
     "__snapshots__"}
)  # fmt: skip
_DOC_DIRS = frozenset({"docs", "doc", "documentation"})
_MIGRATION_DIRS = frozenset({"migrations", "migration", "migrate", "alembic"})
_BUILD_DIRS = frozenset({"docker", "container", "containers"})
_AUX_DIRS = frozenset(
    {"benchmarks", "benchmark", "bench", "examples", "example", "samples", "sample", "scripts",
     "script", "tools", "tool", "hack", "dev", "contrib", "demo", "demos", "playground"}
)  # fmt: skip
_SECURITY_WORDS = frozenset(
    {"auth", "authn", "authz", "authentication", "authorization", "oauth", "oauth2", "oidc",
     "saml", "jwt", "crypto", "cryptography", "encryption", "encrypt", "decrypt", "cipher",
     "secret", "secrets", "permission", "permissions", "rbac", "acl", "security", "tls", "ssl",
     "cert", "certs", "certificate", "certificates", "password", "passwords", "credential",
     "credentials", "csrf", "xss", "sanitize", "sanitizer", "keyring", "keystore", "vault",
     "login", "hmac"}
)  # fmt: skip
_UI_DIRS = frozenset(
    {"ui", "tui", "gui", "components", "component", "dialog", "dialogs", "views", "view", "pages",
     "templates", "styles", "widgets", "screens", "frontend", "static", "assets", "icons"}
)  # fmt: skip
_BINARY_EXTS = frozenset(
    {"png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "svg", "tif", "tiff", "psd", "pdf", "zip",
     "gz", "tgz", "bz2", "xz", "7z", "rar", "tar", "jar", "war", "whl", "egg", "so", "dylib", "dll",
     "exe", "bin", "o", "a", "lib", "pyc", "class", "wasm", "woff", "woff2", "ttf", "otf", "eot",
     "mp3", "mp4", "mov", "avi", "wav", "ogg", "webm", "pt", "pth", "onnx", "safetensors", "ckpt",
     "h5", "pkl", "npy", "npz", "parquet", "sqlite", "db"}
)  # fmt: skip
_DOC_EXTS = frozenset({"md", "markdown", "rst", "adoc", "asciidoc", "txt", "rdoc"})
_CONFIG_EXTS = frozenset(
    {"yaml", "yml", "toml", "ini", "cfg", "conf", "json", "jsonc", "json5", "env", "properties",
     "plist", "xml", "hcl", "tf"}
)  # fmt: skip
_KEY_EXTS = frozenset({"pem", "key", "crt", "p12", "pfx", "jks"})
_CI_FILES = frozenset(
    {".gitlab-ci.yml", ".travis.yml", "jenkinsfile", "azure-pipelines.yml", ".drone.yml",
     "appveyor.yml", "bitbucket-pipelines.yml", ".pre-commit-config.yaml", "codecov.yml"}
)  # fmt: skip
_CI_DIRS = frozenset({".github", ".gitlab", ".circleci", ".buildkite", ".woodpecker"})

_TEST_FILE_RE = re.compile(
    r"^(test_.*|.*_test\.\w+|.*\.(test|spec)\.\w+|.*_spec\.rb|conftest\.py|.*\.snap)$"
)
_JVM_TEST_RE = re.compile(r"^[A-Z]\w*Tests?\.(java|kt|cs|swift|scala)$")
_GENERATED_RE = re.compile(
    r"(_pb2(_grpc)?\.pyi?|\.pb\.(go|cc|h|ts)|[._]generated\.\w+|^zz_generated.*|\.g\.dart"
    r"|\.freezed\.dart|\.designer\.cs|\.js\.map|\.css\.map)$"
)
_MINIFIED_RE = re.compile(r"[.-]min\.(js|mjs|css)$")
_REQUIREMENTS_RE = re.compile(r"^requirements[\w.-]*\.(txt|in)$")
_FLYWAY_RE = re.compile(r"^v\d+(_\d+)*__.*\.sql$")
_CAMEL_RE = re.compile(r"([a-z0-9])([A-Z])")
_VERSION_LINE_RE = re.compile(r"\d+\.\d+|[<>=~^!]=?\s*v?\d|@[0-9a-f]{7,}|\brev\s*=")
_OWN_VERSION_RE = re.compile(r'^[+-]\s*"?version"?\s*[:=]', re.IGNORECASE)
_GENERIC_DIRS = frozenset({"src", "source", "sources", "pkg", "internal", "main", "python"})


def _ext(name: str) -> str:
    return name.rsplit(".", 1)[1] if "." in name.strip(".") else ""


def is_lockfile(path: str) -> bool:
    """Lockfiles are machine-written: worth a line in the manifest, never a reader's time."""
    name = path.rsplit("/", 1)[-1].lower()
    return name in _LOCKFILES or name.endswith((".lock", ".lockfile"))


def is_auxiliary_path(path: str) -> bool:
    """Benchmarks, examples, scripts and tools are code, but not what users of the product run."""
    return path.split("/", 1)[0].lower() in _AUX_DIRS


def security_words(path: str) -> frozenset[str]:
    """Security-area words in a path, matched by whole word so 'author.py' is not 'auth';
    none in a user-interface layer (a permissions dialog draws, it does not decide)."""
    if _UI_DIRS.intersection(d.lower() for d in path.split("/")[:-1]):
        return frozenset()
    words = re.split(r"[^a-z0-9]+", _CAMEL_RE.sub(r"\1_\2", path).lower())
    return frozenset(words) & _SECURITY_WORDS


def area_of(path: str) -> str:
    """A module name for a path: up to two meaningful directories (`src`, `pkg` don't count)."""
    dirs = path.split("/")[:-1]
    taken: list[str] = []
    for d in dirs:
        taken.append(d)
        if sum(t.lower() not in _GENERIC_DIRS for t in taken) == 2:
            break
    while len(taken) > 1 and taken[-1].lower() in _GENERIC_DIRS:
        taken.pop()
    return "/".join(taken) or path


def bumps_versions(change: FileChange) -> bool:
    """A manifest diff that moves version pins (not the project's own `version =` line)."""
    lines = (change.patch or "").splitlines()
    return any(
        ln[:1] in "+-"
        and not ln.startswith(("+++", "---"))
        and _VERSION_LINE_RE.search(ln)
        and not _OWN_VERSION_RE.match(ln)
        for ln in lines
    )


def classify_path(path: str) -> PathKind:
    """One kind per path; the order of the checks is the priority (a test in docs/ is a test)."""
    name = path.rsplit("/", 1)[-1]
    low = name.lower()
    dirs = [d.lower() for d in path.split("/")[:-1]]
    ext = _ext(low)
    if is_lockfile(path):
        return PathKind.LOCKFILE
    if _VENDOR_DIRS.intersection(dirs):
        return PathKind.VENDORED
    if _MINIFIED_RE.search(low):
        return PathKind.MINIFIED
    if _GENERATED_RE.search(low) or {"generated", "__generated__", "dist"}.intersection(dirs):
        return PathKind.GENERATED
    if low in _CI_FILES or (dirs and dirs[0] in _CI_DIRS):
        return PathKind.DOCS if ext == "md" else PathKind.CI
    if _TEST_DIRS.intersection(dirs) or _TEST_FILE_RE.match(low) or _JVM_TEST_RE.match(name):
        return PathKind.TEST
    if _MIGRATION_DIRS.intersection(dirs) or _FLYWAY_RE.match(low):
        return PathKind.MIGRATION
    if _DOC_DIRS.intersection(dirs):
        return PathKind.DOCS
    if low in _MANIFESTS or _REQUIREMENTS_RE.match(low) or low.endswith(".gemspec"):
        return PathKind.MANIFEST
    if dirs and dirs[-1] == "requirements" and ext in {"txt", "in"}:
        return PathKind.MANIFEST
    if (
        low in _BUILD_NAMES
        or low.startswith(("dockerfile", "docker-compose"))
        or ext in {"cmake", "mk", "bzl", "dockerfile"}
        or _BUILD_DIRS.intersection(dirs)
    ):
        return PathKind.BUILD
    if ext in _BINARY_EXTS:
        return PathKind.BINARY
    if ext in _DOC_EXTS or low.split(".", 1)[0] in _DOC_NAMES:
        return PathKind.DOCS
    if ext in _KEY_EXTS or security_words(path):
        return PathKind.SECURITY
    if ext in _CONFIG_EXTS or low.startswith("."):
        return PathKind.CONFIG
    return PathKind.SOURCE


def classify_file(change: FileChange) -> PathKind:
    """Like classify_path, but a file git calls binary is binary wherever it lives (except docs)."""
    kind = classify_path(change.path)
    if change.binary and kind not in (PathKind.DOCS, PathKind.TEST, PathKind.LOCKFILE):
        return PathKind.BINARY
    return kind


def diff_priority(kind: PathKind) -> int:
    """Order of files in a diff budget: source, then build/config, then tests, then docs."""
    if kind in CODE_KINDS:
        return 0
    if kind in (PathKind.BUILD, PathKind.CONFIG, PathKind.MANIFEST, PathKind.CI):
        return 1
    return {PathKind.TEST: 2, PathKind.DOCS: 3}.get(kind, 9)


def is_peripheral_only(commit: Commit) -> bool:
    """Docs/test/CI-only, judged by every file's kind; unknown when the file list is cut."""
    return (
        bool(commit.files)
        and not commit.files_incomplete
        and all(classify_file(f) in PERIPHERAL_KINDS for f in commit.files)
    )


# --- what the message declares ---------------------------------------------------------------

_TYPES: dict[str, ChangeType] = {
    "feat": ChangeType.FEATURE, "feature": ChangeType.FEATURE, "fix": ChangeType.BUGFIX,
    "bugfix": ChangeType.BUGFIX, "hotfix": ChangeType.BUGFIX, "perf": ChangeType.PERF,
    "refactor": ChangeType.REFACTOR, "docs": ChangeType.DOCS, "doc": ChangeType.DOCS,
    "test": ChangeType.TEST, "tests": ChangeType.TEST, "ci": ChangeType.CI_BUILD,
    "build": ChangeType.CI_BUILD, "deps": ChangeType.DEPS, "dep": ChangeType.DEPS,
    "style": ChangeType.CHORE, "chore": ChangeType.CHORE, "revert": ChangeType.REVERT,
    "sec": ChangeType.SECURITY, "security": ChangeType.SECURITY, "config": ChangeType.CONFIG,
}  # fmt: skip
_DEPS_SCOPES = frozenset({"deps", "deps-dev", "dep", "dependencies"})
_TAGS: dict[str, ChangeType] = {
    **{t: ChangeType.BUGFIX for t in ("bugfix", "bug", "fix", "hotfix")},
    **{t: ChangeType.PERF for t in ("perf", "performance")},
    **{t: ChangeType.FEATURE for t in ("feature", "feat", "new feature")},
    **{t: ChangeType.SECURITY for t in ("security", "sec")},
    **{t: ChangeType.DOCS for t in ("doc", "docs", "documentation")},
    **{t: ChangeType.CI_BUILD for t in ("ci", "build", "ci/build")},
    **{t: ChangeType.CHORE for t in ("misc", "chore")},
    **{t: ChangeType.TEST for t in ("test", "tests", "testing")},
    **{t: ChangeType.DEPS for t in ("deps", "dependencies")},
    "refactor": ChangeType.REFACTOR, "config": ChangeType.CONFIG, "revert": ChangeType.REVERT,
}  # fmt: skip
_CONVENTIONAL_RE = re.compile(
    r"^(?P<type>[A-Za-z][\w-]*)(?:\((?P<scope>[^()]*)\))?(?P<bang>!)?:\s*(?P<subject>\S.*)$"
)
_TAG_RE = re.compile(r"^\s*\[(?P<tag>[^\[\]]{1,40})\]\s*")
_REVERT_RE = re.compile(r'^Revert\s+"(?P<inner>.*)"')
_FOOTER_RE = re.compile(r"^BREAKING[ -]CHANGE:\s*\S", re.MULTILINE)
_PR_SUFFIX_RE = re.compile(r"\s*\(#\d+\)\s*$")


@dataclass(frozen=True)
class TitleInfo:
    """What the author declared: the title without its decorations, types, breaking, revert."""

    subject: str
    declared: tuple[ChangeType, ...] = ()
    scope: str | None = None
    conventional_type: str | None = None  # the raw word before the colon, lowercased
    tags: tuple[str, ...] = ()
    breaking: bool = False
    reverts: str | None = None  # the reverted title ("" when unnamed), None when no revert


def parse_revert(title: str) -> str | None:
    """`Revert "x"` (git's default) -> "x"; None when the title is not a revert."""
    match = _REVERT_RE.match(title.strip())
    return match.group("inner") if match else None


def has_breaking_footer(message: str) -> bool:
    return bool(_FOOTER_RE.search(message))


def parse_message(message: str) -> TitleInfo:
    """Bracket tags, then a conventional prefix, from the title; the breaking footer from all."""
    title = message.strip().split("\n", 1)[0].strip()
    breaking = has_breaking_footer(message)
    reverted = parse_revert(title)
    if reverted is not None:
        return TitleInfo(title, (ChangeType.REVERT,), breaking=breaking, reverts=reverted)
    rest, tags, declared = title, list[str](), list[ChangeType]()
    while match := _TAG_RE.match(rest):
        tag = match.group("tag").strip().lower()
        tags.append(tag)
        rest = rest[match.end() :].lstrip(":- ")  # "[Core]: fix x" is common too
        if tag == "breaking":
            breaking = True
        elif tag in _TAGS:
            declared.append(_TAGS[tag])
    scope: str | None = None
    ctype: str | None = None
    conv = _CONVENTIONAL_RE.match(rest)
    if conv:
        ctype, scope = conv.group("type").lower(), conv.group("scope")
        breaking = breaking or bool(conv.group("bang"))
        rest = conv.group("subject")
        if scope is not None and scope.strip().lower() in _DEPS_SCOPES:
            declared.insert(0, ChangeType.DEPS)
        elif ctype in _TYPES:
            declared.insert(0, _TYPES[ctype])
    subject = _PR_SUFFIX_RE.sub("", rest).strip() or title
    types = tuple(dict.fromkeys(declared))[:2]
    reverts = subject if ChangeType.REVERT in types else None
    return TitleInfo(subject, types, scope, ctype, tuple(tags), breaking, reverts)


_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))
