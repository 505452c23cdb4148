"""Image benchmark: streaming upload and download of a large image against `cp`. Prints a table.

Starts a real `onestack up` (temporary state dir, free port), writes a test file of --size-mib
(random bytes) to the same disk as the image store, and measures, in the same run:
- `cp` of the file on that disk (the reference the issue names; it only reaches the page cache)
  and a copy with fsync (what a store must do before it calls an upload done);
- PUT /v2/images/{id}/file of the file and GET of it back, each with curl (a light client that
  streams from and to disk), as MiB/s and as a share of `cp`;
- the CPU seconds the client (curl) and the server process spent on each transfer;
- the hash bound: md5 and sha512 (what an upload must compute) over the same number of bytes in
  4 MiB buffers, each alone and both at once in two threads, as the server does;
- the server's resident memory (whole process tree) idle, and its peak while streaming, sampled
  every 20 ms.
Run: .venv/bin/python bench/image.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
import identity as identity_bench  # the cloud start and RSS helpers

CHUNK = 1 << 20


def write_file(path: Path, size_mib: int) -> None:
    block = os.urandom(CHUNK)
    with path.open("wb") as out:
        for _ in range(size_mib):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())


def timed(command: list[str]) -> float:
    return run_timed(command)[0]


def run_timed(command: list[str]) -> tuple[float, float]:
    """Seconds of wall clock and of the command's CPU (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hashing_s(size_mib: int, algorithms: list[str]) -> float:
    """Seconds to hash size_mib MiB in 4 MiB buffers with each algorithm in its own thread."""
    buffer = os.urandom(4 << 20)

    def run(name: str) -> None:
        digest = hashlib.new(name)
        for _ in range(size_mib // 4):
            digest.update(buffer)

    threads = [threading.Thread(target=run, args=(name,)) for name in algorithms]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


class PeakRss:
    """Samples the server's resident memory while a phase runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, identity_bench.memory(self.pid).once_mb)
            time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.home()) as tmp:
        state_dir = Path(tmp) / "state"
        cloud, _, _ = identity_bench.start(state_dir, identity_bench.free_port())
        try:
            rows = measure(cloud, Path(tmp), args.size_mib)
        finally:
            cloud.stop()
    print(f"# onestack image benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {identity_bench.machine()}; client: curl; file: {args.size_mib} MiB\n")
    print(
        "| phase | seconds | MiB/s | share of cp / of copy+fsync | CPU s client / server "
        "| server peak RSS MB (idle) |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    return 0


def measure(cloud: identity_bench.Cloud, tmp: Path, size_mib: int) -> list[str]:
    source, copy, fetched = tmp / "source.img", tmp / "copy.img", tmp / "fetched.img"
    write_file(source, size_mib)
    cp_s = timed(["cp", str(source), str(copy)])
    copy.unlink()
    # What a store must do before it answers: the data on disk, not only in the page cache.
    durable_s = timed(["dd", f"if={source}", f"of={copy}", "bs=4M", "conv=fsync", "status=none"])
    copy.unlink()
    token = identity_bench.admin_token(cloud)
    base = f"http://127.0.0.1:{cloud.port}/image/v2/images"
    created = httpx.post(
        base,
        headers={"X-Auth-Token": token},
        json={"name": "bench", "disk_format": "raw", "container_format": "bare"},
    )
    created.raise_for_status()
    url = f"{base}/{created.json()['id']}/file"
    idle = identity_bench.memory(cloud.process.pid).once_mb
    auth = ["-H", f"X-Auth-Token: {token}"]
    put = ["curl", "-sf", "-X", "PUT", *auth, "-H", "Content-Type: application/octet-stream"]
    put += ["-H", "Expect:"]  # no 100-continue round trip: curl would wait up to 1 s for it
    pid = cloud.process.pid
    with PeakRss(pid) as up:
        server_before = cpu_s(pid)
        up_s, up_client = run_timed([*put, "-T", str(source), url])
        up_server = cpu_s(pid) - server_before
    with PeakRss(pid) as down:
        server_before = cpu_s(pid)
        down_s, down_client = run_timed(["curl", "-sf", *auth, "-o", str(fetched), url])
        down_server = cpu_s(pid) - server_before
    if fetched.stat().st_size != source.stat().st_size:
        raise SystemExit("the downloaded image differs in size from the uploaded one")

    def row(phase: str, seconds: float, cpu: str = "-", peak: float | None = None) -> str:
        rss = f"{peak:.0f} ({idle:.0f})" if peak is not None else "-"
        share = f"{cp_s / seconds:.0%} / {durable_s / seconds:.0%}"
        mib_s = f"{size_mib / seconds:,.0f}"
        return f"| {phase} | {seconds:.2f} | {mib_s} | {share} | {cpu} | {rss} |"

    return [
        row("cp on the same disk", cp_s),
        row("copy + fsync (dd conv=fsync)", durable_s),
        row("md5 alone, 4 MiB buffers", hashing_s(size_mib, ["md5"])),
        row("sha512 alone, 4 MiB buffers", hashing_s(size_mib, ["sha512"])),
        row("md5 and sha512 in 2 threads (hash bound)", hashing_s(size_mib, ["md5", "sha512"])),
        row("upload (PUT .../file)", up_s, f"{up_client:.2f} / {up_server:.2f}", up.peak),
        row("download (GET .../file)", down_s, f"{down_client:.2f} / {down_server:.2f}", down.peak),
    ]


if __name__ == "__main__":
    sys.exit(main())
