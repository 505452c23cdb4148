"""Compute's request bodies as pydantic models (`...Body`); nothing unvalidated reaches the
manager. Nova's JSON schemas are the reference for names, types and bounds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=False)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class _Lenient(BaseModel):
    # Clients send fields this slice ignores (block_device_mapping_v2 with an image, ...).
    model_config = ConfigDict(extra="ignore")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NetworkItem(_Strict):
    uuid: Id | None = None
    port: Id | None = None
    fixed_ip: Annotated[str, StringConstraints(max_length=64)] | None = None
    tag: Annotated[str, StringConstraints(max_length=60)] | None = None


class SecurityGroupRef(_Lenient):
    name: Name


class ServerCreate(_Lenient):
    name: Name
    imageRef: Id
    flavorRef: Id | int
    networks: Literal["auto", "none"] | list[NetworkItem] | None = None
    key_name: Name | None = None
    user_data: str | None = None
    metadata: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=255)],
        Annotated[str, StringConstraints(max_length=255)],
    ] = {}
    security_groups: list[SecurityGroupRef] | None = None
    availability_zone: Name | None = None
    min_count: int = Field(1, ge=1, le=1000)
    max_count: int | None = Field(None, ge=1, le=1000)
    config_drive: bool | Literal["True", "true", "False", "false", ""] = False
    description: Annotated[str, StringConstraints(max_length=255)] | None = None
    accessIPv4: Annotated[str, StringConstraints(max_length=64)] = ""
    accessIPv6: Annotated[str, StringConstraints(max_length=64)] = ""
    return_reservation_id: bool = False
    hostname: Annotated[str, StringConstraints(min_length=1, max_length=63)] | None = None
    adminPass: str | None = None


class ServerCreateBody(_Lenient):
    server: ServerCreate


class ServerUpdate(_Strict):
    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=255)] | None = None
    accessIPv4: Annotated[str, StringConstraints(max_length=64)] | None = None
    accessIPv6: Annotated[str, StringConstraints(max_length=64)] | None = None
    hostname: Annotated[str, StringConstraints(min_length=1, max_length=63)] | None = None
    OS_DCF_diskConfig: str | None = Field(None, alias="OS-DCF:diskConfig")


class ServerUpdateBody(_Strict):
    server: ServerUpdate


class RebootType(_Strict):
    type: Literal["SOFT", "HARD", "soft", "hard"]


class ConsoleLength(_Strict):
    length: int | None = Field(None, ge=-1, le=2**31 - 1)


class FlavorCreate(_Strict):
    name: Name
    ram: int = Field(ge=1, le=2**31 - 1)
    vcpus: int = Field(ge=1, le=2**31 - 1)
    disk: int = Field(ge=0, le=2**31 - 1)
    id: Annotated[str, StringConstraints(min_length=1, max_length=255)] | int | None = None
    OS_FLV_EXT_DATA_ephemeral: int = Field(0, ge=0, le=2**31 - 1, alias="OS-FLV-EXT-DATA:ephemeral")
    swap: int = Field(0, ge=0, le=2**31 - 1)
    rxtx_factor: float = Field(1.0, gt=0, le=3.40282e38)
    os_flavor_access_is_public: bool = Field(True, alias="os-flavor-access:is_public")
    description: Annotated[str, StringConstraints(max_length=65535)] | None = None


class FlavorCreateBody(_Strict):
    flavor: FlavorCreate


class TenantRef(_Strict):
    tenant: Id


class FlavorActionBody(_Strict):
    addTenantAccess: TenantRef | None = None
    removeTenantAccess: TenantRef | None = None


class ExtraSpecsBody(_Strict):
    extra_specs: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=255)],
        Annotated[str, StringConstraints(max_length=255)] | int | float | bool,
    ]


class KeypairCreate(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\w. -]+$")]
    public_key: str | None = None
    type: Literal["ssh", "x509"] = "ssh"
    user_id: Id | None = None


class KeypairCreateBody(_Strict):
    keypair: KeypairCreate
