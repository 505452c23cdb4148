"""`onestack up` as a process: status, clean stops on SIGTERM and SIGINT, restarts keep state."""

from __future__ import annotations

import signal
import subprocess

from tests.functional.cloud import CloudProcess
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
