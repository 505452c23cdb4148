"""Inventories over HTTP: /resource_providers/{uuid}/inventories[/{resource_class}]."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.placement.api import render
from onestack.placement.api.common import base_path, body, enforce, manager, require
from onestack.placement.api.schemas import (
    InventoriesBody,
    InventoryBody,
    InventoryFields,
    NewInventoryBody,
)
from onestack.placement.manager import Stock


def _stock(fields: InventoryFields) -> Stock:
    return Stock(
        total=fields.total,
        reserved=fields.reserved,
        min_unit=fields.min_unit,
        max_unit=fields.max_unit,
        step_size=fields.step_size,
        allocation_ratio=fields.allocation_ratio,
    )


def _all(generation: int, stocks: dict[str, Stock]) -> dict[str, object]:
    return {
        "inventories": {name: render.stock(item) for name, item in stocks.items()},
        "resource_provider_generation": generation,
    }


async def list_inventories(request: Request) -> Response:
    enforce(request, "resource_providers:inventories:list")
    generation, stocks = manager(request).inventories.get_all(request.path_params["uuid"])
    return JSONResponse(_all(generation, stocks))


async def replace_inventories(request: Request) -> Response:
    enforce(request, "resource_providers:inventories:update_all")
    uuid = request.path_params["uuid"]
    manager(request).providers.get(uuid)  # 404 before the body's 400
    data = await body(request, InventoriesBody)
    stocks = {name: _stock(fields) for name, fields in data.inventories.items()}
    inventories = manager(request).inventories
    inventories.set_all(uuid, data.resource_provider_generation, stocks)
    return JSONResponse(_all(*inventories.get_all(uuid)))


async def create_inventory(request: Request) -> Response:
    enforce(request, "resource_providers:inventories:create")
    uuid = request.path_params["uuid"]
    manager(request).providers.get(uuid)
    data = await body(request, NewInventoryBody)
    stock = _stock(data)
    generation = manager(request).inventories.add_one(uuid, data.resource_class, stock)
    location = f"{base_path(request)}{PATH.format(uuid=uuid)}/{data.resource_class}"
    return JSONResponse(
        {**render.stock(stock), "resource_provider_generation": generation},
        status_code=201,
        headers={"location": location},
    )


async def delete_inventories(request: Request) -> Response:
    require(request, 5)
    enforce(request, "resource_providers:inventories:delete_all")
    manager(request).inventories.set_all(request.path_params["uuid"], None, {})
    return Response(status_code=204)


async def show_inventory(request: Request) -> Response:
    enforce(request, "resource_providers:inventories:show")
    uuid, name = request.path_params["uuid"], request.path_params["resource_class"]
    generation, item = manager(request).inventories.get_one(uuid, name)
    return JSONResponse({**render.stock(item), "resource_provider_generation": generation})


async def update_inventory(request: Request) -> Response:
    enforce(request, "resource_providers:inventories:update")
    uuid, name = request.path_params["uuid"], request.path_params["resource_class"]
    manager(request).providers.get(uuid)
    data = await body(request, InventoryBody)
    inventories = manager(request).inventories
    generation = inventories.set_one(uuid, data.resource_provider_generation, name, _stock(data))
    return JSONResponse({**render.stock(_stock(data)), "resource_provider_generation": generation})


async def delete_inventory(request: Request) -> Response:
    enforce(request, "resource_providers:inventories:delete")
    uuid, name = request.path_params["uuid"], request.path_params["resource_class"]
    manager(request).inventories.delete_one(uuid, None, name)
    return Response(status_code=204)


PATH = "/resource_providers/{uuid}/inventories"
routes = [
    Route(PATH, list_inventories, methods=["GET"]),
    Route(PATH, create_inventory, methods=["POST"]),
    Route(PATH, replace_inventories, methods=["PUT"]),
    Route(PATH, delete_inventories, methods=["DELETE"]),
    Route(PATH + "/{resource_class}", show_inventory, methods=["GET"]),
    Route(PATH + "/{resource_class}", update_inventory, methods=["PUT"]),
    Route(PATH + "/{resource_class}", delete_inventory, methods=["DELETE"]),
]
