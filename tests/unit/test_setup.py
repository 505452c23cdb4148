"""`cloud.setup()`: what must exist before API workers fork."""

from __future__ import annotations

from pathlib import Path

from onestack import cloud
from onestack.settings import load_settings


def test_setup_creates_the_key_repositories_every_worker_shares(tmp_path: Path) -> None:
    # Regression: workers forked onto an empty state dir each made their own first token key,
    # so a token issued by one worker was refused by another.
    settings = load_settings(state_dir=tmp_path / "state")

    cloud.setup(settings)

    for repository in ("fernet-keys", "credential-keys"):
        keys = [p.name for p in (settings.state_dir / repository).iterdir()]
        assert keys == ["1"]
