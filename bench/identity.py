"""Identity benchmark: start time, memory, and token/API throughput under wrk. Prints a table.

Starts real `onestack up` processes (temporary state dirs, free ports) and measures on loopback:
- start: seconds from launching `onestack up` to the first valid token, on an empty state dir
  (bootstrap included) and on a restart (median of --starts runs each);
- resident memory of the whole process tree after warm-up and after the load phases;
- at --connections concurrent clients for --duration seconds each, after a warm-up and a pause:
  token validation, token-method issue, password issue and GET /v3/projects as admin, with a
  keep-alive connection and with a new connection per request (`Connection: close`).
The load client is wrk (Debian's package) driven by a small Lua script; its own CPU time is
reported next to each row. Run: .venv/bin/python bench/identity.py [--duration 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

WARMUP_S = 2
PAUSE_S = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cloud:
    state_dir: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def identity(self) -> str:
        return f"http://127.0.0.1:{self.port}/identity"

    def password(self, user: str) -> str:
        text = (self.state_dir / "credentials.yaml").read_text()
        return yaml.safe_load(text)["passwords"][user]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def start(state_dir: Path, port: int, workers: int = 1) -> tuple[Cloud, float]:
    """A cloud, and the seconds from launch to the first valid admin token."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onestack.cli",
            "up",
            "--state-dir",
            str(state_dir),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "ONESTACK_LOG_LEVEL": "warning",
            "ONESTACK_WORKERS": str(workers),
            "ONESTACK_IMAGE__GUEST_IMAGES": "false",  # no image build competing for the cores
        },
    )
    cloud = Cloud(state_dir, port, process)
    while True:
        if process.poll() is not None:
            raise SystemExit(f"onestack up exited with {process.returncode}")
        try:
            if (state_dir / "credentials.yaml").exists():
                token = admin_token(cloud)
                if validate_once(cloud, token):
                    return cloud, time.perf_counter() - started
        except (httpx.TransportError, KeyError, TypeError):
            pass
        time.sleep(0.005)


def password_body(cloud: Cloud, user: str = "admin") -> dict:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": user,
                        "domain": {"id": "default"},
                        "password": cloud.password(user),
                    }
                },
            },
            "scope": {"project": {"name": user, "domain": {"id": "default"}}},
        }
    }


def admin_token(cloud: Cloud) -> str:
    response = httpx.post(f"{cloud.identity}/v3/auth/tokens", json=password_body(cloud))
    response.raise_for_status()
    return response.headers["X-Subject-Token"]


def validate_once(cloud: Cloud, token: str) -> bool:
    headers = {"X-Auth-Token": token, "X-Subject-Token": token}
    return httpx.get(f"{cloud.identity}/v3/auth/tokens", headers=headers).status_code == 200


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total_kb = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            status = (proc / "status").read_text()
        except OSError:
            continue
        if int(proc.name) == pid or _descends(int(proc.name), pid, stat):
            match = re.search(r"VmRSS:\s+(\d+)", status)
            total_kb += int(match.group(1)) if match else 0
    return total_kb / 1024


def _descends(pid: int, ancestor: int, stat: str) -> bool:
    parent = int(stat.rsplit(")", 1)[1].split()[1])
    while parent > 1:
        if parent == ancestor:
            return True
        try:
            stat = Path(f"/proc/{parent}/stat").read_text()
        except OSError:
            return False
        parent = int(stat.rsplit(")", 1)[1].split()[1])
    return False


def lua_script(method: str, headers: dict[str, str], body: str | None) -> str:
    lines = [f'wrk.method = "{method}"']
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    return "\n".join(lines) + "\n"


@dataclass
class Row:
    name: str
    mode: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    client_cpu_s: float


