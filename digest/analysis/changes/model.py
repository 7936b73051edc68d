"""The values the diff reader returns: one `Symbol` per thing changed, and `Changes` per commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    FUNCTION = "function"
    METHOD = "method"
    CLASS = "class"
    TYPE = "type"  # struct, enum, interface, trait, type alias
    CONSTANT = "constant"
    OPTION = "option"  # a command-line flag or option
    COMMAND = "command"  # a command-line command or subcommand
    ROUTE = "route"  # an HTTP route, or an RPC of a service definition
    CONFIG = "config"  # a config key: in a config file or a settings class
    ENV = "env"  # an environment variable the code reads
    SCHEMA = "schema"  # a table, column or index, or a migration
    WIRE = "wire"  # a message or field of a wire format (protobuf, API schema)
    DEPENDENCY = "dependency"
    SECTION = "section"  # a heading of a document
    TEST = "test"  # a test function or case


# What users of the product type, call over the network, configure or store: a change to one
# of these in product files is a change to a public interface.
USER_FACING = frozenset(
    {Kind.OPTION, Kind.COMMAND, Kind.ROUTE, Kind.CONFIG, Kind.ENV, Kind.SCHEMA, Kind.WIRE}
)
CODE = frozenset({Kind.FUNCTION, Kind.METHOD, Kind.CLASS, Kind.TYPE, Kind.CONSTANT})


class Action(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"  # the body or value changed, the interface did not
    SIGNATURE = "signature"  # parameters changed
    DEFAULT = "default"  # a default value changed (old -> new)
    BUMPED = "bumped"  # a dependency moved to another version (old -> new)
    MOVED = "moved"  # the same definition left one file for another (old -> new path)


@dataclass(frozen=True)
class Symbol:
    """One thing the diff changes, named as a reader would look it up."""

    kind: Kind
    name: str  # `Response.to_dict`, `--service-tier`, `GET /v1/models`, `server.port`, `httpx`
    action: Action
    path: str
    public: bool = False  # part of the product's public interface
    old: str | None = None  # the old signature, default or version
    new: str | None = None
    breaking: bool = False  # existing callers or users must change something
    # Code whose callers this same commit updates (or removes): an internal refactor.
    callers_updated: bool = False

    @property
    def interface_change(self) -> bool:
        """A change to a public interface, as the importance rules mean it.

        User-facing kinds count when added, removed or given a new default (an environment
        variable only when removed); code API counts
        when removed, when its signature changes in a way callers notice, or when a default
        changes, unless the commit carries its callers along (then it is an internal
        refactor); a dependency when it crosses a major version.
        """
        if not self.public:
            return False
        if self.kind is Kind.SCHEMA:
            return True
        if self.kind is Kind.ENV:  # a new variable is mostly a tuning knob; a removed one
            return self.action is Action.REMOVED  # breaks the deployments that set it
        if self.kind in USER_FACING:
            return self.action in (Action.ADDED, Action.REMOVED, Action.DEFAULT, Action.SIGNATURE)
        if self.kind is Kind.CONSTANT:
            return self.action is Action.DEFAULT and "DEFAULT" in self.name.upper()
        if self.kind in CODE:
            if "." in self.name and self.kind is Kind.METHOD:
                return False  # what modules export; a method is the class's own business
            breaks = self.action is Action.REMOVED or (
                self.action in (Action.SIGNATURE, Action.DEFAULT) and self.breaking
            )
            return breaks and not self.callers_updated
        if self.kind is Kind.DEPENDENCY:
            return self.breaking
        return False


@dataclass(frozen=True)
class Reference:
    """Where a removed or re-signed symbol is still named in the commit's diff."""

    path: str
    removed: bool  # on a removed line other than an import: a caller the commit updated
    kept: bool  # on an added or unchanged line (imports too): a use that still names it


@dataclass(frozen=True)
class Changes:
    """Everything the diff reader found in one commit."""

    symbols: tuple[Symbol, ...] = ()
    # Every changed line only moves whitespace, quotes, trailing commas or import order.
    formatting_only: bool = False
    # Files only moved, or identifiers only renamed consistently (old -> new pairs).
    rename_only: bool = False
    renames: tuple[tuple[str, str], ...] = ()
    # For removed or re-signed public code: where the commit's diff still names it.
    references: dict[str, tuple[Reference, ...]] = field(default_factory=dict)
    # Every patch was present and whole (nothing clipped, binary or missing).
    complete: bool = True

    def of(self, *kinds: Kind) -> tuple[Symbol, ...]:
        return tuple(s for s in self.symbols if s.kind in kinds)

    @property
    def interface(self) -> tuple[Symbol, ...]:
        return tuple(s for s in self.symbols if s.interface_change)
