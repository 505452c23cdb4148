"""Identity response bodies: tokens, the catalog, projects, domains, users, groups and version
documents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from onestack.identity.manager import CatalogEntry, NamedRef, TokenView
from onestack.identity.manager.login import password_expires_at
from onestack.identity.models import Domain, Group, Project, User

API_VERSION = "v3.14"
API_UPDATED = "2020-04-07T00:00:00Z"
MEDIA_TYPE = "application/vnd.openstack.identity-v3+json"


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def token(view: TokenView, catalog: list[CatalogEntry] | None) -> dict[str, Any]:
    payload = view.payload
    body: dict[str, Any] = {
        "methods": list(payload.methods),
        "user": {
            "domain": _named(view.user_domain),
            "id": view.user.ref_id,
            "name": view.user.name,
            "password_expires_at": (
                timestamp(view.password_expires_at) if view.password_expires_at else None
            ),
        },
        "audit_ids": list(payload.audit_ids),
        "expires_at": timestamp(payload.expires_at),
        "issued_at": timestamp(payload.issued_at),
    }
    if view.project and view.project_domain:
        body["project"] = {**_named(view.project), "domain": _named(view.project_domain)}
        body["is_domain"] = False
        if view.shows_admin_project:
            body["is_admin_project"] = view.is_admin_project
    elif view.domain:
        body["domain"] = _named(view.domain)
    elif payload.scope == "system":
        body["system"] = {"all": True}
    if payload.scope != "unscoped":
        body["roles"] = [_named(role) for role in view.roles]
        if catalog is not None:
            body["catalog"] = render_catalog(catalog)
    if view.trust is not None:
        body["OS-TRUST:trust"] = {
            "id": view.trust.ref_id,
            "impersonation": view.trust.impersonation,
            "trustor_user": {"id": view.trust.trustor_user_id},
            "trustee_user": {"id": view.trust.trustee_user_id},
        }
    if view.application_credential is not None:
        credential = view.application_credential
        body["application_credential"] = {
            "id": credential.ref_id,
            "name": credential.name,
            "restricted": not credential.unrestricted,
        }
        if credential.access_rules:
            body["application_credential"]["access_rules"] = list(credential.access_rules)
    return {"token": body}


def render_catalog(catalog: list[CatalogEntry]) -> list[dict[str, Any]]:
    return [
        {
            "endpoints": [
                {
                    "id": e.endpoint_id,
                    "interface": e.interface,
                    "region": e.region_id,
                    "region_id": e.region_id,
                    "url": e.url,
                }
                for e in entry.endpoints
            ],
            "id": entry.service_id,
            "type": entry.type,
            "name": entry.name,
        }
        for entry in catalog
    ]


def project(
    project: Project, v3_url: str, tags: Sequence[str] = (), **expansions: Any
) -> dict[str, Any]:
    """A project as Keystone shows it; a top-level project's parent is its domain.

    `expansions` adds the hierarchy views (parents, subtree) a GET may ask for.
    """
    extra = dict(project.extra or {})
    return {
        **extra,
        "id": project.project_id,
        "name": project.name,
        "domain_id": project.domain_id,
        "description": project.description,
        "enabled": project.enabled,
        "is_domain": False,
        "parent_id": project.parent_id or project.domain_id,
        "tags": list(tags),
        "options": extra.get("options") or {},
        "links": {"self": f"{v3_url}/projects/{project.project_id}"},
        **expansions,
    }


def domain_as_project(domain: Domain, v3_url: str) -> dict[str, Any]:
    """A domain as the projects API shows it (a project acting as a domain, `is_domain`)."""
    return {
        "id": domain.domain_id,
        "name": domain.name,
        "domain_id": None,
        "description": domain.description,
        "enabled": domain.enabled,
        "is_domain": True,
        "parent_id": None,
        "tags": [],
        "options": {},
        "links": {"self": f"{v3_url}/projects/{domain.domain_id}"},
    }


def domain(domain: Domain, v3_url: str) -> dict[str, Any]:
    return {
        "id": domain.domain_id,
        "name": domain.name,
        "description": domain.description,
        "enabled": domain.enabled,
        "tags": [],
        "links": {"self": f"{v3_url}/domains/{domain.domain_id}"},
    }


def user(user: User, v3_url: str) -> dict[str, Any]:
    expires_at = password_expires_at(user)
    body = {
        **user.extra,
        "id": user.user_id,
        "name": user.name,
        "domain_id": user.domain_id,
        "enabled": user.enabled,
        "password_expires_at": expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f") if expires_at else None,
        "options": dict(user.options or {}),
        "links": {"self": f"{v3_url}/users/{user.user_id}"},
    }
    if user.default_project_id:
        body["default_project_id"] = user.default_project_id
    return body


def group(group: Group, v3_url: str) -> dict[str, Any]:
    return {
        **group.extra,
        "id": group.group_id,
        "name": group.name,
        "domain_id": group.domain_id,
        "description": group.description,
        "links": {"self": f"{v3_url}/groups/{group.group_id}"},
    }


def collection_links(self_url: str) -> dict[str, str | None]:
    return {"self": self_url, "previous": None, "next": None}


def version(v3_url: str) -> dict[str, Any]:
    return {
        "id": API_VERSION,
        "status": "stable",
        "updated": API_UPDATED,
        "links": [{"rel": "self", "href": f"{v3_url}/"}],
        "media-types": [{"base": "application/json", "type": MEDIA_TYPE}],
    }


def _named(ref: NamedRef) -> dict[str, str]:
    return {"id": ref.ref_id, "name": ref.name}
