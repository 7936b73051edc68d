"""The labelled repository of the heuristic quality benchmark: a small shop (Python package,
Go gateway, TypeScript client, Rust crate, protobuf, SQL, YAML, docs, tests, CI) and a history
of commits of every kind a digest sees, each with the grade a reviewer would sign and the
names a summary of it should mention.

The labels were written from the commits themselves (what a lead reading the morning post
would want flagged), not from the heuristic's output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.models import Importance
from tests.gitrepo import GitRepo

H, M, L = Importance.HIGH, Importance.MEDIUM, Importance.LOW
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Tree:
    """Edits of the working tree for one commit (files are read back from disk)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.changed: dict[str, str | None] = {}
        self.moves: list[tuple[str, str]] = []

    def read(self, path: str) -> str:
        if path in self.changed and self.changed[path] is not None:
            return self.changed[path] or ""
        return (self.root / path).read_text(encoding="utf-8")

    def write(self, path: str, text: str) -> None:
        self.changed[path] = text

    def replace(self, path: str, old: str, new: str) -> None:
        text = self.read(path)
        if old not in text:
            raise ValueError(f"{path}: {old!r} not found")
        self.write(path, text.replace(old, new, 1))

    def append(self, path: str, text: str) -> None:
        self.write(path, self.read(path) + text)

    def delete(self, path: str) -> None:
        self.changed[path] = None

    def move(self, old: str, new: str) -> None:
        self.moves.append((old, new))


Edit = Callable[[Tree], None]


@dataclass(frozen=True)
class Case:
    kind: str
    message: str
    expected: Importance
    names: tuple[str, ...]  # a summary should name at least one of these (empty: nothing to)
    edit: Edit | None = None
    revert_of: int | None = None  # index of the case this one reverts (git revert)
    notes: str = ""


@dataclass
class Built:
    path: Path
    shas: list[str] = field(default_factory=list)  # one per case, in order


def _lines(prefix: str, n: int, indent: str = "    ") -> str:
    return "".join(f"{indent}{prefix}_{i} = compute_{i}(value)\n" for i in range(n))


