"""The diff reader: what a commit's patches add, remove or change, per language and kind.

Patches are written as git writes them (hunk headers with function context, three lines of
context), and the last tests read them from a real git repository through the git source.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.analysis.changes.hunks import MAX_PATCH_LINES, parse_hunks, whole_side
from digest.analysis.changes.model import Action, Changes, Kind, Symbol
from digest.analysis.changes.read import read_changes
from digest.models import Commit, FileChange, FileStatus
from digest.sources.git import GitSource
from tests.gitrepo import GitRepo

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
A, R, C = Action.ADDED, Action.REMOVED, Action.CHANGED


def change(path: str, patch: str, status: FileStatus = FileStatus.MODIFIED) -> FileChange:
    lines = patch.splitlines()
    add = sum(1 for ln in lines if ln.startswith("+"))
    dele = sum(1 for ln in lines if ln.startswith("-"))
    return FileChange(path=path, status=status, additions=add, deletions=dele, patch=patch)


def commit(*files: FileChange, message: str = "change") -> Commit:
    key = message + "|" + "|".join(f.path + (f.patch or "") for f in files)
    return Commit(
        repo="acme/shop",
        sha=hashlib.sha1(key.encode()).hexdigest(),
        author_name="Ada",
        authored_at=T0,
        committed_at=T0,
        message=message,
        files=files,
    )


def read(*files: FileChange) -> Changes:
    return read_changes(commit(*files))


def found(changes: Changes) -> set[tuple[Kind, Action, str]]:
    return {(s.kind, s.action, s.name) for s in changes.symbols}


def one(changes: Changes, name: str) -> Symbol:
    hits = [s for s in changes.symbols if s.name == name]
    assert len(hits) == 1, (name, changes.symbols)
    return hits[0]


def added_file(path: str, text: str) -> FileChange:
    body = "".join(f"+{line}\n" for line in text.splitlines())
    n = len(text.splitlines())
    return change(path, f"@@ -0,0 +1,{n} @@\n{body}", FileStatus.ADDED)


# --- Python ----------------------------------------------------------------------------------


PY_SIGNATURES = """\
@@ -10,12 +10,12 @@ TAX_RATES = {"eu": 0.2}
 
 
-def compute_tax(amount, region):
+def compute_tax(amount, region, *, rounding):
     rate = TAX_RATES.get(region, 0.0)
     return round(amount * rate, 2)
 
 
-def fetch(url, timeout=30):
+def fetch(url, timeout=60):
     return http.get(url, timeout=timeout)
 
 
-def render(order):
+def render(order, style="plain"):
     return str(order)
