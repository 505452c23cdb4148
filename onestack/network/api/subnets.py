"""/v2.0/subnets: list, create, show, update, delete and tags."""

from __future__ import annotations

from onestack.network.api import crud
from onestack.network.api.schemas import SubnetCreateBody, SubnetUpdateBody

COLLECTION = crud.Collection(
    singular="subnet",
    plural="subnets",
    path="subnets",
    records=lambda m: m.subnets,
    create_body=SubnetCreateBody,
    update_body=SubnetUpdateBody,
    module=__name__,
)
routes = crud.routes(COLLECTION)
