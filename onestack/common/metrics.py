"""Request metrics in Prometheus's text format: counts and latencies per service and route.

`Metrics.observe()` is called once per request by the HTTP layer; `render()` answers
`GET /metrics`. With several workers each keeps its own counts in memory and, a second after
it counted something, writes a snapshot to a shared directory; any worker's `/metrics` sums
its live counts with the other workers' snapshots, so a scrape through the shared port sees
the whole server.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import defaultdict
from pathlib import Path

from onestack.common.files import write_private

# Seconds; the histogram's upper bounds, as Prometheus clients usually choose them.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SNAPSHOT_INTERVAL_S = 1.0

RequestKey = tuple[str, str, str, str]  # service, route, method, status
RouteKey = tuple[str, str]  # service, route


class Metrics:
    """This process's request counters, optionally shared with sibling workers via files."""

    def __init__(self, snapshot_dir: Path | None = None) -> None:
        self.requests: dict[RequestKey, int] = defaultdict(int)
        # per route: [count per bucket..., +Inf count, sum of seconds]
        self.latency: dict[RouteKey, list[float]] = {}
        self.snapshot_dir = snapshot_dir
        self._pid = os.getpid()
        self._snapshot_due = False

    def observe(self, service: str, route: str, method: str, status: int, seconds: float) -> None:
        self.requests[(service, route, method, str(status))] += 1
        series = self.latency.get((service, route))
        if series is None:
            series = self.latency[(service, route)] = [0.0] * (len(BUCKETS) + 2)
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                series[index] += 1
                break
        else:
            series[len(BUCKETS)] += 1
        series[-1] += seconds
        if self.snapshot_dir is not None and not self._snapshot_due:
            # At most one write a second, and never more than a second behind, idle or not.
            self._snapshot_due = True
            asyncio.get_running_loop().call_later(SNAPSHOT_INTERVAL_S, self.write_snapshot)

    def write_snapshot(self) -> None:
        assert self.snapshot_dir is not None
        self._snapshot_due = False
        record = {
            "requests": [[*key, count] for key, count in self.requests.items()],
            "latency": [[*key, series] for key, series in self.latency.items()],
        }
        write_private(self.snapshot_dir / f"{self._pid}.json", json.dumps(record).encode())

    def render(self) -> str:
        """The text exposition of this process plus every sibling's last snapshot."""
        requests: dict[RequestKey, int] = defaultdict(int, self.requests)
        latency = {key: list(series) for key, series in self.latency.items()}
        for record in self._sibling_snapshots():
            for *key, count in record["requests"]:
                requests[tuple(key)] += count  # type: ignore[index]
            for service, route, series in record["latency"]:
                mine = latency.setdefault((service, route), [0.0] * len(series))
                latency[(service, route)] = [a + b for a, b in zip(mine, series, strict=True)]
        return _exposition(requests, latency)

    def _sibling_snapshots(self) -> list[dict[str, list]]:  # type: ignore[type-arg]
        if self.snapshot_dir is None or not self.snapshot_dir.is_dir():
            return []
        found = []
        for path in self.snapshot_dir.glob("*.json"):
            if path.stem != str(self._pid):
                try:
                    found.append(json.loads(path.read_bytes()))
                except (OSError, ValueError):
                    continue  # a worker that just went away; its numbers are not lost for long
        return found


def _exposition(requests: dict[RequestKey, int], latency: dict[RouteKey, list[float]]) -> str:
    lines = [
        "# HELP onestack_http_requests_total HTTP requests answered, by service, route and status.",
        "# TYPE onestack_http_requests_total counter",
    ]
    for (service, route, method, status), count in sorted(requests.items()):
        labels = _labels(service=service, route=route, method=method, status=status)
        lines.append(f"onestack_http_requests_total{{{labels}}} {count}")
    lines += [
        "# HELP onestack_http_request_duration_seconds Time to answer, by service and route.",
        "# TYPE onestack_http_request_duration_seconds histogram",
    ]
    name = "onestack_http_request_duration_seconds"
    for (service, route), series in sorted(latency.items()):
        cumulative = 0.0
        for bound, count in zip((*BUCKETS, "+Inf"), series[:-1], strict=True):
            cumulative += count
            labels = _labels(service=service, route=route, le=str(bound))
            lines.append(f"{name}_bucket{{{labels}}} {int(cumulative)}")
        labels = _labels(service=service, route=route)
        lines.append(f"{name}_sum{{{labels}}} {series[-1]:.6f}")
        lines.append(f"{name}_count{{{labels}}} {int(cumulative)}")
    return "\n".join(lines) + "\n"


def _labels(**values: str) -> str:
    escaped = {k: v.replace("\\", "\\\\").replace('"', '\\"') for k, v in values.items()}
    return ",".join(f'{key}="{value}"' for key, value in escaped.items())
