"""An import-linter contract for what every service shares: who may import which part of it.

A service is any subpackage of the root that has a `manager`, except the foundations (common's
`manager` is the base every service's managers share), so a new service is covered the day it
gets one, without editing the contract. It holds when:

- another package imports a service only through its public interface (the package itself,
  its `manager` package and its `errors`), never its internals (`api`, `manager.<part>`,
  `models`, `drivers`, ...); the composition roots that wire the house (`cli`, `cloud`) may;
- the foundations (`common`, `oslib`) import no service and no composition root at all;
- a driver imports no other driver: only its package's `base`, and the package's DRIVERS map
  (`drivers/__init__.py`) imports each of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grimp
from importlinter import Contract, ContractCheck, fields, output

PUBLIC = ("", ".manager", ".errors")


@dataclass(frozen=True)
class Violation:
    importer: str
    imported: str
    line_numbers: tuple[int, ...]
    rule: str


class ServicesContract(Contract):
    """Services meet only at their public interfaces; foundations know no service."""

    type_name = "services"

    root = fields.StringField()
    composition_roots = fields.ListField(subfield=fields.StringField())
    foundations = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        foundations = [f"{self.root}.{name}" for name in self.foundations]  # type: ignore[attr-defined]
        services = find_services(graph, str(self.root), foundations)
        found = [
            *self._internals(graph, services),
            *self._foundations(graph, services),
            *_drivers(graph, services),
        ]
        found.sort(key=lambda v: (v.rule, v.importer, v.imported))
        return ContractCheck(kept=not found, warnings=[], metadata={"violations": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            lines = ", ".join(f"l.{n}" for n in violation.line_numbers)
            output.print_error(
                f"{violation.importer} -> {violation.imported} ({lines}): {violation.rule}",
                bold=False,
            )
            output.new_line()

    def _internals(self, graph: grimp.ImportGraph, services: list[str]) -> Iterator[Violation]:
        roots = {f"{self.root}.{name}" for name in self.composition_roots}  # type: ignore[attr-defined]
        for service in services:
            rule = f"reaches inside {service}; use {service}.manager"
            public = {service + suffix for suffix in PUBLIC}
            for imported in _package(graph, service) - public:
                for importer in graph.find_modules_that_directly_import(imported):
                    if not _inside(importer, service) and importer not in roots:
                        yield _violation(graph, importer, imported, rule)

    def _foundations(self, graph: grimp.ImportGraph, services: list[str]) -> Iterator[Violation]:
        roots = [f"{self.root}.{name}" for name in self.composition_roots]  # type: ignore[attr-defined]
        for name in self.foundations:  # type: ignore[attr-defined]
            foundation = f"{self.root}.{name}"
            rule = f"{foundation} imports no service"
            for importer in _package(graph, foundation):
                for imported in graph.find_modules_directly_imported_by(importer):
                    if any(_inside(imported, upper) for upper in [*services, *roots]):
                        yield _violation(graph, importer, imported, rule)


def find_services(graph: grimp.ImportGraph, root: str, foundations: list[str]) -> list[str]:
    """The root's subpackages that have a manager, the foundations aside."""
    children = graph.find_children(root) - set(foundations)
    return sorted(child for child in children if f"{child}.manager" in graph.modules)


def _drivers(graph: grimp.ImportGraph, services: list[str]) -> Iterator[Violation]:
    for service in services:
        package = f"{service}.drivers"
        if package not in graph.modules:
            continue
        # A driver is what the package's DRIVERS map imports; other modules beside them
        # (shared helpers such as an image cache) are support code any driver may use.
        registered = graph.find_modules_directly_imported_by(package)
        drivers = (graph.find_children(package) & registered) - {f"{package}.base"}
        for importer in drivers:
            for imported in graph.find_modules_directly_imported_by(importer):
                if any(_inside(imported, other) for other in drivers - {importer}):
                    yield _violation(graph, importer, imported, "a driver imports no other driver")


def _package(graph: grimp.ImportGraph, package: str) -> set[str]:
    return {package} | graph.find_descendants(package)


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _violation(graph: grimp.ImportGraph, importer: str, imported: str, rule: str) -> Violation:
    details = graph.get_import_details(importer=importer, imported=imported)
    lines = tuple(detail["line_number"] for detail in details)
    return Violation(importer, imported, lines, rule)
