"""The policy rule language: checks, operators, target references and rule references."""

from __future__ import annotations

from pathlib import Path

import pytest

from onestack.common.policy import Policy, PolicyError
from onestack.identity.policy import DEFAULT_POLICY_FILE
from onestack.image.policy import DEFAULT_POLICY_FILE as IMAGE_POLICY_FILE

ADMIN_PROJECT = {"roles": ["admin", "member", "reader"], "is_admin_project": True}
DOMAIN_ADMIN = {"roles": ["admin", "member", "reader"], "domain_id": "d1"}
MEMBER = {"roles": ["member", "reader"], "project_id": "p1", "user_id": "u1"}


def test_role_check_is_case_insensitive() -> None:
    assert Policy({"a": "role:Admin"}).allowed("a", {"roles": ["admin"]}, {})


def test_empty_rule_allows_everyone_and_bang_nobody() -> None:
    policy = Policy({"open": "", "shut": "!"})
    assert policy.allowed("open", {}, {})
    assert not policy.allowed("shut", {"roles": ["admin"]}, {})


def test_target_reference_compares_with_credential() -> None:
    policy = Policy({"own": "project_id:%(target.project.id)s"})
    assert policy.allowed("own", MEMBER, {"project": {"id": "p1"}})
    assert not policy.allowed("own", MEMBER, {"project": {"id": "p2"}})
    assert not policy.allowed("own", MEMBER, {})


def test_precedence_and_parentheses() -> None:
    policy = Policy(
        {
            "loose": "role:admin or role:member and project_id:nope",
            "tight": "(role:admin or role:member) and project_id:nope",
            "negated": "not role:admin",
        }
    )
    assert policy.allowed("loose", {"roles": ["admin"]}, {})
    assert not policy.allowed("tight", {"roles": ["admin"]}, {})
    assert policy.allowed("negated", MEMBER, {})


def test_rule_reference_and_literal_booleans() -> None:
    policy = Policy({"base": "is_admin_project:True", "uses": "rule:base and role:admin"})
    assert policy.allowed("uses", ADMIN_PROJECT, {})
    assert not policy.allowed("uses", {**ADMIN_PROJECT, "is_admin_project": False}, {})


@pytest.mark.parametrize("text", ["role:admin or", "(role:admin", "role:admin )", "admin"])
def test_malformed_rules_are_refused(text: str) -> None:
    with pytest.raises(PolicyError):
        Policy({"bad": text})


def test_unknown_action_is_an_error() -> None:
    with pytest.raises(PolicyError):
        Policy({}).allowed("identity:nothing", {}, {})


def test_override_file_replaces_rules_one_by_one(tmp_path: Path) -> None:
    override = tmp_path / "policy.yaml"
    override.write_text('identity:list_domains: ""\n')
    policy = Policy.load(DEFAULT_POLICY_FILE, override)
    assert policy.allowed("identity:list_domains", MEMBER, {})
    assert not policy.allowed("identity:create_domain", MEMBER, {})


def test_default_personas() -> None:
    policy = Policy.load(DEFAULT_POLICY_FILE)
    project_target = {"project": {"id": "p9", "domain_id": "d1"}}
    assert policy.allowed("identity:create_project", ADMIN_PROJECT, project_target)
    assert policy.allowed("identity:create_project", DOMAIN_ADMIN, project_target)
    assert not policy.allowed(
        "identity:create_project", DOMAIN_ADMIN, {"project": {"domain_id": "d2"}}
    )
    assert not policy.allowed("identity:create_project", MEMBER, project_target)
    assert policy.allowed("identity:get_project", MEMBER, {"project": {"id": "p1"}})
    assert not policy.allowed("identity:get_project", MEMBER, project_target)


# Credentials as tokens give them: in the default mode every project-scoped token counts as
# the admin project's (Keystone's default), so only the role decides.
PROJECT_ADMIN = {
    "roles": ["admin", "member", "reader"],
    "project_id": "p7",
    "is_admin_project": True,
}
PROJECT_READER = {"roles": ["reader"], "project_id": "p7", "is_admin_project": True}
SYSTEM_READER = {"roles": ["reader"], "system_scope": "all"}


def test_an_admin_of_any_admin_project_manages_the_cloud() -> None:
    policy = Policy.load(DEFAULT_POLICY_FILE)
    for action in ("identity:create_domain", "identity:create_service", "identity:list_users"):
        assert policy.allowed(action, PROJECT_ADMIN, {})
        assert not policy.allowed(action, {**PROJECT_ADMIN, "is_admin_project": False}, {})
        assert not policy.allowed(action, DOMAIN_ADMIN, {})


def test_a_project_reader_is_not_a_cloud_reader_but_a_system_reader_is() -> None:
    policy = Policy.load(DEFAULT_POLICY_FILE)
    assert not policy.allowed("identity:list_domains", PROJECT_READER, {})
    assert not policy.allowed("identity:list_users", PROJECT_READER, {"domain_id": "d1"})
    assert policy.allowed("identity:list_domains", SYSTEM_READER, {})
    assert not policy.allowed("identity:create_domain", SYSTEM_READER, {})


def test_every_service_shares_the_personas() -> None:
    image = Policy.load(IMAGE_POLICY_FILE)
    assert image.allowed("context_is_admin", PROJECT_ADMIN, {})
    assert not image.allowed("context_is_admin", {**PROJECT_ADMIN, "is_admin_project": False}, {})
    assert not image.allowed("context_is_admin", PROJECT_READER, {})
    assert image.text["cloud_admin"] == Policy.load(DEFAULT_POLICY_FILE).text["cloud_admin"]


def test_a_service_or_operator_may_redefine_a_persona(tmp_path: Path) -> None:
    override = tmp_path / "policy.yaml"
    override.write_text('cloud_admin: "role:admin and system_scope:all"\n')
    policy = Policy.load(DEFAULT_POLICY_FILE, override)
    assert not policy.allowed("identity:create_domain", PROJECT_ADMIN, {})
    assert policy.allowed("identity:create_domain", {"roles": ["admin"], "system_scope": "all"}, {})
