"""The labelled commits of the quality benchmark, in the order they land (see quality_repo.py).

Kinds: tiny features, public interface changes (API, CLI, config, routes, schema, wire,
environment), docs-only, test-only, security fixes, reverts, renames, dependency bumps,
formatting, bug fixes, features without new interfaces, CI/build, chores, large refactors,
declared breaking changes; in Python, Go, TypeScript, Rust, SQL, protobuf and YAML.

The grades follow the project's rubric (DESIGN §4, issue 16): a change of ten lines or fewer
is medium at most unless it is declared breaking or security; the cases that show that rule
say so in their notes.
"""

from __future__ import annotations

from benchmarks.quality_repo import Case, H, L, M, Tree

# fmt: off


def _module(name: str, classes: list[str], n: int) -> str:
    out = [f'"""{name}."""', ""]
    per = max(6, n // max(1, len(classes)))
    for cls in classes:
        out += ["", f"class {cls}:", f'    """{cls}."""', "", "    def __init__(self, store):", "        self.store = store"]
        for i in range(per - 6):
            out += [f"        self.slot_{i} = store.get('{cls.lower()}_{i}')"]
        out += ["", "    def run(self, order):", "        return self.store.get(order)"]
    return "\n".join(out) + "\n"


def tiny_median(t: Tree) -> None:
    t.replace("shop/report.py", 'f"mean: {statistics.mean(totals):.2f}"]', 'f"mean: {statistics.mean(totals):.2f}",\n             f"median: {statistics.median(totals):.2f}"]')


def tiny_verbose(t: Tree) -> None:
    t.replace("shop/cli.py", '    return parser\n', '    parser.add_argument("--verbose", action="store_true", help="Say more")\n    return parser\n')


def tiny_badge(t: Tree) -> None:
    t.replace("web/src/badge.ts", "  return `${count}`;", "  if (count > 99) {\n    return '99+';\n  }\n  return `${count}`;")


def tiny_colour(t: Tree) -> None:
    t.replace("shop/report.py", '"open": "yellow"}', '"open": "yellow", "refunded": "blue"}')


def route_refunds(t: Tree) -> None:
    t.write("shop/refunds.py", '"""Refunds over HTTP."""\n\nfrom fastapi import APIRouter\n\nrouter = APIRouter()\nREFUNDS: list[dict] = []\n\n\n@router.get("/orders/{order_id}/refunds")\ndef list_refunds(order_id: int, limit: int = 50):\n    """Refunds of one order, newest first."""\n    refunds = [r for r in REFUNDS if r["order_id"] == order_id]\n    refunds.sort(key=lambda r: r["created_at"], reverse=True)\n    return {"order_id": order_id, "refunds": refunds[:limit]}\n')
    t.write("tests/test_refunds_route.py", "from shop.refunds import list_refunds\n\n\ndef test_refunds_route_lists_newest_first():\n    assert list_refunds(1)['refunds'] == []\n")


def cli_dry_run(t: Tree) -> None:
    t.replace("shop/cli.py", '    imp.add_argument("--legacy"', '    imp.add_argument(\n        "--dry-run",\n        action="store_true",\n        help="Read and validate the file, write nothing",\n    )\n    imp.add_argument("--legacy"')
    t.replace("shop/cli.py", "        return read_legacy(args.path)\n", "        return read_legacy(args.path)\n    if getattr(args, 'dry_run', False):\n        print('dry run: nothing written')\n        return None\n")
    t.append("docs/usage.md", "\n## Dry runs\n\n`shop import --dry-run orders.csv` checks a file without importing it.\n")


def remove_legacy_price(t: Tree) -> None:
    t.replace("shop/pricing.py", 'def legacy_price(item):\n    """Deprecated since 1.2: use item["price"] with compute_tax()."""\n    warnings.warn("legacy_price is deprecated", DeprecationWarning, stacklevel=2)\n    price = item["price"]\n    if item.get("discount"):\n        price -= item["discount"]\n    return price\n\n\n', "")
    t.replace("shop/pricing.py", "import warnings\n\n", "")
    t.replace("shop/__init__.py", "from shop.pricing import compute_tax, legacy_price", "from shop.pricing import compute_tax")
    t.replace("shop/__init__.py", '__all__ = ["compute_tax", "legacy_price"]', '__all__ = ["compute_tax"]')


def tax_rounding(t: Tree) -> None:
    t.replace("shop/pricing.py", "def compute_tax(amount, region):\n    rate = TAX_RATES.get(region, 0.0)\n    return round(amount * rate, 2)", "def compute_tax(amount, region, *, rounding):\n    \"\"\"The tax on `amount`; `rounding` is 'up', 'down' or 'half-even', as the region's law says.\"\"\"\n    rate = TAX_RATES.get(region, 0.0)\n    tax = amount * rate\n    cents = tax * 100\n    if rounding == 'up':\n        return -(-cents // 1) / 100\n    if rounding == 'down':\n        return (cents // 1) / 100\n    if rounding == 'half-even':\n        return round(tax, 2)\n    raise ValueError(f'unknown rounding {rounding!r}')")


def timeout_default(t: Tree) -> None:
    t.replace("shop/config.py", "DEFAULT_TIMEOUT = 30", "DEFAULT_TIMEOUT = 10")


def cache_ttl(t: Tree) -> None:
    t.replace("config/default.yaml", "cache:\n  enabled: true\n", "cache:\n  enabled: true\n  ttl: 300\n  max_entries: 10000\n")
    t.append("docs/usage.md", "\n## Cache\n\nPrices are cached in memory.\n\n- `cache.ttl`: how long, in seconds, a price stays cached (default 300).\n- `cache.max_entries`: the most prices kept (default 10000); the oldest go first.\n\nSet `cache.enabled: false` to read every price from the catalog.\n")


def settings_max_items(t: Tree) -> None:
    t.replace("shop/config.py", "    page_size: int = 20\n", "    page_size: int = 20\n    max_items: int = 100\n")
    t.replace("shop/cart.py", "    def add(self, name, price, quantity=1):\n", "    def add(self, name, price, quantity=1, limit=100):\n        if len(self.items) >= limit:\n            raise ValueError(f'a cart holds at most {limit} items')\n        if quantity <= 0:\n            raise ValueError('quantity must be positive')\n        if price < 0:\n            raise ValueError('price must not be negative')\n")
    t.append("docs/usage.md", "\nCarts hold at most `max_items` items (default 100).\n")


def migration_refunded(t: Tree) -> None:
    t.write("shop/db/migrations/0002_refunds.sql", "ALTER TABLE orders ADD COLUMN refunded_at TIMESTAMP;\nCREATE INDEX orders_refunded_at ON orders (refunded_at);\n")
    t.append("shop/orders.py", "\n\ndef mark_refunded(db, order_id, when):\n    \"\"\"Refunds are recorded once: a second refund of one order is an error.\"\"\"\n    row = db.execute('SELECT refunded_at FROM orders WHERE id = ?', (order_id,)).fetchone()\n    if row is None:\n        raise KeyError(order_id)\n    if row[0] is not None:\n        raise ValueError(f'order {order_id} was refunded at {row[0]}')\n    db.execute('UPDATE orders SET refunded_at = ? WHERE id = ?', (when, order_id))\n")


def go_flag_port(t: Tree) -> None:
    t.replace("gateway/main.go", '\taddr := flag.String("addr", ":8080", "listen address")\n', '\taddr := flag.String("addr", ":8080", "listen address")\n\t// Workers serve requests in parallel; retries bound each upstream call.\n\tworkers := flag.Int("workers", 4, "request workers")\n\tretries := flag.Int("retries", 3, "retries per upstream call")\n')
    t.replace("gateway/main.go", "\tfmt.Println(*addr)\n", "\tfmt.Println(*addr)\n\tif *workers < 1 {\n\t\tfmt.Println(\"-workers must be at least 1\")\n\t\treturn\n\t}\n\tfor i := 0; i < *workers; i++ {\n\t\tgo serve(i, *retries)\n\t}\n\tselect {}\n}\n\nfunc serve(worker int, retries int) {\n\tfmt.Println(\"worker\", worker, \"retries\", retries)\n")


def env_api_key(t: Tree) -> None:
    t.replace("shop/auth/tokens.py", 'SECRET = b"change-me"\n', 'SECRET = b"change-me"\n\n\ndef api_key():\n    """The key partners sign requests with; never logged."""\n    key = os.environ.get("SHOP_API_KEY")\n    if not key:\n        raise RuntimeError("SHOP_API_KEY is not set")\n    if len(key) < 32:\n        raise RuntimeError("SHOP_API_KEY is too short")\n    return key.encode()\n')
    t.replace("shop/auth/tokens.py", "import hmac\n", "import hmac\nimport os\n")
    t.append("docs/usage.md", "\n## Partner API key\n\nSet `SHOP_API_KEY` (32 characters or more) before starting the shop.\n")


def proto_field(t: Tree) -> None:
    t.replace("proto/shop.proto", "  string status = 2;\n}\n", "  string status = 2;\n  int64 refunded_total = 3;\n  repeated string tags = 4;\n}\n\nmessage Refund {\n  int64 order_id = 1;\n  int64 amount = 2;\n  string reason = 3;\n}\n\nservice Refunds {\n  rpc Create(Refund) returns (Order);\n}\n")


def ts_remove_export(t: Tree) -> None:
    t.replace("web/src/api.ts", "\n\nexport function legacyTotal(items: Item[]): number {\n  return items.reduce((a, i) => a + i.price, 0);\n}\n", "\n")


def cli_remove_legacy(t: Tree) -> None:
    t.replace("shop/cli.py", '    imp.add_argument("--legacy", action="store_true", help="Read the old CSV layout")\n', "")
    t.replace("shop/cli.py", 'def read_legacy(path):\n    """The pre-1.0 layout: semicolons, totals in cents."""\n    rows = []\n    with open(path, encoding="latin-1") as f:\n        for line in f:\n            order_id, cents = line.strip().split(";")\n            rows.append({"id": int(order_id), "total": int(cents) / 100})\n    return rows\n\n\n', "")
    t.replace("shop/cli.py", '    if getattr(args, "legacy", False):\n        return read_legacy(args.path)\n', "")


def route_remove_v1(t: Tree) -> None:
    t.replace("shop/api.py", '\n\n@app.get("/v1/orders")\ndef list_orders_v1():\n    return []\n', "\n")
    t.delete("tests/test_api.py")
    t.append("docs/usage.md", "\n## API versions\n\n`/v1/orders` is gone; list orders with the reports instead.\n")


def go_signature(t: Tree) -> None:
    t.replace("gateway/pkg/client/client.go", "// Fetch gets one order.\nfunc (c *Client) Fetch(id int) (string, error) {\n\treturn fmt.Sprintf(\"%s/orders/%d\", c.Base, id), nil", "// Fetch gets one order; it gives up when ctx is done.\nfunc (c *Client) Fetch(ctx context.Context, id int) (string, error) {\n\tif err := ctx.Err(); err != nil {\n\t\treturn \"\", err\n\t}\n\treturn fmt.Sprintf(\"%s/orders/%d\", c.Base, id), nil")
    t.replace("gateway/pkg/client/client.go", "// New makes a client.\nfunc New(base string) *Client {\n\treturn &Client{Base: base}", "// New makes a client; a zero timeout means 30 seconds.\nfunc New(base string, timeout time.Duration) *Client {\n\tif timeout <= 0 {\n\t\ttimeout = 30 * time.Second\n\t}\n\treturn &Client{Base: base}")


def rust_signature(t: Tree) -> None:
    t.replace("crates/ledger/src/lib.rs", "pub fn record(amount: i64) -> Entry {\n    Entry { amount }", "pub fn record(amount: i64, currency: &str) -> Entry {\n    assert!(!currency.is_empty(), \"currency required\");\n    let amount = if currency == \"EUR\" { amount } else { amount * 100 };\n    let entry = Entry { amount };\n    debug_assert!(audit(&entry));\n    entry")
    t.append("crates/ledger/src/lib.rs", "\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn records_in_cents() {\n        assert_eq!(super::record(1, \"USD\").amount, 100);\n    }\n}\n")


def docs_typo(t: Tree) -> None:
    t.replace("README.md", "A small shop.", "A small online shop.")


def docs_install(t: Tree) -> None:
    t.write("docs/install.md", "# Installation\n\n## From PyPI\n\n    pip install shop\n\n## From source\n\n    git clone https://example.com/shop\n    cd shop\n    pip install -e .\n\n## Docker\n\n    docker build -t shop .\n    docker run shop\n" + "".join(f"\nStep {i}: check the output of `shop --version`.\n" for i in range(20)))


def docs_config(t: Tree) -> None:
    t.replace("docs/usage.md", "## Configuration\n\nSet `currency` in the settings.\n", "## Configuration\n\nSettings come from the environment (`SHOP_` prefix) or `config/default.yaml`.\n\n- `currency`: the shop's currency (default `EUR`)\n- `page_size`: orders per page (default 20)\n- `max_items`: items per cart (default 100)\n")


def docs_feat(t: Tree) -> None:
    t.write("docs/api.md", "# API\n\n## Orders\n\n`GET /orders/{id}` returns one order.\n\n## Refunds\n\n`GET /orders/{id}/refunds` lists refunds, newest first.\n" + "".join(f"\nExample {i}: `curl /orders/{i}`.\n" for i in range(12)))


def readme_badge(t: Tree) -> None:
    t.replace("README.md", "[![CI](ci.svg)](ci)", "[![CI](ci.svg)](ci) [![Coverage](cov.svg)](cov)")


def test_refund_cases(t: Tree) -> None:
    t.write("tests/test_refunds.py", "from shop.refunds import list_refunds\n\n\ndef test_refund_partial():\n    assert list_refunds(1)['refunds'] == []\n\n\ndef test_refund_limit():\n    assert list_refunds(1, limit=1)['order_id'] == 1\n\n\ndef test_refund_unknown_order():\n    assert list_refunds(999)['refunds'] == []\n")


def test_flaky(t: Tree) -> None:
    t.replace("tests/test_timing.py", "    assert time.time() - start < 0.01\n", "    # The clock is coarse on CI machines: allow a whole second.\n    assert time.time() - start < 1.0\n")


def test_fixtures(t: Tree) -> None:
    t.write("tests/conftest.py", "import pytest\n\nfrom shop.cart import Cart\n\n\n@pytest.fixture\ndef cart():\n    c = Cart()\n    c.add('apple', 1.5, 4)\n    c.add('pear', 2.0)\n    return c\n\n\n@pytest.fixture\ndef us_cart():\n    return Cart(region='us')\n")


def sec_expiry(t: Tree) -> None:
    t.replace("shop/auth/tokens.py", "def verify_token(token):\n    payload, _, signature = token.rpartition(\".\")\n    if not check_signature(payload.encode(), signature):\n        return None\n    return payload", "def verify_token(token, now=None):\n    payload, _, signature = token.rpartition(\".\")\n    if not check_signature(payload.encode(), signature):\n        return None\n    issued, _, subject = payload.partition(\":\")\n    if not issued.isdigit():\n        return None\n    now = now if now is not None else time.time()\n    if now - int(issued) > TOKEN_TTL:\n        return None\n    return subject")
    t.replace("shop/auth/tokens.py", "import hmac\n", "import hmac\nimport time\n")
    t.replace("shop/auth/tokens.py", 'SECRET = b"change-me"\n', 'SECRET = b"change-me"\nTOKEN_TTL = 3600\n')


def sec_escape(t: Tree) -> None:
    t.replace("shop/orders.py", 'def order_note(order):\n    return order.get("note", "")', 'def order_note(order):\n    return escape_note(order.get("note", ""))\n\n\ndef escape_note(text):\n    """Notes are shown in the admin page: never let them carry markup."""\n    return (\n        text.replace("&", "&amp;")\n        .replace("<", "&lt;")\n        .replace(">", "&gt;")\n        .replace(\'"\', "&quot;")\n    )')


def sec_compare(t: Tree) -> None:
    t.replace("shop/auth/tokens.py", "def check_signature(payload, signature):\n    return sign(payload) == signature", "def check_signature(payload, signature):\n    \"\"\"Constant-time: a timing side channel must not leak the signature.\"\"\"\n    if not isinstance(signature, str):\n        return False\n    expected = sign(payload)\n    if len(expected) != len(signature):\n        return False\n    return hmac.compare_digest(expected, signature)")
    t.write("tests/test_tokens.py", "from shop.auth.tokens import check_signature, sign\n\n\ndef test_good_signature():\n    assert check_signature(b'x', sign(b'x'))\n\n\ndef test_bad_signature():\n    assert not check_signature(b'x', 'nope')\n")


def sec_comment(t: Tree) -> None:
    t.replace("shop/auth/tokens.py", "        return None\n    issued", "        return None  # bad signature\n    issued")


def rename_fmt(t: Tree) -> None:
    t.write("shop/pricing.py", t.read("shop/pricing.py").replace("_fmt", "_format_money"))


def move_util(t: Tree) -> None:
    t.move("shop/util.py", "shop/utils.py")


def rename_cart(t: Tree) -> None:
    t.write("shop/cart.py", t.read("shop/cart.py").replace("class Cart:", "class Basket:"))
    t.write("tests/test_cart.py", t.read("tests/test_cart.py").replace("Cart", "Basket"))
    t.write("tests/conftest.py", t.read("tests/conftest.py").replace("Cart", "Basket"))


def bump_httpx(t: Tree) -> None:
    t.replace("pyproject.toml", '"httpx>=0.27.0"', '"httpx>=0.28.1"')


def bump_pydantic(t: Tree) -> None:
    t.replace("pyproject.toml", '"pydantic>=1.10"', '"pydantic>=2.5"')
    t.replace("shop/schemas.py", "from pydantic import BaseModel\n", "from pydantic import BaseModel, ConfigDict\n")
    t.replace("shop/schemas.py", "    id: int\n    total: float\n\n    class Config:\n        orm_mode = True\n", "    model_config = ConfigDict(from_attributes=True)\n\n    id: int\n    total: float\n")
    t.replace("shop/schemas.py", "    return OrderOut.from_orm(order).dict()", "    # pydantic 2: from_orm and dict() are gone.\n    return OrderOut.model_validate(order).model_dump()")


def bump_react(t: Tree) -> None:
    t.replace("web/package.json", '"react": "18.2.0"', '"react": "18.3.1"')


def bump_go_net(t: Tree) -> None:
    t.replace("gateway/go.mod", "golang.org/x/net v0.20.0", "golang.org/x/net v0.21.0")


def add_rich(t: Tree) -> None:
    t.replace("pyproject.toml", '    "fastapi>=0.110",\n', '    "fastapi>=0.110",\n    "rich>=13.7",\n')
    t.replace("shop/report.py", "import statistics\n", "import statistics\n\nfrom rich.table import Table\n")
    t.append("shop/report.py", "\n\ndef summary_table(totals):\n    table = Table(title='orders')\n    table.add_column('count')\n    table.add_row(str(len(totals)))\n    return table\n")


def black_report(t: Tree) -> None:
    t.replace("shop/report.py", "        rows.append([order['id'], order['status'], order['total']])", '        rows.append(\n            [\n                order["id"],\n                order["status"],\n                order["total"],\n            ]\n        )')


def sort_imports(t: Tree) -> None:
    t.replace("shop/auth/tokens.py", "import time\nimport os\n", "import os\nimport time\n")


def fix_empty_cart(t: Tree) -> None:
    t.replace("shop/cart.py", "def checkout(cart, payment):\n    total = cart.total()", "def checkout(cart, payment):\n    if not cart.items:\n        return {\"total\": 0, \"items\": 0, \"status\": \"empty\"}\n    total = cart.total()\n    if total <= 0:\n        raise ValueError(\"nothing to charge\")")
    t.append("tests/test_cart.py", "\n\ndef test_checkout_empty():\n    from shop.cart import checkout\n    assert checkout(Basket(), None)['status'] == 'empty'\n")


def fix_off_by_one(t: Tree) -> None:
    t.replace("shop/orders.py", "    return items[start : start + size + 1]", "    if page < 0 or size <= 0:\n        return []\n    return items[start : start + size]")


def fix_crash_no_items(t: Tree) -> None:
    t.replace("shop/report.py", 'def format_summary(totals):\n    lines = [', 'def format_summary(totals):\n    if not totals:\n        # statistics.mean([]) raised StatisticsError and took the admin page down\n        return "orders: 0"\n    totals = [t for t in totals if t is not None]\n    if not totals:\n        return "orders: 0 (all totals missing)"\n    lines = [')
    t.write("tests/test_report.py", "from shop.report import format_summary\n\n\ndef test_no_orders():\n    assert format_summary([]) == 'orders: 0'\n\n\ndef test_missing_totals():\n    assert format_summary([None]).startswith('orders: 0')\n")


def fix_currency(t: Tree) -> None:
    t.replace("web/src/api.ts", "export function formatPrice(amount: number): string {\n  return `${amount.toFixed(2)} €`;", "export function formatPrice(amount: number, currency = 'EUR'): string {\n  const symbol = currency === 'USD' ? '$' : '€';\n  return currency === 'USD' ? `${symbol}${amount.toFixed(2)}` : `${amount.toFixed(2)} ${symbol}`;")


def fix_data_loss(t: Tree) -> None:
    t.replace("shop/orders.py", 'def save_draft(store, draft):\n    store[draft["id"]] = draft\n    return draft', 'def save_draft(store, draft, lock=None):\n    """Two tabs saving one draft lost the older edit: merge under the lock instead."""\n    if lock is None:\n        lock = _DRAFT_LOCK\n    with lock:\n        current = store.get(draft["id"])\n        if current is not None and current.get("version", 0) > draft.get("version", 0):\n            merged = {**draft, **current}\n            merged["version"] = current["version"] + 1\n            store[draft["id"]] = merged\n            return merged\n        draft = {**draft, "version": draft.get("version", 0) + 1}\n        store[draft["id"]] = draft\n        return draft\n\n\n_DRAFT_LOCK = threading.Lock()')
    t.replace("shop/orders.py", '"""Orders."""\n', '"""Orders."""\n\nimport threading\n')


def cache_prices(t: Tree) -> None:
    t.append("shop/pricing.py", "\n\n_PRICE_CACHE: dict = {}\n\n\ndef lookup_price(catalog, sku):\n    \"\"\"Prices change daily: a dict in front of the catalog saves most lookups.\"\"\"\n    if sku in _PRICE_CACHE:\n        return _PRICE_CACHE[sku]\n    price = catalog.price_of(sku)\n    if price is None:\n        raise KeyError(sku)\n    if len(_PRICE_CACHE) > 10_000:\n        _PRICE_CACHE.clear()\n    _PRICE_CACHE[sku] = price\n    return price\n")


def recommender(t: Tree) -> None:
    t.write("shop/recommend.py", _module("Recommendations", ["Recommender", "SimilarItems", "TrendingItems"], 240))
    t.replace("shop/__init__.py", '__all__ = ["compute_tax"]', 'from shop.recommend import Recommender\n\n__all__ = ["compute_tax", "Recommender"]')


def better_errors(t: Tree) -> None:
    t.replace("shop/cart.py", "            raise ValueError(f'a cart holds at most {limit} items')", "            raise ValueError(\n                f'a cart holds at most {limit} items; remove one before adding {name!r}'\n            )")
    t.replace("shop/cart.py", "            raise ValueError('quantity must be positive')", "            raise ValueError(f'quantity must be positive, got {quantity} for {name!r}')")
    t.replace("shop/cart.py", "            raise ValueError('price must not be negative')", "            raise ValueError(f'price must not be negative, got {price} for {name!r}')")
    t.replace("shop/cart.py", '        raise ValueError("nothing to charge")', '        raise ValueError(f"nothing to charge: the total is {total}")')


def perf_totals(t: Tree) -> None:
    t.replace("shop/cart.py", '    def total(self):\n        amount = sum(i["price"] * i["quantity"] for i in self.items)', '    def total(self):\n        # One pass over a flat list instead of a dict lookup per item per call.\n        prices = [i["price"] for i in self.items]\n        quantities = [i["quantity"] for i in self.items]\n        amount = 0.0\n        for price, quantity in zip(prices, quantities):\n            amount += price * quantity\n        amount = round(amount, 2)')


def extract_labels(t: Tree) -> None:
    t.write("shop/labels.py", '"""Price labels, out of the pricing module."""\n\n\ndef _format_money(value):\n    return f"{value:.2f}"\n\n\ndef price_label(amount, currency="EUR"):\n    return _format_money(amount) + " " + currency\n\n\ndef total_label(amounts, currency="EUR"):\n    return _format_money(sum(amounts)) + " " + currency\n' + "".join(f"\n\ndef label_{i}(amount):\n    return price_label(amount * {i})\n" for i in range(20)))
    t.replace("shop/pricing.py", 'def _format_money(value):\n    return f"{value:.2f}"\n\n\ndef price_label(amount):\n    return _format_money(amount) + " EUR"\n\n\ndef total_label(amounts):\n    return _format_money(sum(amounts)) + " EUR"\n', "from shop.labels import price_label, total_label  # noqa: F401\n")


def ci_matrix(t: Tree) -> None:
    t.replace(".github/workflows/ci.yml", "python: ['3.11', '3.12']", "python: ['3.11', '3.12', '3.13']")
    t.replace(".github/workflows/ci.yml", "      - uses: actions/checkout@v4\n", "      - uses: actions/checkout@v4\n      - uses: actions/setup-python@v5\n        with:\n          python-version: ${{ matrix.python }}\n")


def docker_base(t: Tree) -> None:
    t.replace("Dockerfile", "FROM python:3.11-slim\nCOPY . /app\nRUN pip install /app\n", "FROM python:3.12-slim AS build\nCOPY . /app\nRUN pip wheel --no-deps -w /wheels /app\n\nFROM python:3.12-slim\nCOPY --from=build /wheels /wheels\nRUN pip install /wheels/*.whl && rm -rf /wheels\nUSER nobody\n")


def typos(t: Tree) -> None:
    t.replace("shop/cart.py", "# One pass over a flat list instead of a dict lookup per item per call.", "# One pass over flat lists instead of a dict lookup per item per call.")


def bump_version(t: Tree) -> None:
    t.replace("pyproject.toml", 'version = "1.3.0"', 'version = "1.4.0"')


def ci_timeout(t: Tree) -> None:
    t.replace(".github/workflows/ci.yml", "timeout-minutes: 10", "timeout-minutes: 20")


def big_refactor(t: Tree) -> None:
    for area, classes in (("services/billing", ["Invoicer", "Ledger"]), ("services/catalog", ["Catalog", "Indexer"]), ("workers/sync", ["Syncer", "Scheduler"])):
        t.write(f"{area}/core.py", _module(area, classes, 420))
    t.replace("shop/cart.py", "from shop.pricing import compute_tax\n", "from services.billing.core import Invoicer  # noqa: F401\nfrom shop.pricing import compute_tax\n")


def drop_v1(t: Tree) -> None:
    t.replace("shop/api.py", '@app.get("/orders/{order_id}")', '@app.get("/v2/orders/{order_id}")')
    t.append("docs/usage.md", "\n## API v2\n\nThe v1 paths are gone: use `/v2/orders/{id}`.\n")


def currency_default(t: Tree) -> None:
    t.replace("shop/config.py", '    currency: str = "EUR"\n', '    currency: str = "USD"\n')


def cli_subcommand(t: Tree) -> None:
    t.replace("shop/cli.py", "    return parser\n", '    exp = sub.add_parser("export", help="Export orders to CSV")\n    exp.add_argument("path")\n    exp.add_argument("--since", help="Only orders after this date (YYYY-MM-DD)")\n    exp.add_argument("--status", choices=["open", "paid", "refunded"], help="Only this status")\n    return parser\n')
    t.replace("shop/cli.py", "    args = build_parser().parse_args(argv)\n", "    args = build_parser().parse_args(argv)\n    if args.command == 'export':\n        rows = export_orders(args.path, since=args.since, status=args.status)\n        print(f'{rows} orders written to {args.path}')\n        return rows\n")
    t.append("shop/cli.py", "\n\ndef export_orders(path, since=None, status=None):\n    with open(path, 'w', encoding='utf-8') as out:\n        out.write('id,status,total\\n')\n    return 0\n")


def webhooks(t: Tree) -> None:
    t.write("shop/webhooks.py", '"""Webhooks to partners, retried with backoff."""\n\nimport random\nimport time\n\n\nclass RetryPolicy:\n    """How often and how long a delivery is retried."""\n\n    def __init__(self, attempts=5, base=0.5, cap=30.0):\n        self.attempts = attempts\n        self.base = base\n        self.cap = cap\n\n    def delays(self):\n        for attempt in range(self.attempts):\n            yield min(self.cap, self.base * 2**attempt) * random.uniform(0.5, 1.0)\n\n\nclass WebhookSender:\n    """Posts an event to a partner URL until it is accepted or the policy gives up."""\n\n    def __init__(self, http, policy=None, sleep=time.sleep):\n        self.http = http\n        self.policy = policy or RetryPolicy()\n        self.sleep = sleep\n\n    def send(self, url, event):\n        last = None\n        for delay in self.policy.delays():\n            response = self.http.post(url, json=event)\n            if response.status_code < 500:\n                return response\n            last = response\n            self.sleep(delay)\n        return last\n' + "".join(f"\n\ndef event_{i}(order):\n    return {{'type': 'order.{i}', 'id': order['id']}}\n" for i in range(16)))
    t.write("tests/test_webhooks.py", "from shop.webhooks import RetryPolicy\n\n\ndef test_delays_are_capped():\n    assert all(d <= 30 for d in RetryPolicy(attempts=20).delays())\n")


def missing_catalog_entry(t: Tree) -> None:
    t.replace("shop/pricing.py", "    price = catalog.price_of(sku)\n    if price is None:\n        raise KeyError(sku)\n", "    price = catalog.price_of(sku)\n    if price is None:\n        # A sku dropped from the catalog is not an error for the caller: it has no price.\n        return None\n")


def order_number_race(t: Tree) -> None:
    t.append("shop/orders.py", "\n\n_NUMBER_LOCK = threading.Lock()\n_NEXT = [1000]\n\n\ndef next_order_number():\n    \"\"\"Two checkouts at once could take the same number; take it under a lock.\"\"\"\n    with _NUMBER_LOCK:\n        number = _NEXT[0]\n        _NEXT[0] = number + 1\n    return number\n")


def pin_actions(t: Tree) -> None:
    t.replace(".github/workflows/ci.yml", "actions/checkout@v4", "actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11  # v4.1.1")
    t.replace(".github/workflows/ci.yml", "actions/setup-python@v5", "actions/setup-python@0a5c61591373683505ea898e09a3ea4f39ef2b9c  # v5.0.0")


CASES: list[Case] = [
    # Tiny features: visible, but a few lines: medium at most.
    Case("tiny feat", "feat: show median in the summary output (#301)", M, ("format_summary",), tiny_median),
    Case("tiny feat", "feat(cli): --verbose flag", M, ("--verbose",), tiny_verbose, notes="tiny, though an option"),
    Case("tiny feat", "feat(web): cap the count badge at 99+", M, ("renderCount",), tiny_badge),
    Case("tiny feat", "feat: colour refunded orders", M, ("status_colour",), tiny_colour),
    # Public interfaces changed: high.
    Case("api change", "feat(api): list the refunds of an order (#310)", H, ("/orders/{order_id}/refunds", "list_refunds"), route_refunds),
    Case("api change", "feat(cli): shop import --dry-run", H, ("--dry-run",), cli_dry_run),
    Case("api change", "Remove the deprecated legacy_price helper", H, ("legacy_price",), remove_legacy_price),
    Case("api change", "compute_tax takes the rounding mode explicitly", H, ("compute_tax",), tax_rounding),
    Case("config default", "Lower the default import timeout to 10 s", M, ("DEFAULT_TIMEOUT",), timeout_default, notes="one line: tiny"),
    Case("api change", "feat(config): cache.ttl and cache.max_entries", H, ("cache.ttl", "cache.max_entries"), cache_ttl),
    Case("api change", "Cap carts at max_items items", H, ("ShopSettings.max_items", "max_items"), settings_max_items),
    Case("api change", "Record when an order was refunded", H, ("orders.refunded_at", "0002_refunds.sql"), migration_refunded),
    Case("api change", "gateway: -workers and -retries flags", H, ("--workers", "--retries"), go_flag_port),
    Case("api change", "Read the partner key from SHOP_API_KEY", H, ("SHOP_API_KEY", "api_key"), env_api_key),
    Case("api change", "proto: refunds on the wire", H, ("Order.refunded_total", "message Refund"), proto_field),
    Case("api change", "web: drop legacyTotal", M, ("legacyTotal",), ts_remove_export, notes="a removed export, but four lines: tiny"),
    Case("api change", "cli: the --legacy CSV layout is gone", H, ("--legacy", "read_legacy"), cli_remove_legacy),
    Case("api change", "api: remove /v1/orders", H, ("/v1/orders", "list_orders_v1"), route_remove_v1),
    Case("api change", "client: Fetch takes a context, New a timeout", H, ("Client.Fetch", "New"), go_signature),
    Case("api change", "ledger: record() needs the currency", H, ("record",), rust_signature),
    # Docs only: low.
    Case("docs", "docs: say what the shop is", L, (), docs_typo),
    Case("docs", "docs: installation guide", L, ("Installation", "docs/install.md"), docs_install),
    Case("docs", "docs: list every setting", L, ("Configuration",), docs_config),
    Case("docs", "feat: document the orders API", L, ("API", "Refunds", "docs/api.md"), docs_feat),
    Case("docs", "Coverage badge", L, (), readme_badge),
    # Tests only: low.
    Case("tests", "test: refunds edge cases", L, ("test_refund_partial", "tests/test_refunds.py"), test_refund_cases),
    Case("tests", "Fix the flaky timing test", L, ("tests/test_timing.py",), test_flaky),
    Case("tests", "test: shared cart fixtures", L, ("tests/conftest.py", "cart"), test_fixtures),
    # Security: high, unless nothing changes behaviour.
    Case("security", "fix(auth): tokens expire after an hour", H, ("verify_token", "TOKEN_TTL"), sec_expiry),
    Case("security", "security: escape order notes (CVE-2026-1234)", H, ("escape_note", "order_note"), sec_escape),
    Case("security", "Compare signatures in constant time", H, ("check_signature",), sec_compare),
    Case("security", "auth: comment the bad-signature branch", L, ("verify_token",), sec_comment, notes="a comment in auth code"),
    # Reverts: as heavy as what they take back.
    Case("revert", "Revert the refunds route", H, ("/orders/{order_id}/refunds", "list_refunds"), revert_of=4),
    Case("revert", "Revert the refunded colour", M, ("status_colour",), revert_of=3),
    Case("revert", "Revert the badge docs", L, (), revert_of=24),
    # Renames: low.
    Case("rename", "refactor: rename _fmt to _format_money", L, ("_format_money",), rename_fmt),
    Case("rename", "Move shop/util.py to shop/utils.py", L, ("utils",), move_util),
    Case("rename", "refactor: Cart is now Basket", L, ("Basket",), rename_cart),
    # Dependencies: medium; high across a major version.
    Case("deps", "deps: httpx 0.28.1", M, ("httpx",), bump_httpx),
    Case("deps", "deps: pydantic 2", H, ("pydantic",), bump_pydantic),
    Case("deps", "deps(web): react 18.3.1", M, ("react",), bump_react),
    Case("deps", "gateway: x/net v0.21.0", M, ("golang.org/x/net",), bump_go_net),
    Case("deps", "Render the summary with rich", M, ("rich", "summary_table"), add_rich),
    # Formatting: low.
    Case("format", "style: black", L, (), black_report),
    Case("format", "Sort imports", L, (), sort_imports),
    # Bug fixes: medium; high for a crash or data loss in core code.
    Case("bugfix", "fix: checkout of an empty cart", M, ("checkout",), fix_empty_cart),
    Case("bugfix", "fix: pages held one order too many", M, ("paginate",), fix_off_by_one),
    Case("bugfix", "fix: admin page crash when there are no orders", H, ("format_summary",), fix_crash_no_items),
    Case("bugfix", "fix(web): dollar amounts show the euro sign", M, ("formatPrice",), fix_currency),
    Case("bugfix", "fix: data loss when two tabs save one draft", H, ("save_draft",), fix_data_loss),
    # Features with no new interface.
    Case("feature", "perf: cache price lookups", M, ("lookup_price",), cache_prices),
    Case("feature", "feat: recommendations (#320)", H, ("Recommender", "SimilarItems"), recommender),
    Case("feature", "Clearer cart errors", M, ("Basket.add", "checkout"), better_errors),
    Case("feature", "perf: one pass for cart totals", M, ("Basket.total",), perf_totals),
    Case("refactor", "refactor: price labels get their own module", M, ("price_label", "total_label", "shop/labels.py"), extract_labels),
    # CI and build: medium.
    Case("ci", "ci: test on Python 3.13", M, (".github/workflows/ci.yml",), ci_matrix),
    Case("ci", "build: multi-stage image on 3.12", M, ("Dockerfile",), docker_base),
    # Chores: low.
    Case("chore", "chore: fix a typo in a comment", L, (), typos),
    Case("chore", "Release 1.4.0", L, ("pyproject.toml",), bump_version),
    Case("chore", "chore: increase the CI test timeout", L, ("timeout-minutes",), ci_timeout),
    # A large cross-module refactor: high.
    Case("refactor", "refactor: split billing, catalog and sync into services", H, ("Invoicer", "Catalog", "Syncer"), big_refactor),
    # Declared breaking: high.
    Case("breaking", "feat(api)!: orders move under /v2", H, ("/v2/orders/{order_id}",), drop_v1),
    Case("breaking", "fix: the default currency is USD\n\nBREAKING CHANGE: shops that relied on EUR must set currency.", H, ("ShopSettings.currency", "currency"), currency_default),
    Case("api change", "shop export command", H, ("export", "--since"), cli_subcommand),
    # Harder ones: a new capability in under 200 lines, a race named without "race condition".
    Case("feature", "feat: webhook deliveries retry with backoff", H, ("RetryPolicy", "WebhookSender"), webhooks),
    Case("bugfix", "A missing catalog entry has no price", M, ("lookup_price",), missing_catalog_entry),
    Case("bugfix", "fix: race in order numbering", H, ("next_order_number",), order_number_race),
    Case("ci", "ci: pin actions to commit SHAs", M, (".github/workflows/ci.yml",), pin_actions),
]