def run_wrk(url: str, script: str, connections: int, duration: int) -> tuple[str, float]:
    """wrk's report and the CPU seconds wrk itself used."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    threads = min(2, connections)
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            handle.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(handle.name)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result.stdout, cpu


def parse_wrk(name: str, mode: str, report: str, cpu: float) -> Row:
    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", report, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", report)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", report)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report
    )
    return Row(
        name=name,
        mode=mode,
        rps=float(rps.group(1)) if rps else 0.0,
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
        client_cpu_s=cpu,
    )


def load_phases(
    cloud: Cloud, connections: int, duration: int, only: str | None = None
) -> list[Row]:
    token = admin_token(cloud)
    token_body = json.dumps(
        {
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": token}},
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        }
    )
    json_headers = {"Content-Type": "application/json"}
    phases = [
        (
            "token validation",
            "GET",
            "/v3/auth/tokens",
            {"X-Auth-Token": token, "X-Subject-Token": token},
            None,
        ),
        ("token-method issue", "POST", "/v3/auth/tokens", json_headers, token_body),
        (
            "password issue",
            "POST",
            "/v3/auth/tokens",
            json_headers,
            json.dumps(password_body(cloud)),
        ),
        ("GET /v3/projects (admin)", "GET", "/v3/projects", {"X-Auth-Token": token}, None),
    ]
    if only is not None:
        phases = [phase for phase in phases if only in phase[0]]
    rows = []
    for name, method, path, headers, body in phases:
        for mode, extra in (("keep-alive", {}), ("new connection", {"Connection": "close"})):
            script = lua_script(method, {**headers, **extra}, body)
            url = f"{cloud.identity}{path}"
            run_wrk(url, script, connections, WARMUP_S)
            time.sleep(PAUSE_S)
            report, cpu = run_wrk(url, script, connections, duration)
            rows.append(parse_wrk(name, mode, report, cpu))
    return rows


def measure_starts(runs: int) -> tuple[list[float], list[float]]:
    firsts, restarts = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            state_dir = Path(tmp) / "state"
            cloud, seconds = start(state_dir, free_port())
            firsts.append(seconds)
            cloud.stop()
            cloud, seconds = start(state_dir, cloud.port)
            restarts.append(seconds)
            cloud.stop()
    return firsts, restarts


def machine() -> str:
    cores = os.cpu_count()
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    return f"{platform.node()}, {cores} cores, {memory_gib:.0f} GiB, Python {python}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per load phase")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--starts", type=int, default=5, help="start measurements (median)")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes")
    parser.add_argument(
        "--only", help="run only the load phases whose name holds this (e.g. validation); no starts"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (scripts/install does it)")

    firsts, restarts = measure_starts(args.starts) if args.only is None else ([], [])
    with tempfile.TemporaryDirectory() as tmp:
        cloud, _ = start(Path(tmp) / "state", free_port(), args.workers)
        try:
            token = admin_token(cloud)
            for _ in range(200):
                validate_once(cloud, token)
            warm_rss = rss_mb(cloud.process.pid)
            rows = load_phases(cloud, args.connections, args.duration, args.only)
            loaded_rss = rss_mb(cloud.process.pid)
        finally:
            cloud.stop()

    print(f"# onestack identity benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {machine()}; load client: wrk 4.1 (2 threads, Lua script)")
    print(f"API workers: {args.workers}")
    print(
        f"connections: {args.connections}, {args.duration} s per phase after {WARMUP_S} s warm-up\n"
    )
    print("| figure | median | min | max |")
    print("|---|---|---|---|")
    for label, values in (
        ("first start to valid token (s)", firsts),
        ("restart to valid token (s)", restarts),
    ):
        if values:
            print(
                f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} "
                f"| {max(values):.2f} |"
            )
    print(
        f"\nresident memory (whole process tree): {warm_rss:.0f} MB after warm-up, "
        f"{loaded_rss:.0f} MB after the load phases\n"
    )
    print(
        "| load | connection | requests/s | p50 ms | p99 ms | non-2xx | socket errors | wrk CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.name} | {row.mode} | {row.rps:,.0f} | {row.p50_ms:.2f} | {row.p99_ms:.2f} "
            f"| {row.non_2xx} | {row.errors} | {row.client_cpu_s:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
