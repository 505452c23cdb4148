"""The request bodies of the placement API, as placement's JSON schemas describe them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_INT = 2147483647
Uuid = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
    ),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ClassName = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]+$", max_length=255)]
Generation = Annotated[int, Field(ge=0, le=MAX_INT)]
Amount = Annotated[int, Field(ge=1, le=MAX_INT)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ProviderBody(Strict):
    name: Name
    uuid: Uuid | None = None
    parent_provider_uuid: Uuid | None = None


class ProviderUpdateBody(Strict):
    name: Name
    parent_provider_uuid: Uuid | None = None


class InventoryFields(Strict):
    total: Annotated[int, Field(ge=1, le=MAX_INT)]
    reserved: Annotated[int, Field(ge=0, le=MAX_INT)] = 0
    min_unit: Annotated[int, Field(ge=1, le=MAX_INT)] = 1
    max_unit: Annotated[int, Field(ge=1, le=MAX_INT)] = MAX_INT
    step_size: Annotated[int, Field(ge=1, le=MAX_INT)] = 1
    allocation_ratio: Annotated[float, Field(gt=0, le=3.40282e38)] = 1.0


class InventoryBody(InventoryFields):
    resource_provider_generation: Generation


class NewInventoryBody(InventoryFields):
    resource_class: ClassName
    resource_provider_generation: Generation | None = None  # accepted, as placement does


class InventoriesBody(Strict):
    resource_provider_generation: Generation
    inventories: dict[ClassName, InventoryFields]


class Resources(Strict):
    resources: dict[ClassName, Amount]
    generation: Generation | None = None  # accepted and ignored, as placement does


class ProviderRef(Strict):
    uuid: Uuid


class ListAllocation(Strict):
    resource_provider: ProviderRef
    resources: dict[ClassName, Amount]


class AllocationsListBody(Strict):
    """Before 1.12: a list of {resource_provider: {uuid}, resources}."""

    allocations: Annotated[list[ListAllocation], Field(min_length=1)]
    project_id: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None


class AllocationsBody(Strict):
    """From 1.12: {provider uuid: {resources}}, with project and user (and from 1.28 the
    consumer's generation, from 1.38 its type)."""

    allocations: dict[Uuid, Resources]
    project_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    consumer_generation: Generation | None = None
    consumer_type: (
        Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]+$", max_length=255)] | None
    ) = None
    mappings: dict[str, list[Uuid]] | None = None


class ResourceClassBody(Strict):
    name: Annotated[str, StringConstraints(pattern=r"^CUSTOM_[A-Z0-9_]+$", max_length=255)]


class ProviderTraitsBody(Strict):
    resource_provider_generation: Generation
    traits: list[Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]+$", max_length=255)]]
