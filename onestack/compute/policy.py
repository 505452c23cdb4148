"""Where compute's policy comes from: the shipped defaults and the operator's overrides."""

from __future__ import annotations

from pathlib import Path

from onestack.common.policy import Policy
from onestack.settings import Settings

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")


def override_file(settings: Settings) -> Path:
    return settings.compute.policy_file or settings.state_dir / "compute-policy.yaml"


def load_policy(settings: Settings) -> Policy:
    return Policy.load(DEFAULT_POLICY_FILE, override_file(settings))
