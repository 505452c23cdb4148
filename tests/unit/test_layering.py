"""The house's own import contract (tests/layering/services.py) over small import graphs."""

from __future__ import annotations

import grimp
import pytest

from tests.layering.services import ServicesContract, find_services

MODULES = [
    "house",
    "house.cli",
    "house.cloud",
    "house.common",
    "house.common.db",
    "house.common.manager",
    "house.oslib",
    "house.oslib.process",
    "house.guest",
    "house.guest.publish",
    "house.identity",
    "house.identity.errors",
    "house.identity.api",
    "house.identity.manager",
    "house.identity.manager.projects",
    "house.identity.models",
    "house.image",
    "house.image.manager",
    "house.image.drivers",
    "house.image.drivers.base",
    "house.image.drivers.fake",
    "house.image.drivers.disk",
]


def house(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for module in MODULES:
        graph.add_module(module)
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    return graph


def broken(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    contract = ServicesContract(
        name="services",
        session_options={},
        contract_options={
            "root": "house",
            "composition_roots": ["cli", "cloud"],
            "foundations": ["common", "oslib"],
        },
    )
    check = contract.check(graph, verbose=False)
    found = [(v.importer, v.imported) for v in check.metadata["violations"]]
    assert check.kept == (not found)
    return found


def test_a_service_is_a_package_with_a_manager_but_not_a_foundation() -> None:
    found = find_services(house(), "house", ["house.common", "house.oslib"])
    assert found == ["house.identity", "house.image"]


def test_services_and_foundations_use_common_freely() -> None:
    graph = house(
        ("house.identity.manager.projects", "house.common.manager"),
        ("house.common.manager", "house.common.db"),
        ("house.guest.publish", "house.common.db"),
    )
    assert broken(graph) == []


def test_services_and_tools_may_use_a_service_s_public_interface() -> None:
    graph = house(
        ("house.guest.publish", "house.identity.manager"),
        ("house.guest.publish", "house.image.manager"),
        ("house.image.manager", "house.identity.errors"),
        ("house.image.manager", "house.identity"),
    )
    assert broken(graph) == []


@pytest.mark.parametrize(
    "imported", ["house.identity.manager.projects", "house.identity.api", "house.identity.models"]
)
def test_reaching_into_another_service_s_internals_is_refused(imported: str) -> None:
    # The regression: guest/publish.py imported identity.manager.projects.
    graph = house(("house.guest.publish", imported), ("house.image.manager", imported))
    assert broken(graph) == [("house.guest.publish", imported), ("house.image.manager", imported)]


def test_a_service_uses_its_own_internals_and_the_composition_root_wires_any() -> None:
    graph = house(
        ("house.identity.api", "house.identity.manager.projects"),
        ("house.identity.manager.projects", "house.identity.models"),
        ("house.cloud", "house.image.drivers.disk"),
        ("house.cli", "house.identity.api"),
    )
    assert broken(graph) == []


@pytest.mark.parametrize("imported", ["house.identity.manager", "house.cloud", "house.image"])
def test_common_and_oslib_import_no_service(imported: str) -> None:
    graph = house(("house.common.db", imported), ("house.oslib.process", imported))
    assert broken(graph) == [("house.common.db", imported), ("house.oslib.process", imported)]


def test_a_driver_imports_its_base_but_no_other_driver() -> None:
    graph = house(
        ("house.image.drivers.fake", "house.image.drivers.base"),
        ("house.image.drivers.disk", "house.image.drivers.base"),
        ("house.image.drivers", "house.image.drivers.disk"),
        ("house.image.drivers", "house.image.drivers.fake"),
        ("house.image.drivers.disk", "house.image.drivers.fake"),
    )
    assert broken(graph) == [("house.image.drivers.disk", "house.image.drivers.fake")]


def test_drivers_may_share_a_helper_the_map_does_not_import() -> None:
    graph = house(
        ("house.image.drivers", "house.image.drivers.disk"),
        ("house.image.drivers", "house.image.drivers.tape"),
        ("house.image.drivers.disk", "house.image.drivers.cache"),
        ("house.image.drivers.tape", "house.image.drivers.cache"),
    )
    assert broken(graph) == []
