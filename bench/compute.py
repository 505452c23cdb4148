"""Compute benchmark on the fake driver: N servers in one request, the time until every one is
ACTIVE (the create rate), the latency of `GET /servers/detail` over them, and the time until
all are deleted. Starts a real `onestack up` (temporary state dir, free port). Prints a table.
Run: .venv/bin/python bench/compute.py [--servers 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
import identity as identity_bench  # the cloud start helpers

HEADERS = {"OpenStack-API-Version": "compute 2.96"}


def until(check, timeout_s: float = 600) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout_s:
            raise SystemExit("timed out")
        time.sleep(0.02)
    return time.perf_counter() - started


def boot_image(api: httpx.Client, base: str) -> str:
    image = api.post(
        f"{base}/image/v2/images",
        json={"name": "bench", "disk_format": "raw", "container_format": "bare"},
    ).json()
    api.put(
        f"{base}/image/v2/images/{image['id']}/file",
        content=b"\0" * 512,
        headers={"Content-Type": "application/octet-stream"},
    ).raise_for_status()
    return str(image["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        cloud, _, _ = identity_bench.start(Path(state) / "state", identity_bench.free_port())
        try:
            run(cloud, args.servers)
        finally:
            cloud.stop()


def run(cloud: identity_bench.Cloud, count: int) -> None:
    base = f"http://127.0.0.1:{cloud.port}"
    token = identity_bench.admin_token(cloud)
    with httpx.Client(headers={"X-Auth-Token": token, **HEADERS}, timeout=60) as api:
        image_id = boot_image(api, base)
        compute = f"{base}/compute/v2.1"
        body = {
            "server": {
                "name": "b",
                "imageRef": image_id,
                "flavorRef": "42",
                "networks": "none",
                "min_count": count,
                "max_count": count,
                "return_reservation_id": True,
            }
        }
        started = time.perf_counter()
        made = api.post(f"{compute}/servers", json=body)
        made.raise_for_status()
        accepted = time.perf_counter() - started
        params = {"reservation_id": made.json()["reservation_id"]}

        def listed() -> list[dict]:
            return api.get(f"{compute}/servers/detail", params=params).json()["servers"]

        active = accepted + until(lambda: all(s["status"] == "ACTIVE" for s in listed()))
        latencies = []
        for _ in range(20):
            begin = time.perf_counter()
            api.get(f"{compute}/servers/detail").raise_for_status()
            latencies.append((time.perf_counter() - begin) * 1000)
        begin = time.perf_counter()
        for server in listed():
            api.delete(f"{compute}/servers/{server['id']}").raise_for_status()
        deleted = time.perf_counter() - begin + until(lambda: not listed())
    columns = ["servers", "accepted (s)", "all ACTIVE (s)", "creates/s", "detail p50 (ms)"]
    print("| " + " | ".join([*columns, "all deleted (s)"]) + " |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {count} | {accepted:.2f} | {active:.2f} | {count / active:.1f} | "
        f"{statistics.median(latencies):.1f} | {deleted:.2f} |"
    )


if __name__ == "__main__":
    main()
