"""/v2.0/ports: list, create, show, update, delete and tags. Binding a port to a host is for
admins (and the compute facade)."""

from __future__ import annotations

from onestack.network.api import crud
from onestack.network.api.schemas import PortCreateBody, PortUpdateBody

COLLECTION = crud.Collection(
    singular="port",
    plural="ports",
    path="ports",
    records=lambda m: m.ports,
    create_body=PortCreateBody,
    update_body=PortUpdateBody,
    module=__name__,
    guarded=("binding:host_id",),
)
routes = crud.routes(COLLECTION)
