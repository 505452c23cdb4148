"""Request metrics: the Prometheus exposition, and sums over sibling workers' snapshots."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from onestack.common.metrics import Metrics
from onestack.common.ops import healthcheck_app


def test_counts_and_histogram_per_route() -> None:
    metrics = Metrics()
    metrics.observe("identity", "/v3/auth/tokens", "GET", 200, 0.002)
    metrics.observe("identity", "/v3/auth/tokens", "GET", 200, 0.3)
    metrics.observe("identity", "/v3/auth/tokens", "GET", 404, 20.0)

    text = metrics.render()

    route = 'service="identity",route="/v3/auth/tokens"'
    assert f'onestack_http_requests_total{{{route},method="GET",status="200"}} 2' in text
    assert f'onestack_http_requests_total{{{route},method="GET",status="404"}} 1' in text
    assert f'onestack_http_request_duration_seconds_bucket{{{route},le="0.0025"}} 1' in text
    assert f'onestack_http_request_duration_seconds_bucket{{{route},le="0.5"}} 2' in text
    assert f'onestack_http_request_duration_seconds_bucket{{{route},le="+Inf"}} 3' in text
    assert f"onestack_http_request_duration_seconds_count{{{route}}} 3" in text


def test_a_worker_reports_its_siblings_snapshots(tmp_path: Path) -> None:
    sibling = Metrics(tmp_path)
    sibling._pid = 1  # as if it were another process
    me = Metrics(tmp_path)

    async def count() -> None:
        sibling.observe("image", "/v2/images", "GET", 200, 0.01)
        me.observe("image", "/v2/images", "GET", 200, 0.01)

    asyncio.run(count())
    sibling.write_snapshot()

    assert 'route="/v2/images",method="GET",status="200"} 2' in me.render()


def test_healthcheck_names_what_failed() -> None:
    def database() -> None:
        raise ConnectionError("no route to database")

    app = healthcheck_app({"database": database, "disk": lambda: None})

    async def ask() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cloud") as client:
            text = await client.get("/")
            detailed = await client.get("/", headers={"Accept": "application/json"})
        return text, detailed

    text, detailed = asyncio.run(ask())

    assert text.status_code == 503
    assert "database: FAILED (ConnectionError)" in text.text
    assert detailed.json() == {
        "status": "FAILED",
        "checks": {"database": "FAILED (ConnectionError)", "disk": "OK"},
    }
