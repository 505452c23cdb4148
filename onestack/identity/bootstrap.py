"""First-start bootstrap of identity, safe to run on every start.

Creates what is missing (roles, the Default domain, the admin and demo users and projects,
their assignments, the region, the identity service and its endpoints), points the endpoints
at the current public URL, and writes the credentials file and clouds.yaml into the state dir.
Existing users keep their passwords. On a first start the new passwords are hashed in threads
from the moment they exist (`prepare_passwords()`), so the hashing overlaps the migrations.
"""

from __future__ import annotations

import secrets
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.db import Database
from onestack.common.files import write_private
from onestack.identity.accounts import ACCOUNTS, DEFAULT_DOMAIN_ID, Account
from onestack.identity.manager import generation
from onestack.identity.models import (
    GLOBAL_ROLE_DOMAIN,
    SYSTEM_TARGET,
    Assignment,
    Domain,
    Endpoint,
    ImpliedRole,
    Project,
    Region,
    Role,
    Service,
    User,
)
from onestack.identity.passwords import hash_password

ROLE_CHAIN = ("admin", "member", "reader")  # each implies the next
INTERFACES = ("public", "internal", "admin")
# The other services' catalog entries: type, name and DevStack path on the one port.
CATALOG_SERVICES = (
    ("image", "glance", "/image"),
    ("placement", "placement", "/placement"),
    ("network", "neutron", "/networking"),
    ("compute", "nova", "/compute/v2.1"),
    # DevStack's Swift endpoint: the caller's account, filled in per token.
    ("object-store", "swift", "/object-store/v1/AUTH_$(project_id)s"),
)
CREDENTIALS_FILE = "credentials.yaml"


@dataclass(frozen=True)
class BootstrapResult:
    credentials_file: Path
    clouds_file: Path


