"""`onestack up` as a process: status, clean stops on SIGTERM and SIGINT, restarts keep state."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import yaml

from tests.functional.cloud import CloudFactory, CloudProcess, helpers_of
from tests.functional.identity_api import admin_token, issue, project_scope, validate


def test_status_reports_identity_answering(cloud: CloudProcess) -> None:
    result = cloud.status()

    assert result.returncode == 0, result.stdout
    assert "running" in result.stdout
    assert f"identity   {cloud.identity_url}" in result.stdout and "answers" in result.stdout


def test_restart_keeps_users_and_valid_tokens_and_revocations(cloud: CloudProcess) -> None:
    kept = issue(cloud, "demo", project_scope("demo"))
    revoked = issue(cloud, "demo", project_scope("demo"))
    cloud.openstack("token", "revoke", revoked)
    passwords = (cloud.password("admin"), cloud.password("demo"))

    cloud.restart()

    assert (cloud.password("admin"), cloud.password("demo")) == passwords
    assert validate(cloud, kept).status_code == 200
    assert validate(cloud, revoked).status_code == 404
    assert cloud.openstack("token", "issue", "-f", "json", cloud="onestack-demo")["id"]


def test_sigterm_and_sigint_stop_cleanly(cloud: CloudProcess) -> None:
    token = admin_token(cloud)

    assert cloud.stop(signal.SIGTERM) == 0
    stopped = cloud.status()
    assert stopped.returncode != 0 and "not running" in stopped.stdout

    cloud.start()
    assert validate(cloud, token).status_code == 200
    assert cloud.stop(signal.SIGINT) == 0
    cloud.start()


def test_state_files_are_private(cloud: CloudProcess) -> None:
    for name in ("credentials.yaml", "clouds.yaml", "fernet-keys/1"):
        assert (cloud.state_dir / name).stat().st_mode & 0o777 == 0o600, name


def test_db_upgrade_is_idempotent(cloud: CloudProcess) -> None:
    result = subprocess.run(cloud.args("db", "upgrade"), capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert "current" in result.stdout


def _children(pid: int) -> dict[int, str]:
    """The state letter of each child of `pid` (Z: ended and never waited for)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            found[int(stat.parent.name)] = fields[0]
    return found


def test_the_ended_guest_image_build_leaves_no_zombie(
    tmp_path: Path, make_cloud: CloudFactory
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    # The build fails at once (its output directory is a file), so its process ends early.
    (state_dir / "guest-images").write_text("not a directory")
    cloud = make_cloud(state_dir=state_dir, settings={"image.guest_images": "true"})
    assert cloud.process is not None
    up = cloud.process.pid
    storage_nodes = helpers_of(cloud)  # children of `up` that run for its whole life

    def children() -> dict[int, str]:
        return {pid: state for pid, state in _children(up).items() if pid not in storage_nodes}

    try:
        deadline = time.monotonic() + 60
        # The build's failure is printed as it ends; then no other child of `up` is running.
        while "Traceback" not in cloud.log_text() or set(children().values()) - {"Z"}:
            assert time.monotonic() < deadline, "the guest image build never ended"
            time.sleep(0.05)
        reaped_by = time.monotonic() + 10
        while "Z" in children().values():
            assert time.monotonic() < reaped_by, f"a zombie under onestack up: {children()}"
            time.sleep(0.05)
    finally:
        cloud.stop()


def test_a_restart_keeps_the_clouds_a_user_added_to_clouds_yaml(cloud: CloudProcess) -> None:
    written = yaml.safe_load(cloud.clouds_file.read_text())
    mine = {"auth": {"auth_url": cloud.identity_url}, "auth_type": "v3applicationcredential"}
    written["clouds"]["mine"] = mine
    written["clouds"]["onestack"]["auth"]["password"] = "stale"
    cloud.clouds_file.write_text(yaml.safe_dump(written))

    cloud.restart()

    rewritten = yaml.safe_load(cloud.clouds_file.read_text())
    assert rewritten["clouds"]["mine"] == mine
    assert rewritten["clouds"]["onestack"]["auth"]["password"] == cloud.password("admin")
    assert cloud.openstack("token", "issue", "-f", "json")["id"]
