"""The functional suite's stand-in for a cloud it did not start (tests/functional/running.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.functional.running import RunningCloud


def clouds_yaml(path: Path, auth_url: str) -> Path:
    def entry(user: str, password: str) -> dict:
        return {"auth": {"auth_url": auth_url, "username": user, "password": password}}

    clouds = {
        "lab": entry("admin", "admin-secret"),
        "lab-demo": entry("demo", "demo-secret"),
        "other": entry("demo", "not-this-one"),
    }
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


@pytest.mark.parametrize(
    "auth_url",
    ["http://10.0.0.5:5000/identity", "http://10.0.0.5:5000/identity/v3/", "http://10.0.0.5:5000"],
)
def test_the_base_url_and_port_come_from_the_entry_s_auth_url(
    tmp_path: Path, auth_url: str
) -> None:
    cloud = RunningCloud("lab", clouds_yaml(tmp_path / "clouds.yaml", auth_url))

    assert cloud.url == "http://10.0.0.5:5000"
    assert cloud.identity_url == "http://10.0.0.5:5000/identity"
    assert cloud.port == 5000


def test_personas_map_onto_the_entry_s_family(tmp_path: Path) -> None:
    cloud = RunningCloud("lab", clouds_yaml(tmp_path / "clouds.yaml", "http://h:1/identity"))

    assert cloud.entry("onestack") == "lab"
    assert cloud.entry("onestack-demo") == "lab-demo"
    assert cloud.password("admin") == "admin-secret"
    assert cloud.password("demo") == "demo-secret"


def test_what_needs_the_process_skips_with_the_reason(tmp_path: Path) -> None:
    cloud = RunningCloud("lab", clouds_yaml(tmp_path / "clouds.yaml", "http://h:1/identity"))

    assert cloud.server_errors() == []
    for needs_process in ("state_dir", "restart", "notifications"):
        with pytest.raises(pytest.skip.Exception, match="ONESTACK_TEST_CLOUD"):
            getattr(cloud, needs_process)


def test_an_unknown_entry_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="nowhere"):
        RunningCloud("nowhere", clouds_yaml(tmp_path / "clouds.yaml", "http://h:1/identity"))