BASE: dict[str, str] = {
    "shop/__init__.py": '"""Shop: orders, carts and prices."""\n\nfrom shop.pricing import compute_tax, legacy_price\n\n__all__ = ["compute_tax", "legacy_price"]\n',
    "shop/pricing.py": '''"""Prices and taxes."""

import warnings

TAX_RATES = {"eu": 0.2, "us": 0.07}


def compute_tax(amount, region):
    rate = TAX_RATES.get(region, 0.0)
    return round(amount * rate, 2)


def legacy_price(item):
    """Deprecated since 1.2: use item["price"] with compute_tax()."""
    warnings.warn("legacy_price is deprecated", DeprecationWarning, stacklevel=2)
    price = item["price"]
    if item.get("discount"):
        price -= item["discount"]
    return price


def _fmt(value):
    return f"{value:.2f}"


def price_label(amount):
    return _fmt(amount) + " EUR"


def total_label(amounts):
    return _fmt(sum(amounts)) + " EUR"
''',
    "shop/cart.py": '''"""The shopping cart."""

from shop.pricing import compute_tax


class Cart:
    def __init__(self, region="eu"):
        self.items = []
        self.region = region

    def add(self, name, price, quantity=1):
        self.items.append({"name": name, "price": price, "quantity": quantity})

    def total(self):
        amount = sum(i["price"] * i["quantity"] for i in self.items)
        return amount + compute_tax(amount, self.region)


def checkout(cart, payment):
    total = cart.total()
    payment.charge(total)
    return {"total": total, "items": len(cart.items)}
''',
    "shop/report.py": '''"""Reports for the shop's admin."""

import statistics


def format_summary(totals):
    lines = [f"orders: {len(totals)}", f"mean: {statistics.mean(totals):.2f}"]
    return "\\n".join(lines)


def status_colour(status):
    return {"paid": "green", "open": "yellow"}.get(status, "grey")


def order_rows(orders):
    rows = []
    for order in orders:
        rows.append([order['id'], order['status'], order['total']])
    return rows
''',
    "shop/cli.py": '''"""The shop command line."""

import argparse

from shop.config import DEFAULT_TIMEOUT


def build_parser():
    parser = argparse.ArgumentParser(prog="shop")
    sub = parser.add_subparsers(dest="command")
    imp = sub.add_parser("import", help="Import orders from a CSV file")
    imp.add_argument("path")
    imp.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="Seconds to wait")
    imp.add_argument("--legacy", action="store_true", help="Read the old CSV layout")
    return parser


def read_legacy(path):
    """The pre-1.0 layout: semicolons, totals in cents."""
    rows = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            order_id, cents = line.strip().split(";")
            rows.append({"id": int(order_id), "total": int(cents) / 100})
    return rows


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "legacy", False):
        return read_legacy(args.path)
    return args
''',
    "shop/config.py": '''"""Settings, read once."""

from pydantic_settings import BaseSettings

DEFAULT_TIMEOUT = 30


class ShopSettings(BaseSettings):
    currency: str = "EUR"
    page_size: int = 20
''',
    "shop/api.py": '''"""The HTTP API."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/orders/{order_id}")
def get_order(order_id: int):
    return {"id": order_id}


@app.get("/v1/orders")
def list_orders_v1():
    return []
''',
    "shop/auth/tokens.py": '''"""API tokens."""

import hashlib
import hmac

SECRET = b"change-me"


def sign(payload):
    return hmac.new(SECRET, payload, hashlib.sha256).hexdigest()


def check_signature(payload, signature):
    return sign(payload) == signature


def verify_token(token):
    payload, _, signature = token.rpartition(".")
    if not check_signature(payload.encode(), signature):
        return None
    return payload
''',
    "shop/orders.py": '''"""Orders."""


def paginate(items, page, size):
    start = page * size
    return items[start : start + size + 1]


def save_draft(store, draft):
    store[draft["id"]] = draft
    return draft


def order_note(order):
    return order.get("note", "")
''',
    "shop/schemas.py": '''"""Wire shapes of orders."""

from pydantic import BaseModel


class OrderOut(BaseModel):
    id: int
    total: float

    class Config:
        orm_mode = True


def dump(order):
    return OrderOut.from_orm(order).dict()
''',
    "shop/util.py": '"""Small helpers."""\n\n\ndef chunks(items, size):\n    return [items[i : i + size] for i in range(0, len(items), size)]\n',
    "shop/db/migrations/0001_init.sql": "CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC NOT NULL);\n",
    "config/default.yaml": "server:\n  port: 8080\n  workers: 4\ncache:\n  enabled: true\n",
    "pyproject.toml": '[project]\nname = "shop"\nversion = "1.3.0"\ndependencies = [\n    "httpx>=0.27.0",\n    "pydantic>=1.10",\n    "fastapi>=0.110",\n]\n',
    "README.md": "# Shop\n\nA small shop.\n\n## Install\n\n    pip install shop\n\n[![CI](ci.svg)](ci)\n",
    "docs/usage.md": "# Usage\n\n## Import\n\nRun `shop import orders.csv`.\n\n## Configuration\n\nSet `currency` in the settings.\n",
    "tests/test_cart.py": "from shop.cart import Cart\n\n\ndef test_total():\n    cart = Cart()\n    cart.add('a', 10)\n    assert cart.total() == 12\n",
    "tests/test_timing.py": "import time\n\n\ndef test_fast():\n    start = time.time()\n    assert time.time() - start < 0.01\n",
    ".github/workflows/ci.yml": "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        python: ['3.11', '3.12']\n    steps:\n      - uses: actions/checkout@v4\n      - run: pytest\n        timeout-minutes: 10\n",
    "Dockerfile": "FROM python:3.11-slim\nCOPY . /app\nRUN pip install /app\n",
    "gateway/go.mod": "module example.com/gateway\n\ngo 1.22\n\nrequire (\n\tgolang.org/x/net v0.20.0\n\tgithub.com/spf13/cobra v1.8.0\n)\n",
    "gateway/main.go": 'package main\n\nimport (\n\t"flag"\n\t"fmt"\n)\n\nfunc main() {\n\taddr := flag.String("addr", ":8080", "listen address")\n\tflag.Parse()\n\tfmt.Println(*addr)\n}\n',
    "gateway/pkg/client/client.go": 'package client\n\n// Client talks to the shop API.\ntype Client struct {\n\tBase string\n}\n\n// Fetch gets one order.\nfunc (c *Client) Fetch(id int) (string, error) {\n\treturn fmt.Sprintf("%s/orders/%d", c.Base, id), nil\n}\n\n// New makes a client.\nfunc New(base string) *Client {\n\treturn &Client{Base: base}\n}\n',
    "web/package.json": '{\n  "name": "shop-web",\n  "version": "1.0.0",\n  "dependencies": {\n    "react": "18.2.0",\n    "zod": "3.22.4"\n  }\n}\n',
    "web/src/api.ts": "export async function fetchOrder(id: number): Promise<Order> {\n  const res = await fetch(`/orders/${id}`);\n  return res.json();\n}\n\nexport function formatPrice(amount: number): string {\n  return `${amount.toFixed(2)} €`;\n}\n\nexport function legacyTotal(items: Item[]): number {\n  return items.reduce((a, i) => a + i.price, 0);\n}\n",
    "web/src/badge.ts": "export function renderCount(count: number): string {\n  return `${count}`;\n}\n",
    "proto/shop.proto": 'syntax = "proto3";\n\nmessage Order {\n  int64 id = 1;\n  string status = 2;\n}\n',
    "tests/test_api.py": "from shop.api import list_orders_v1\n\n\ndef test_v1_lists_nothing():\n    assert list_orders_v1() == []\n",
    "crates/ledger/src/lib.rs": "/// Entries of the ledger.\npub struct Entry {\n    pub amount: i64,\n}\n\n/// Record an entry.\npub fn record(amount: i64) -> Entry {\n    Entry { amount }\n}\n\nfn audit(entry: &Entry) -> bool {\n    entry.amount != 0\n}\n",
}


def build(path: Path, cases: list[Case]) -> Built:
    """A real git repository: the base commit, then one commit per case, oldest first."""
    repo = GitRepo.init(path)
    base: dict[str, str | bytes | None] = dict(BASE)
    repo.commit("chore: initial import", base, when=T0 - timedelta(days=1))
    built = Built(path)
    for i, case in enumerate(cases):
        when = T0 + timedelta(minutes=10 * i)
        if case.revert_of is not None:
            stamp = when.isoformat()
            env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
            repo.git("revert", "--no-edit", built.shas[case.revert_of], env=env)
            built.shas.append(repo.git("rev-parse", "HEAD"))
            continue
        tree = Tree(path)
        assert case.edit is not None
        case.edit(tree)
        for old, new in tree.moves:
            (path / new).parent.mkdir(parents=True, exist_ok=True)
            repo.git("mv", old, new)
        files: dict[str, str | bytes | None] = dict(tree.changed)
        if not files:
            stamp = when.isoformat()
            env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
            repo.git("commit", "-q", "--no-verify", "-m", case.message, env=env)
            built.shas.append(repo.git("rev-parse", "HEAD"))
            continue
        built.shas.append(repo.commit(case.message, files, when=when))
    return built
