"""Domain-specific configuration (`/v3/domains/{domain_id}/config`), stored as Keystone stores it.

A domain may carry its own `[identity]` and `[ldap]` options (Keystone's way to point one domain
at an LDAP directory). Only the groups and options Keystone allows here are accepted (others
are a 403, as Keystone's InvalidDomainConfig); sensitive ones (the LDAP password) are stored but
never read back. onestack keeps every domain's users in its own database, so the options are
stored and served, not acted on: the README says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase
from onestack.identity.models import Domain, DomainConfigOption

LDAP_OPTIONS = [
    "url",
    "user",
    "suffix",
    "query_scope",
    "page_size",
    "alias_dereferencing",
    "debug_level",
    "chase_referrals",
    "user_tree_dn",
    "user_filter",
    "user_objectclass",
    "user_id_attribute",
    "user_name_attribute",
    "user_mail_attribute",
    "user_description_attribute",
    "user_pass_attribute",
    "user_enabled_attribute",
    "user_enabled_invert",
    "user_enabled_mask",
    "user_enabled_default",
    "user_attribute_ignore",
    "user_default_project_id_attribute",
    "user_enabled_emulation",
    "user_enabled_emulation_dn",
    "user_enabled_emulation_use_group_config",
    "user_additional_attribute_mapping",
    "group_tree_dn",
    "group_filter",
    "group_objectclass",
    "group_id_attribute",
    "group_name_attribute",
    "group_members_are_ids",
    "group_member_attribute",
    "group_desc_attribute",
    "group_attribute_ignore",
    "group_additional_attribute_mapping",
    "tls_cacertfile",
    "tls_cacertdir",
    "use_tls",
    "tls_req_cert",
    "use_pool",
    "pool_size",
    "pool_retry_max",
    "pool_retry_delay",
    "pool_connection_timeout",
    "pool_connection_lifetime",
    "use_auth_pool",
    "auth_pool_size",
    "auth_pool_connection_lifetime",
]

# The options a domain may set, with the value used when it sets none.
DEFAULTS: dict[str, dict[str, Any]] = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": {
        **dict.fromkeys(LDAP_OPTIONS),
        "url": "ldap://localhost",
        "suffix": "cn=example,cn=com",
        "query_scope": "one",
        "page_size": 0,
        "alias_dereferencing": "default",
        "chase_referrals": None,
        "user_objectclass": "inetOrgPerson",
        "user_id_attribute": "cn",
        "user_name_attribute": "sn",
        "user_mail_attribute": "mail",
        "user_description_attribute": "description",
        "user_pass_attribute": "userPassword",
        "user_enabled_attribute": "enabled",
        "user_enabled_invert": False,
        "user_enabled_mask": 0,
        "user_enabled_default": "True",
        "user_attribute_ignore": ["default_project_id"],
        "user_default_project_id_attribute": None,
        "user_enabled_emulation": False,
        "user_enabled_emulation_use_group_config": False,
        "user_additional_attribute_mapping": [],
        "group_objectclass": "groupOfNames",
        "group_id_attribute": "cn",
        "group_name_attribute": "ou",
        "group_members_are_ids": False,
        "group_member_attribute": "member",
        "group_desc_attribute": "description",
        "group_attribute_ignore": [],
        "group_additional_attribute_mapping": [],
        "use_tls": False,
        "tls_req_cert": "demand",
        "use_pool": True,
        "pool_size": 10,
        "pool_retry_max": 3,
        "pool_retry_delay": 0.1,
        "pool_connection_timeout": -1,
        "pool_connection_lifetime": 600,
        "use_auth_pool": True,
        "auth_pool_size": 100,
        "auth_pool_connection_lifetime": 60,
    },
}
SENSITIVE = {"ldap": frozenset({"password"})}

Config = dict[str, dict[str, Any]]


def default(group: str | None = None, option: str | None = None) -> Any:
    """Keystone's defaults for what a domain may configure (the whole set, a group, an option)."""
    _check_names(group, option, for_default=True)
    if group is None:
        return {name: dict(values) for name, values in DEFAULTS.items()}
    if option is None:
        return dict(DEFAULTS[group])
    return DEFAULTS[group][option]