"""


def test_python_signatures_read_by_ast_from_the_def_headers() -> None:
    changes = read(change("shop/pricing.py", PY_SIGNATURES))
    tax = one(changes, "compute_tax")
    assert (tax.action, tax.breaking, tax.public) == (Action.SIGNATURE, True, True)
    assert (tax.old, tax.new) == (
        "compute_tax(amount, region)",
        "compute_tax(amount, region, *, rounding)",
    )
    assert tax.interface_change
    fetch = one(changes, "fetch")
    assert (fetch.action, fetch.old, fetch.new) == (Action.DEFAULT, "timeout=30", "timeout=60")
    assert fetch.interface_change
    render = one(changes, "render")  # a new optional parameter breaks no caller
    assert render.action is Action.SIGNATURE and not render.breaking
    assert not render.interface_change


def test_python_whole_blob_read_with_ast() -> None:
    text = (
        '"""Shop."""\n\n\nclass Cart:\n    def add(self, item):\n        def check(x):\n'
        "            return x\n        return check(item)\n\n    def _total(self):\n"
        "        return 0\n\n\ndef checkout(cart):\n    return cart\n\n\ndef _helper():\n"
        "    return None\n"
    )
    changes = read(added_file("shop/cart.py", text))
    assert found(changes) == {
        (Kind.CLASS, A, "Cart"), (Kind.METHOD, A, "Cart.add"), (Kind.METHOD, A, "Cart._total"),
        (Kind.FUNCTION, A, "checkout"), (Kind.FUNCTION, A, "_helper"),
    }  # fmt: skip
    public = {s.name for s in changes.symbols if s.public}
    assert public == {"Cart", "Cart.add", "checkout"}
    private = read(added_file("shop/_impl.py", "def run():\n    return 1\n"))
    assert not one(private, "run").public  # a private module exports nothing
    tested = read(
        added_file(
            "tests/test_cart.py", "def test_add():\n    assert True\n\n\ndef helper():\n    pass\n"
        )
    )
    assert found(tested) == {(Kind.TEST, A, "test_add")}


def test_whole_side_only_when_the_patch_holds_the_file() -> None:
    whole = change("a.py", "@@ -1,2 +1,3 @@\n x = 1\n-y = 2\n+y = 3\n+z = 4\n")
    assert whole_side(whole, parse_hunks(whole.patch), "new") == "x = 1\ny = 3\nz = 4"
    part = change(
        "a.py", "@@ -8,4 +8,4 @@ def f():\n     a\n-    b\n+    c\n     d\n     e\n     f\n"
    )
    assert whole_side(part, parse_hunks(part.patch), "new") is None


def test_methods_qualified_by_indentation_or_the_hunk_header() -> None:
    seen = """\
@@ -20,7 +20,7 @@ class Response:
     def text(self):
-        return self._text
+        return self._text or ""
 
     def json(self):
         return {}
"""
    header_only = """\
@@ -88,6 +88,7 @@ class Response:
         value = self._load()
         if value is None:
             return None
+        self._cache = value
         return value
"""
    changes = read(change("llm/models.py", seen))
    assert found(changes) == {(Kind.METHOD, C, "Response.text")}
    assert found(read(change("llm/models.py", header_only))) == {(Kind.CLASS, C, "Response")}


def test_parameters_added_above_the_hunk() -> None:
    patch = """\
