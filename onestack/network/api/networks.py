"""/v2.0/networks: list, create, show, update, delete and tags."""

from __future__ import annotations

from onestack.network.api import crud
from onestack.network.api.schemas import NetworkCreateBody, NetworkUpdateBody

COLLECTION = crud.Collection(
    singular="network",
    plural="networks",
    path="networks",
    records=lambda m: m.networks,
    create_body=NetworkCreateBody,
    update_body=NetworkUpdateBody,
    module=__name__,
    guarded=(
        "shared",
        "router:external",
        "provider:network_type",
        "provider:physical_network",
        "provider:segmentation_id",
    ),
)
routes = crud.routes(COLLECTION)
