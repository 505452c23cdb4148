"""Identity benchmark: start time, memory, and token/API throughput under wrk. Prints a table.

Starts real `onestack up` processes (temporary state dirs, free ports) and measures on loopback:
- start: seconds from launching `onestack up` to the first valid token, on an empty state dir
  (bootstrap included) and on a restart (median of --starts runs each);
- resident memory of the whole process tree after warm-up and after the load phases;
- at --connections concurrent clients for --duration seconds each, after a warm-up and a pause:
  token validation, token-method issue, password issue and GET /v3/projects as admin, with a
  keep-alive connection and with a new connection per request (`Connection: close`);
- the hash limit: argon2 verifications per second with one process per core and the server's
  own hashing code, measured right after the load phases; password issue is shown against it.
The load client is wrk (Debian's package) driven by a small Lua script; its own CPU time is
reported next to each row. Memory is reported for the whole process tree counting each page
once, next to summed PSS and summed RSS (see `Memory`).
Run: .venv/bin/python bench/identity.py [--duration 10] [--workers 2] [--only start]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import multiprocessing
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


def start(state_dir: Path, port: int, workers: int = 1) -> tuple[Cloud, float, float]:
    """A cloud, the seconds from launch to the first valid admin token, and the CPU seconds
    its processes used until then (steadier than the wall time on a shared machine)."""
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
                    seconds = time.perf_counter() - started
                    return cloud, seconds, cpu_seconds(process.pid)
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


def tree_pids(pid: int) -> list[int]:
    """A process and all its descendants."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        if int(proc.name) == pid or _descends(int(proc.name), pid, stat):
            found.append(int(proc.name))
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process tree so far."""
    ticks = 0
    for each in tree_pids(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Memory:
    """Memory of a process tree, in MB, three ways. Summed RSS counts a page shared after
    fork once per process. Summed PSS splits each shared page between all the processes on the
    machine that map it, unrelated ones included (shared libraries), so it reads low on a busy
    machine. "Each page once" is the first process's RSS plus the others' private pages: what
    the tree alone would occupy (exact when forked processes share only their parent's pages)."""

    rss_mb: float
    pss_mb: float
    once_mb: float
    processes: int

    def __str__(self) -> str:
        return (
            f"{self.once_mb:.0f} MB counting each page once (PSS {self.pss_mb:.0f} MB, "
            f"summed RSS {self.rss_mb:.0f} MB; {self.processes} processes)"
        )


def memory(pid: int) -> Memory:
    """Resident memory of a process and all its descendants."""
    rss_kb = pss_kb = once_kb = 0
    pids = tree_pids(pid)
    for each in pids:
        try:
            rollup = Path(f"/proc/{each}/smaps_rollup").read_text()
        except OSError:
            continue
        fields = {k: int(v) for k, v in re.findall(r"^(\w+):\s+(\d+) kB", rollup, re.M)}
        rss_kb += fields.get("Rss", 0)
        pss_kb += fields.get("Pss", 0)
        private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
        once_kb += fields.get("Rss", 0) if each == pid else private
    return Memory(rss_kb / 1024, pss_kb / 1024, once_kb / 1024, len(pids))


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


# wrk's threads. One keeps up with the server here, and on two cores every further thread
# competes with the server's workers for a core, which shows as the server's tail latency.
CLIENT_THREADS = 1


def run_wrk(
    url: str, script: str, connections: int, duration: int, threads: int = CLIENT_THREADS
) -> tuple[str, float]:
    """wrk's report and the CPU seconds wrk itself used."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [
            "wrk",
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            # wrk drops a reply slower than its 2 s default from the count: a password issue
            # queued behind 7 others on a busy machine takes that long.
            "--timeout",
            "10s",
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
    cloud: Cloud,
    connections: int,
    duration: int,
    only: str | None = None,
    threads: int = CLIENT_THREADS,
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
            run_wrk(url, script, connections, WARMUP_S, threads)
            time.sleep(PAUSE_S)
            report, cpu = run_wrk(url, script, connections, duration, threads)
            rows.append(parse_wrk(name, mode, report, cpu))
    return rows


HASH_LIMIT_S = 5


def hash_limit(seconds: float = HASH_LIMIT_S) -> float:
    """argon2 verifications per second with one process per core, each checking a password
    with onestack's own `verify_password` (so the server's parameters): what password issue
    could reach if hashing were all the server did."""
    cores = len(os.sched_getaffinity(0))
    begin = time.time() + 1  # every process starts counting at once, after spawning
    context = multiprocessing.get_context("spawn")
    with context.Pool(cores) as pool:
        counts = pool.starmap(_verifications, [(begin, begin + seconds)] * cores)
    return sum(counts) / seconds


def _verifications(begin: float, end: float) -> int:
    from onestack.identity.passwords import hash_password, verify_password

    password_hash = hash_password("benchmark")
    time.sleep(max(0.0, begin - time.time()))
    done = 0
    while verify_password(password_hash, "benchmark"):
        if time.time() > end:
            return done
        done += 1
    raise AssertionError("verify_password refused the right password")


def measure_starts(runs: int) -> dict[str, list[float]]:
    """Wall and CPU seconds to the first valid token: first start, then restart, `runs` times."""
    found: dict[str, list[float]] = {key: [] for key in START_FIGURES}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            state_dir = Path(tmp) / "state"
            port = free_port()
            for kind in ("first start", "restart"):
                cloud, seconds, cpu = start(state_dir, port)
                cloud.stop()
                found[f"{kind} to valid token (s)"].append(seconds)
                found[f"{kind}, CPU used (s)"].append(cpu)
    return found


START_FIGURES = (
    "first start to valid token (s)",
    "restart to valid token (s)",
    "first start, CPU used (s)",
    "restart, CPU used (s)",
)


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
        "--client-threads", type=int, default=CLIENT_THREADS, help="wrk threads (-t)"
    )
    parser.add_argument(
        "--only",
        choices=PHASES,
        help="run one part: start times, memory after warm-up, or the load phases (with memory)",
    )
    parser.add_argument(
        "--load", help="run only the load phases whose name holds this (e.g. validation)"
    )
    args = parser.parse_args()
    phases = (args.only,) if args.only else PHASES
    if "load" in phases and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (scripts/install does it)")

    compile_package()
    print(f"# onestack identity benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    client = f"wrk 4.1 ({args.client_threads} thread(s), Lua script)"
    print(f"machine: {machine()}; load client: {client}")
    print(f"API workers: {args.workers}\n")
    if "start" in phases:
        print_starts(measure_starts(args.starts))
    if "memory" in phases or "load" in phases:
        measure_serving(args, with_load="load" in phases)
    return 0


PHASES = ("start", "memory", "load")


def compile_package() -> None:
    """Write onestack's bytecode, as installing the package does: a checkout run with
    PYTHONDONTWRITEBYTECODE would otherwise compile every module on every start."""
    spec = importlib.util.find_spec("onestack")
    assert spec is not None and spec.submodule_search_locations
    for directory in spec.submodule_search_locations:
        compileall.compile_dir(directory, quiet=1)


def print_starts(figures: dict[str, list[float]]) -> None:
    print("| figure | median | min | max |")
    print("|---|---|---|---|")
    for label, values in figures.items():
        print(
            f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |"
        )
    print()


def measure_serving(args: argparse.Namespace, with_load: bool) -> None:
    """Memory of the whole process tree after warm-up and, with load, the wrk phases."""
    with tempfile.TemporaryDirectory() as tmp:
        cloud, _, _ = start(Path(tmp) / "state", free_port(), args.workers)
        try:
            token = admin_token(cloud)
            for _ in range(200):
                validate_once(cloud, token)
            warm = memory(cloud.process.pid)
            print(f"memory (whole process tree) after warm-up: {warm}")
            if not with_load:
                return
            rows = load_phases(
                cloud, args.connections, args.duration, args.load, args.client_threads
            )
            print(f"memory (whole process tree) after the load phases: {memory(cloud.process.pid)}")
        finally:
            cloud.stop()
    limit = hash_limit() if any(row.name == "password issue" for row in rows) else None
    phase = f"{args.duration} s per phase after {WARMUP_S} s warm-up"
    print(f"\nconnections: {args.connections}, {phase}\n")
    print(
        "| load | connection | requests/s | p50 ms | p99 ms | non-2xx | socket errors | wrk CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        rps = f"{row.rps:,.0f}" if row.rps >= 100 else f"{row.rps:.1f}"  # password issue: ~10/s
        print(
            f"| {row.name} | {row.mode} | {rps} | {row.p50_ms:.2f} | {row.p99_ms:.2f} "
            f"| {row.non_2xx} | {row.errors} | {row.client_cpu_s:.1f} |"
        )
    if limit is not None:
        print_hash_limit(limit, [row for row in rows if row.name == "password issue"])


def print_hash_limit(limit: float, rows: list[Row]) -> None:
    cores = len(os.sched_getaffinity(0))
    print(
        f"\nhash limit (argon2 verify, {cores} processes, {HASH_LIMIT_S} s, "
        f"measured after the load phases): {limit:.1f}/s"
    )
    for row in rows:
        print(f"- password issue, {row.mode}: {row.rps / limit:.0%} of the hash limit")


if __name__ == "__main__":
    sys.exit(main())