@@ -911,6 +911,7 @@ def build_options_class(
     verbosity=False,
     image_detail_original=False,
     chat_completions=False,
+    service_tier=False,
 ):
     fields = {
         "json_object": (
"""
    sym = one(read(change("llm/default_plugins/openai_models.py", patch)), "build_options_class")
    assert (sym.action, sym.new, sym.old, sym.breaking) == (
        Action.SIGNATURE,
        "service_tier",
        None,
        False,
    )
    body = """\
@@ -40,6 +40,7 @@ def prompt(
     try:
         run()
+        log()
     except Error:
         pass
"""
    assert found(read(change("llm/cli.py", body))) == {(Kind.FUNCTION, C, "prompt")}


# --- other languages -------------------------------------------------------------------------


def test_go_exported_and_internal() -> None:
    patch = """\
@@ -8,9 +8,12 @@ type Client struct {
-func (c *Client) Fetch(id int) (string, error) {
+func (c *Client) Fetch(ctx context.Context, id int) (string, error) {
 	return "", nil
 }
 
+func New(base string) *Client {
+	return &Client{Base: base}
+}
"""
    changes = read(change("gateway/pkg/client/client.go", patch))
    fetch = one(changes, "Client.Fetch")
    assert (fetch.kind, fetch.action, fetch.breaking, fetch.public) == (
        Kind.METHOD,
        Action.SIGNATURE,
        True,
        True,
    )
    assert one(changes, "New").public
    internal = read(change("internal/ui/list.go", patch))
    assert not any(s.public for s in internal.symbols)  # Go's internal/ is not importable


def test_rust_typescript_java_c_and_shell_shapes() -> None:
    rust = "@@ -1,3 +1,6 @@\n+pub fn record(amount: i64) -> Entry {\n+    Entry { amount }\n+}\n+pub(crate) fn audit() {}\n fn main() {}\n"  # noqa: E501
    ts = "@@ -1,2 +1,6 @@\n+export function formatPrice(n: number): string {\n+  return `${n}`;\n+}\n+function local() {}\n export const x = 1;\n"  # noqa: E501
    java = '@@ -3,6 +3,9 @@ public class Client {\n     private int n;\n+    public String fetch(int id) {\n+        return "";\n+    }\n     private void reset() {\n'  # noqa: E501
    header = "@@ -1,2 +1,3 @@\n #pragma once\n+NIXL_API int nixl_open(const char *name, int flags);\n int nixl_close(int fd);\n"  # noqa: E501
    shell = '@@ -1,2 +1,5 @@\n #!/bin/sh\n+cleanup() {\n+  rm -rf "$TMP"\n+}\n set -e\n'
    changes = read(
        change("crates/ledger/src/lib.rs", rust), change("web/src/api.ts", ts),
        change("sdk/src/main/java/shop/Client.java", java), change("include/nixl.h", header),
        change("scripts/build.sh", shell),
    )  # fmt: skip
    public = {s.name: s.public for s in changes.symbols}
    assert public == {
        "record": True, "audit": False, "formatPrice": True, "local": False,
        "Client.fetch": True, "nixl_open": True, "cleanup": False,
    }  # fmt: skip


# --- interfaces --------------------------------------------------------------------------------


def test_cli_options_and_commands_in_common_libraries() -> None:
    argparse = '@@ -10,3 +10,5 @@ def build_parser():\n     imp.add_argument("path")\n-    imp.add_argument("--timeout", type=int, default=30)\n+    imp.add_argument("--timeout", type=int, default=60)\n+    imp.add_argument("-n", "--dry-run", action="store_true")\n     return parser\n'  # noqa: E501
    click = '@@ -5,2 +5,8 @@ def cli():\n     pass\n+@cli.command()\n+@click.option(\n+    "--format",\n+    type=click.Choice(["json", "csv"]),\n+)\n+def export_orders(format):\n'  # noqa: E501
    clap = "@@ -3,2 +3,5 @@ struct Args {\n     name: String,\n+    #[arg(short, long, default_value_t = 4)]\n+    max_workers: usize,\n }\n"  # noqa: E501
    go = '@@ -9,1 +9,3 @@ func main() {\n+\tworkers := flag.Int("workers", 4, "request workers")\n+\tcmd.Flags().StringVarP(&out, "output", "o", "", "where")\n \tflag.Parse()\n'  # noqa: E501
    node = "@@ -1,1 +1,2 @@\n program.version('1.0');\n+program.option('-p, --port <n>', 'port to listen on');\n"  # noqa: E501
    changes = read(
        change("shop/cli.py", argparse), change("shop/export.py", click),
        change("src/main.rs", clap), change("cmd/main.go", go), change("web/cli.js", node),
    )  # fmt: skip
    options = {(s.action, s.name) for s in changes.of(Kind.OPTION)}
    assert options == {
        (Action.DEFAULT, "--timeout"), (A, "--dry-run"), (A, "--format"),
        (A, "--max-workers"), (A, "--workers"), (A, "--output"), (A, "--port"),
    }  # fmt: skip
    timeout = one(changes, "--timeout")
    assert (timeout.old, timeout.new) == ("30", "60") and timeout.interface_change
    assert {s.name for s in changes.of(Kind.COMMAND)} == {"export-orders"}


def test_routes_but_not_client_calls() -> None:
    patch = '@@ -1,2 +1,9 @@\n app = FastAPI()\n+@app.get("/orders/{order_id}/refunds")\n+def refunds(order_id: int):\n+    return session.get("/internal/refunds")\n+router.post("/webhooks", handle)\n+http.HandleFunc("/healthz", health)\n+r.GET("/v2/items", items)\n+@GetMapping("/users")\n'  # noqa: E501
    routes = {s.name for s in read(change("shop/api.py", patch)).of(Kind.ROUTE)}
    assert routes == {"GET /orders/{order_id}/refunds", "POST /webhooks", "/healthz",
                      "GET /v2/items", "GET /users"}  # fmt: skip


def test_environment_reads_not_writes_or_foreign_variables() -> None:
    patch = '@@ -1,1 +1,6 @@\n import os\n+KEY = os.environ.get("SHOP_API_KEY")\n+os.environ["COLUMNS"] = "150"\n+HOME = os.getenv("HOME")\n+DEBUG = os.getenv("SHOP_DEBUG")\n+url = os.environ["SHOP_URL"]\n'  # noqa: E501
    env = read(change("shop/settings.py", patch)).of(Kind.ENV)
    assert {s.name for s in env} == {"SHOP_API_KEY", "SHOP_URL"}


def test_schema_changes_and_migrations() -> None:
    sql = "@@ -0,0 +1,3 @@\n+ALTER TABLE orders ADD COLUMN refunded_at TIMESTAMP;\n+CREATE INDEX orders_refunded ON orders (refunded_at);\n+DROP TABLE legacy_orders;\n"  # noqa: E501
    alembic = "@@ -10,2 +10,3 @@ def upgrade():\n     pass\n+    op.drop_column('orders', 'note')\n"
    django = "@@ -8,1 +8,2 @@ class Migration(migrations.Migration):\n+        migrations.AddField(model_name='order', name='paid_at', field=models.DateTimeField()),\n     ]\n"  # noqa: E501
    opaque = "@@ -0,0 +1,1 @@\n+UPDATE orders SET total = 0 WHERE total IS NULL;\n"
    changes = read(
        change("db/migrations/0002.sql", sql, FileStatus.ADDED),
        change("alembic/versions/abc_note.py", alembic),
        change("shop/migrations/0003_paid.py", django),
        change("db/migrations/0004_fix.sql", opaque, FileStatus.ADDED),
    )
    assert {(s.action, s.name) for s in changes.of(Kind.SCHEMA)} == {
        (A, "orders.refunded_at"), (A, "orders_refunded"), (R, "legacy_orders"),
        (R, "orders.note"), (A, "order.paid_at"), (A, "migration 0004_fix.sql"),
    }  # fmt: skip
    assert all(s.interface_change for s in changes.of(Kind.SCHEMA))


def test_wire_formats() -> None:
    proto = "@@ -3,4 +3,6 @@ message Order {\n   int64 id = 1;\n-  string status = 2;\n+  string status = 5;\n+  int64 refunded_total = 3;\n }\n+message Refund {\n"  # noqa: E501
    openapi = "@@ -10,3 +10,5 @@ paths:\n   /orders:\n     get: {}\n+  /refunds:\n+    get: {}\n"
    changes = read(change("proto/shop.proto", proto), change("api/openapi.yaml", openapi))
    assert found(changes) >= {
        (Kind.WIRE, Action.SIGNATURE, "Order.status"), (Kind.WIRE, A, "Order.refunded_total"),
        (Kind.WIRE, A, "message Refund"), (Kind.ROUTE, A, "/refunds"),
    }  # fmt: skip


def test_config_keys_with_their_nesting_and_defaults() -> None:
    yaml = "@@ -1,5 +1,6 @@\n server:\n-  port: 8080\n+  port: 9090  # moved off the proxy's port\n   workers: 4\n cache:\n+  ttl: 300\n"  # noqa: E501
    toml = "@@ -1,2 +1,3 @@\n [tool.shop]\n-timeout = 30\n+timeout = 60\n+retries = 3\n"
    ci = "@@ -8,2 +8,2 @@ jobs:\n       - run: pytest\n-        timeout-minutes: 10\n+        timeout-minutes: 20\n"  # noqa: E501
    changes = read(
        change("config/default.yaml", yaml), change("shop.toml", toml),
        change(".github/workflows/ci.yml", ci),
    )  # fmt: skip
    port = one(changes, "server.port")
    assert (port.action, port.old, port.new, port.public) == (Action.DEFAULT, "8080", "9090", True)
    assert one(changes, "cache.ttl").action is A and one(changes, "cache.ttl").interface_change
    assert one(changes, "tool.shop.timeout").action is Action.DEFAULT
    assert not one(changes, "tool.shop.timeout").public  # not a shipped defaults file
    minutes = [s for s in changes.symbols if s.name.endswith("timeout-minutes")]
    assert minutes and not minutes[0].public and not minutes[0].interface_change


def test_dependencies_and_major_versions() -> None:
    pyproject = '@@ -4,4 +4,5 @@ dependencies = [\n-    "httpx>=0.27",\n+    "httpx>=0.28",\n-    "pydantic>=1.10",\n+    "pydantic>=2.5",\n+    "rich>=13",\n ]\n'  # noqa: E501
    package = '@@ -3,3 +3,3 @@\n   "dependencies": {\n-    "react": "^17.0.2",\n+    "react": "^18.2.0",\n     "zod": "3.22.4"\n'  # noqa: E501
    gomod = (
        "@@ -3,2 +3,2 @@ require (\n-\tgolang.org/x/net v0.20.0\n+\tgolang.org/x/net v0.21.0\n )\n"
    )
    cargo = '@@ -5,2 +5,2 @@ [dependencies]\n-serde = { version = "1.0", features = ["derive"] }\n+serde = { version = "2.0", features = ["derive"] }\n'  # noqa: E501
    own = '@@ -1,3 +1,3 @@\n [project]\n-version = "1.3.0"\n+version = "1.4.0"\n'
    changes = read(
        change("pyproject.toml", pyproject), change("web/package.json", package),
        change("gateway/go.mod", gomod), change("crates/x/Cargo.toml", cargo),
        change("lib/pyproject.toml", own),
    )  # fmt: skip
    deps = {s.name: (s.action, s.old, s.new, s.breaking) for s in changes.of(Kind.DEPENDENCY)}
    assert deps == {
        "httpx": (Action.BUMPED, ">=0.27", ">=0.28", False),
        "pydantic": (Action.BUMPED, ">=1.10", ">=2.5", True),
        "rich": (A, None, ">=13", False),
        "react": (Action.BUMPED, "^17.0.2", "^18.2.0", True),
        "golang.org/x/net": (Action.BUMPED, "v0.20.0", "v0.21.0", False),
        "serde": (Action.BUMPED, "1.0", "2.0", True),
    }


# --- the shape of a whole diff -------------------------------------------------------------------


def test_formatting_only_diffs() -> None:
    black = "@@ -3,3 +3,9 @@ def rows(orders):\n     for order in orders:\n-        out.append([order['id'], order['total']])\n+        out.append(\n+            [\n+                order[\"id\"],\n+                order[\"total\"],\n+            ]\n+        )\n"  # noqa: E501
    isort = "@@ -1,3 +1,3 @@\n import hashlib\n-import time\n-import os\n+import os\n+import time\n"
    comment = "@@ -5,2 +5,2 @@ def check(x):\n-    return None  # bad\n+    return None  # bad signature\n"  # noqa: E501
    assert read(
        change("a.py", black), change("b.py", isort), change("c.py", comment)
    ).formatting_only
    token = "@@ -5,2 +5,2 @@ def check(x):\n-    return None\n+    return False\n"
    assert not read(change("a.py", black), change("d.py", token)).formatting_only
    order = "@@ -1,3 +1,3 @@\n-x = load()\n-y = use(x)\n+y = use(x)\n+x = load()\n"
    assert not read(change("e.py", order)).formatting_only  # reordering statements is no format


def test_rename_only_diffs() -> None:
    rename = "@@ -1,8 +1,8 @@\n-def _fmt(value):\n+def _format_money(value):\n     return value\n \n def label(x):\n-    return _fmt(x)\n+    return _format_money(x)\n"  # noqa: E501
    changes = read(change("shop/pricing.py", rename))
    assert changes.rename_only and changes.renames == (("_fmt", "_format_money"),)
    moved = FileChange(
        path="shop/utils.py", previous_path="shop/util.py", status=FileStatus.RENAMED
    )
    both = read(moved, change("shop/pricing.py", rename))
    assert both.rename_only and ("util", "utils") in both.renames
    swap = "@@ -3,2 +3,2 @@ def label(x):\n-    return price(x)\n+    return cost(x)\n"
    assert not read(change("shop/pricing.py", swap)).rename_only  # one call swapped: behaviour


def test_removed_public_code_and_its_callers() -> None:
    removed = '@@ -10,7 +10,3 @@ def compute_tax(amount, region):\n     return 0\n \n \n-def legacy_price(item):\n-    warnings.warn("legacy_price is deprecated")\n-    return item["price"]\n-\n'  # noqa: E501
    still = "@@ -1,3 +1,3 @@\n from shop.pricing import legacy_price\n-x = 1\n+x = 2\n"
    kept = read(change("shop/pricing.py", removed), change("shop/report.py", still))
    legacy = one(kept, "legacy_price")
    assert legacy.interface_change and not legacy.callers_updated
    refs = {r.path: (r.removed, r.kept) for r in kept.references["legacy_price"]}
    assert refs == {"shop/report.py": (False, True)}  # the string in its own body is no caller
    updated = '@@ -1,4 +1,4 @@ def total(items):\n-    return sum(legacy_price(i) for i in items)\n+    return sum(i["price"] for i in items)\n'  # noqa: E501
    internal = read(change("shop/pricing.py", removed), change("shop/cart.py", updated))
    assert one(internal, "legacy_price").callers_updated
    assert not one(internal, "legacy_price").interface_change
    exports = "@@ -1,2 +1,2 @@\n-from shop.pricing import compute_tax, legacy_price\n+from shop.pricing import compute_tax\n"  # noqa: E501
    export_only = read(change("shop/pricing.py", removed), change("shop/__init__.py", exports))
    assert one(export_only, "legacy_price").interface_change  # dropping an export is no caller


def test_moved_definitions_are_not_removals() -> None:
    out = "@@ -1,5 +1,1 @@\n-def price_label(amount):\n-    return str(amount)\n-\n-\n+from shop.labels import price_label\n"  # noqa: E501
    into = added_file("shop/labels.py", "def price_label(amount):\n    return str(amount)\n")
    changes = read(change("shop/pricing.py", out), into)
    label = one(changes, "price_label")
    assert (label.action, label.old, label.new) == (
        Action.MOVED,
        "shop/pricing.py",
        "shop/labels.py",
    )
    assert not changes.interface


def test_markdown_sections_skip_code_blocks() -> None:
    patch = "@@ -1,3 +1,10 @@\n # Usage\n+\n+## Dry runs\n+\n+```sh\n+# not a heading\n+shop import --dry-run\n+```\n"  # noqa: E501
    assert found(read(change("docs/usage.md", patch))) == {(Kind.SECTION, A, "Dry runs")}


def test_reading_stays_bounded_on_a_huge_patch() -> None:
    n = MAX_PATCH_LINES + 5_000
    body = "".join(f"+def f_{i}():\n" for i in range(n))
    changes = read(change("gen/big.py", f"@@ -0,0 +1,{n} @@\n{body}", FileStatus.ADDED))
    names = {s.name for s in changes.symbols}
    assert "f_0" in names and f"f_{n - 1}" not in names  # lines past the bound are not read


# --- from a real git history -----------------------------------------------------------------


async def test_symbols_of_commits_read_from_git(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "shop")
    base = {
        "shop/pricing.py": "def compute_tax(amount, region):\n    return amount * 0.2\n\n\n"
        + "".join(f"def helper_{i}():\n    return {i}\n\n\n" for i in range(12))
        + "def legacy_price(item):\n    return item['price']\n",
        "shop/cli.py": 'import argparse\n\n\ndef build_parser():\n    parser = argparse.ArgumentParser()\n    parser.add_argument("--timeout", default=30)\n    return parser\n',  # noqa: E501
    }
    repo.commit("init", dict(base), when=T0)
    pricing = (
        base["shop/pricing.py"]
        .replace(
            "def compute_tax(amount, region):", "def compute_tax(amount, region, *, rounding):"
        )
        .replace("def legacy_price(item):\n    return item['price']\n", "")
    )
    cli = base["shop/cli.py"].replace("default=30", "default=60")
    sha = repo.commit("tax rounding, no legacy", {"shop/pricing.py": pricing, "shop/cli.py": cli},
                      when=T0 + timedelta(minutes=1))  # fmt: skip
    source = GitSource(repo.path)
    try:
        real = await source.commit(sha)
    finally:
        await source.aclose()
    changes = read_changes(real)
    assert {(s.kind, s.action, s.name) for s in changes.interface} == {
        (Kind.FUNCTION, Action.SIGNATURE, "compute_tax"),
        (Kind.FUNCTION, R, "legacy_price"),
        (Kind.OPTION, Action.DEFAULT, "--timeout"),
    }
    assert changes.complete and not changes.formatting_only and not changes.rename_only


def test_development_dependencies_are_not_the_products() -> None:
    groups = '@@ -20,3 +20,3 @@ dev = [\n-    "pytest>=8.3.5",\n+    "pytest>=9.0.3",\n-    "attrs>=22",\n+    "attrs>=23",\n ]\n'  # noqa: E501
    package = '@@ -5,4 +5,4 @@\n   },\n   "devDependencies": {\n-    "vite": "4.0.0"\n+    "vite": "5.0.0"\n'  # noqa: E501
    shipped = (
        '@@ -3,2 +3,2 @@ dependencies = [\n-    "pydantic>=1.10",\n+    "pydantic>=2.5",\n ]\n'
    )
    changes = read(
        change("pyproject.toml", groups), change("web/package.json", package),
        change("lib/pyproject.toml", shipped), change("requirements-dev.txt", "@@ -1 +1 @@\n-ruff==0.4\n+ruff==1.0\n"),  # noqa: E501
    )  # fmt: skip
    public = {s.name: s.public for s in changes.of(Kind.DEPENDENCY)}
    assert public == {
        "pytest": False,
        "attrs": False,
        "vite": False,
        "pydantic": True,
        "ruff": False,
    }
    assert [s.name for s in changes.interface] == ["pydantic"]


def test_a_changed_string_or_a_swapped_use_is_no_rename() -> None:
    strings = (
        '@@ -3,2 +3,2 @@ def columns():\n-    return ["avg", "p75"]\n+    return ["avg", "p50"]\n'
    )
    assert not read(change("shop/report.py", strings)).rename_only
    uses = "@@ -3,4 +3,4 @@ def show(stats):\n-    a = stats.p75\n-    b = stats.p75\n+    a = stats.p50\n+    b = stats.p50\n"  # noqa: E501
    assert not read(change("shop/report.py", uses)).rename_only  # p50 existed: behaviour


def test_a_settings_class_moved_to_another_file_is_moved_not_removed() -> None:
    fields = "    branch: str = 'main'\n    tz: str = 'UTC'\n"
    out = (
        "@@ -10,4 +10,1 @@ class Grammar:\n-class SubscribeOptions(BaseSettings):\n"
        + "".join(f"-{line}\n" for line in fields.splitlines())
        + "+from bot.chat.options import SubscribeOptions\n"
    )
    into = added_file("bot/chat/options.py", f"class SubscribeOptions(BaseSettings):\n{fields}")
    changes = read(change("bot/chat/grammar.py", out), into)
    moved = {s.name: (s.action, s.old, s.new) for s in changes.symbols}
    assert moved["SubscribeOptions.branch"] == (
        Action.MOVED,
        "bot/chat/grammar.py",
        "bot/chat/options.py",
    )
    assert not changes.interface