@dataclass
class Passwords:
    """The bootstrap users' passwords and, when they were just created, their hashes underway."""

    plain: dict[str, str]
    hashing: dict[str, Future[str]] = field(default_factory=dict)
    pool: ThreadPoolExecutor | None = None

    def hash(self, user: str) -> str:
        future = self.hashing.get(user)
        return future.result() if future else hash_password(self.plain[user])

    def finish(self) -> None:
        """Wait for the hashing threads to end: API workers are forked next, and a thread
        that still held a lock at the fork would leave it held in every worker."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def prepare_passwords(state_dir: Path) -> Passwords:
    """The passwords in the credentials file; when there is none yet, new passwords whose
    hashes are computed in threads (argon2 releases the GIL) while the caller goes on."""
    path = state_dir / CREDENTIALS_FILE
    if path.exists():
        return Passwords(yaml.safe_load(path.read_text())["passwords"])
    plain = {account.user: _new_password() for account in ACCOUNTS}
    write_private(path, yaml.safe_dump({"passwords": plain}))
    pool = ThreadPoolExecutor(len(plain), thread_name_prefix="bootstrap-hash")
    hashing = {user: pool.submit(hash_password, password) for user, password in plain.items()}
    return Passwords(plain, hashing, pool)


def bootstrap(
    db: Database,
    state_dir: Path,
    base_url: str,
    region: str,
    passwords: Passwords | None = None,
) -> BootstrapResult:
    """Ensure the bootstrap identity exists and the catalog points at `base_url`."""
    passwords = passwords or prepare_passwords(state_dir)
    try:
        return _bootstrap(db, state_dir, base_url, region, passwords)
    finally:
        passwords.finish()


def bootstrap_files(state_dir: Path) -> BootstrapResult:
    """Where `bootstrap()` writes the credentials file and clouds.yaml."""
    return BootstrapResult(state_dir / CREDENTIALS_FILE, state_dir / "clouds.yaml")


def _bootstrap(
    db: Database, state_dir: Path, base_url: str, region: str, passwords: Passwords
) -> BootstrapResult:
    result = bootstrap_files(state_dir)
    identity_url = f"{base_url}/identity"
    with db.transaction() as session:
        roles = _ensure_roles(session)
        _ensure(
            session,
            Domain,
            DEFAULT_DOMAIN_ID,
            domain_id=DEFAULT_DOMAIN_ID,
            name="Default",
            description="The default domain",
        )
        for account in ACCOUNTS:
            _ensure_account(session, account, passwords, roles)
        # The cloud admin also administers the Default domain, so domain scope is usable at once.
        _ensure_assignment(
            session, _id_of(session, User, "admin"), "domain", DEFAULT_DOMAIN_ID, roles["admin"]
        )
        _ensure(session, Region, region, region_id=region, description="")
        _ensure_identity_endpoints(session, region, identity_url)
        for service_type, name, path in CATALOG_SERVICES:
            _ensure_endpoints(session, region, f"{base_url}{path}", service_type, name)
        generation.bump(session)  # other processes on this database may cache the catalog
    ours = _clouds(identity_url, region, passwords.plain)
    write_private(result.clouds_file, yaml.safe_dump(_merged_clouds(result.clouds_file, ours)))
    return result


def _merged_clouds(path: Path, ours: dict[str, Any]) -> dict[str, Any]:
    """`ours` over what the file at `path` holds: onestack's own clouds are rewritten on every
    start, the entries a user added (an application credential, another cloud) are kept."""
    try:
        existing = yaml.safe_load(path.read_text()) if path.exists() else None
    except yaml.YAMLError:
        # Never lose a user's hand edits: keep the unreadable file beside the new one.
        path.replace(path.with_name(path.name + ".invalid"))
        existing = None
    if not isinstance(existing, dict) or not isinstance(existing.get("clouds"), dict):
        return ours
    return {**existing, "clouds": {**existing["clouds"], **ours["clouds"]}}


def _ensure_roles(session: Session) -> dict[str, str]:
    role_ids = {}
    for name in ROLE_CHAIN:
        role = session.scalars(
            select(Role).where(Role.name == name, Role.domain_id == GLOBAL_ROLE_DOMAIN)
        ).first()
        if role is None:
            # Immutable as Keystone's bootstrap makes them; an operator may unlock them.
            role = Role(role_id=uuid.uuid4().hex, name=name, options={"immutable": True})
            session.add(role)
        role_ids[name] = role.role_id
    session.flush()
    for prior, implied in pairwise(ROLE_CHAIN):
        key = (role_ids[prior], role_ids[implied])
        _ensure(session, ImpliedRole, key, prior_role_id=key[0], implied_role_id=key[1])
    return role_ids


def _ensure_account(
    session: Session, account: Account, passwords: Passwords, roles: dict[str, str]
) -> None:
    project_id = _id_of(session, Project, account.project)
    if project_id is None:
        project_id = uuid.uuid4().hex
        session.add(
            Project(
                project_id=project_id,
                name=account.project,
                domain_id=DEFAULT_DOMAIN_ID,
                description="Bootstrap project",
            )
        )
    user_id = _id_of(session, User, account.user)
    if user_id is None:
        user_id = uuid.uuid4().hex
        session.add(
            User(
                user_id=user_id,
                name=account.user,
                domain_id=DEFAULT_DOMAIN_ID,
                password_hash=passwords.hash(account.user),
                created_at=datetime.now(UTC),
            )
        )
    session.flush()
    _ensure_assignment(session, user_id, "project", project_id, roles[account.role])
    if account.system_role:
        _ensure_assignment(session, user_id, "system", SYSTEM_TARGET, roles[account.system_role])


def _ensure_identity_endpoints(session: Session, region: str, url: str) -> None:
    _ensure_endpoints(session, region, url, "identity", "keystone")


def _ensure_endpoints(
    session: Session, region: str, url: str, service_type: str, name: str
) -> None:
    """The service of `service_type` with public/internal/admin endpoints pointing at `url`."""
    service = session.scalars(select(Service).where(Service.type == service_type)).first()
    if service is None:
        service = Service(service_id=uuid.uuid4().hex, type=service_type, name=name)
        session.add(service)
        session.flush()
    existing = {
        e.interface: e
        for e in session.scalars(select(Endpoint).where(Endpoint.service_id == service.service_id))
    }
    for interface in INTERFACES:
        endpoint = existing.get(interface)
        if endpoint is None:
            session.add(
                Endpoint(
                    endpoint_id=uuid.uuid4().hex,
                    service_id=service.service_id,
                    interface=interface,
                    region_id=region,
                    url=url,
                )
            )
        else:
            endpoint.url = url


def _ensure(session: Session, model: type, key: Any, **fields: Any) -> None:
    """Add the row `model(**fields)` unless a row with primary key `key` exists."""
    if session.get(model, key) is None:
        session.add(model(**fields))
        session.flush()


def _ensure_assignment(
    session: Session, user_id: str | None, target_type: str, target_id: str, role_id: str
) -> None:
    assert user_id is not None
    key = ("user", user_id, target_type, target_id, role_id, False)
    _ensure(
        session,
        Assignment,
        key,
        actor_type="user",
        inherited=False,
        actor_id=user_id,
        target_type=target_type,
        target_id=target_id,
        role_id=role_id,
    )


def _id_of(session: Session, model: type, name: str) -> str | None:
    row = session.scalars(
        select(model).where(model.name == name, model.domain_id == DEFAULT_DOMAIN_ID)  # type: ignore[attr-defined]
    ).first()
    if row is None:
        return None
    return row.user_id if isinstance(row, User) else row.project_id


def _clouds(identity_url: str, region: str, passwords: dict[str, str]) -> dict[str, Any]:
    def cloud(user: str, **scope: str) -> dict[str, Any]:
        auth = {
            "auth_url": identity_url,
            "username": user,
            "password": passwords[user],
            "user_domain_name": "Default",
            **scope,
        }
        return {
            "auth": auth,
            "region_name": region,
            "identity_api_version": 3,
            "interface": "public",
        }

    project = {"project_domain_name": "Default"}
    return {
        "clouds": {
            "onestack": cloud("admin", project_name="admin", **project),
            "onestack-demo": cloud("demo", project_name="demo", **project),
            "onestack-system-admin": cloud("admin", system_scope="all"),
        }
    }


def _new_password() -> str:
    """A random password that a command line never mistakes for an option."""
    # token_urlsafe may start with "-", which `openstack ... --password -x` reads as a flag.
    return "p" + secrets.token_urlsafe(18)
