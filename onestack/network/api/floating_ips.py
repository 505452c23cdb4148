"""/v2.0/floatingips: create on an external network, (dis)associate by updating port_id."""

from __future__ import annotations

from onestack.network.api import crud
from onestack.network.api.schemas import FloatingIpCreateBody, FloatingIpUpdateBody

COLLECTION = crud.Collection(
    singular="floatingip",
    plural="floatingips",
    path="floatingips",
    records=lambda m: m.floating_ips,
    create_body=FloatingIpCreateBody,
    update_body=FloatingIpUpdateBody,
    module=__name__,
    guarded=("floating_ip_address",),
)
routes = crud.routes(COLLECTION)
