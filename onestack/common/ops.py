"""Operator endpoints, each mounted at the root of the port: `/healthcheck` and `/metrics`.

Both answer without a token, as oslo.middleware's healthcheck does and Prometheus expects;
they reveal counts and whether the database answers, nothing about tenants.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp

from onestack.common.metrics import Metrics

log = logging.getLogger("onestack.ops")

HealthCheck = Callable[[], None]  # raises when the thing it checks is not usable


def healthcheck_app(checks: dict[str, HealthCheck]) -> ASGIApp:
    """200 "OK" when every check passes, else 503 naming the failures; JSON when asked."""

    async def healthcheck(request: Request) -> Response:
        results = {name: _run(check) for name, check in checks.items()}
        healthy = all(result == "OK" for result in results.values())
        status = 200 if healthy else 503
        if "application/json" in request.headers.get("accept", ""):
            body = {"status": "OK" if healthy else "FAILED", "checks": results}
            return Response(orjson.dumps(body), status, media_type="application/json")
        failed = "; ".join(f"{n}: {r}" for n, r in results.items() if r != "OK")
        return PlainTextResponse("OK" if healthy else failed, status)

    return Router([Route("/", healthcheck, methods=["GET", "HEAD"])])


def metrics_app(metrics: Metrics) -> ASGIApp:
    async def scrape(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return Router([Route("/", scrape, methods=["GET"])])


def _run(check: HealthCheck) -> str:
    try:
        check()
    except Exception as exc:  # any failure means unhealthy; the detail goes to the log
        log.warning("health check failed", extra={"error": str(exc)})
        return f"FAILED ({type(exc).__name__})"
    return "OK"