class DomainConfigManager(IdentityBase):
    def get(self, domain_id: str, group: str | None = None, option: str | None = None) -> Any:
        """The domain's whole config, one group of it, or one option's value."""
        _check_names(group, option)
        with self.db.reader() as session:
            _domain(session, domain_id)
            config = _read(session, domain_id)
        if not config:
            raise errors.DomainConfigNotFound(domain_id)
        found: Any = config
        for part in (group, option):
            if part is None:
                break
            if part not in found:
                raise errors.DomainConfigNotFound(domain_id, group, option)
            found = found[part]
        return found

    def replace(self, ctx: RequestContext, domain_id: str, config: Config) -> tuple[Config, bool]:
        """Set the domain's whole config; returns it and whether it is new (201 vs 200)."""
        _check_config(config)
        with self.writing() as session:
            _domain(session, domain_id)
            existed = bool(_read(session, domain_id))
            session.execute(delete(DomainConfigOption).where(_of(domain_id)))
            _write(session, domain_id, config)
            stored = _read(session, domain_id)
        self.notify(ctx, "domain_config", "updated" if existed else "created", domain_id)
        return stored, not existed

    def update(
        self, ctx: RequestContext, domain_id: str, config: Config, group: str | None = None
    ) -> Config:
        """Merge options into the existing config (of one group, when `group` names it)."""
        _check_config(config)
        if group is not None and set(config) != {group}:
            raise BadRequest(f"The body may only configure group {group!r}.")
        with self.writing() as session:
            _domain(session, domain_id)
            existing = _read(session, domain_id)
            if not existing or (group is not None and group not in existing):
                raise errors.DomainConfigNotFound(domain_id, group)
            _write(session, domain_id, config)
            stored = _read(session, domain_id)
        self.notify(ctx, "domain_config", "updated", domain_id)
        return stored

    def delete(
        self,
        ctx: RequestContext,
        domain_id: str,
        group: str | None = None,
        option: str | None = None,
    ) -> None:
        _check_names(group, option)
        with self.writing() as session:
            _domain(session, domain_id)
            query = select(DomainConfigOption).where(_of(domain_id))
            if group is not None:
                query = query.where(DomainConfigOption.group == group)
            if option is not None:
                query = query.where(DomainConfigOption.option == option)
            rows = list(session.scalars(query))
            if not rows:
                raise errors.DomainConfigNotFound(domain_id, group, option)
            for row in rows:
                session.delete(row)
        self.notify(ctx, "domain_config", "deleted", domain_id)


def _of(domain_id: str) -> ColumnElement[bool]:
    return DomainConfigOption.domain_id == domain_id


def _domain(session: Session, domain_id: str) -> None:
    if session.get(Domain, domain_id) is None:
        raise errors.DomainNotFound(domain_id)


def _read(session: Session, domain_id: str) -> Config:
    """What the API shows: every option but the sensitive ones."""
    config: Config = {}
    for row in session.scalars(select(DomainConfigOption).where(_of(domain_id))):
        if not row.sensitive:
            config.setdefault(row.group, {})[row.option] = row.value
    return config


def _write(session: Session, domain_id: str, config: Config) -> None:
    for group, options in config.items():
        for option, value in options.items():
            row = session.get(DomainConfigOption, (domain_id, group, option))
            if row is None:
                row = DomainConfigOption(domain_id=domain_id, group=group, option=option)
                session.add(row)
            row.value = value
            row.sensitive = option in SENSITIVE.get(group, ())


def _check_config(config: Mapping[str, Any]) -> None:
    if not isinstance(config, Mapping) or not config:
        raise BadRequest("Invalid input for field 'config': it must be a non-empty object.")
    for group, options in config.items():
        if not isinstance(options, Mapping) or not options:
            raise BadRequest(f"Invalid input for field 'config.{group}': a non-empty object.")
        for option in options:
            _check_names(group, option)


def _check_names(group: str | None, option: str | None, for_default: bool = False) -> None:
    if group is None:
        return
    if group not in DEFAULTS:
        raise errors.InvalidDomainConfig(f"group {group!r} cannot be configured per domain.")
    allowed = set(DEFAULTS[group]) | (set() if for_default else SENSITIVE.get(group, set()))
    if option is not None and option not in allowed:
        raise errors.InvalidDomainConfig(f"option {option!r} of group {group!r} is not allowed.")
