"""Typed settings for the whole cloud, built once at start and passed in.

Sources, strongest first: command-line flags, ONESTACK_* environment variables, the TOML file
(`<state_dir>/onestack.toml` or ONESTACK_CONFIG_FILE), then the defaults below. Nothing reads
settings from a global: `load_settings()` builds one object and callers hand it down.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_STATE_DIR = Path("~/.local/share/onestack").expanduser()
DEFAULT_PORT = 5000


class IdentitySettings(BaseModel):
    """The identity service's own section (`[identity]` in the TOML file)."""

    token_expiration_s: int = Field(3600, gt=0)
    region: str = "RegionOne"
    # An operator's policy overrides; default <state_dir>/policy.yaml when it exists.
    policy_file: Path | None = None
    # Keystone's default: the admin role on any project (or on the system) makes a cloud admin.
    # Naming a project here (Keystone's [resource] admin_project_name) makes only that project's
    # admins cloud admins; tokens then carry `is_admin_project`. Its domain is named, default
    # "Default" (Keystone's admin_project_domain_name).
    admin_project_name: str | None = None
    admin_project_domain_name: str = "Default"
    password_min_length: int = Field(0, ge=0)
    # A regular expression every new password must match (Keystone's password_regex).
    password_regex: str | None = None
    password_regex_description: str | None = None
    # Days until a new password expires; None means never (Keystone's default).
    password_expires_days: int | None = Field(None, gt=0)
    # Failed logins that lock a user out; None means never (Keystone's default).
    lockout_failure_attempts: int | None = Field(None, gt=0)
    lockout_duration_s: int = Field(1800, gt=0)
    # Keystone's [security_compliance]: a user's own new password must differ from their last
    # this many passwords, the current one included (0: no history check) ...
    unique_last_password_count: int = Field(0, ge=0)
    # ... may be changed by its user only once it is this many days old ...
    minimum_password_age_days: int = Field(0, ge=0)
    # ... and one an administrator set (creating or resetting) must be changed at first use.
    change_password_upon_first_use: bool = False


DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")


class StoreSettings(BaseModel):
    """One named image store (`[image.stores.<name>]`, or just its directory)."""

    # A name in `onestack.image.drivers.DRIVERS` ("filesystem", "memory").
    driver: str = "filesystem"
    # Where a store that keeps files keeps them (the filesystem store needs one).
    dir: Path | None = None
    description: str = ""


IMPORT_METHODS = ("glance-direct", "copy-image")


class ImageSettings(BaseModel):
    """The image service's own section (`[image]` in the TOML file)."""

    # Which store driver keeps image data (a name in `image.drivers.DRIVERS`: "filesystem" or
    # "memory") and, for the filesystem store, where; default <state_dir>/images. Used while
    # `stores` is empty: one store, named "file" (or "memory").
    store: str = "filesystem"
    store_dir: Path | None = None
    # Several named stores (Glance's enabled_backends), filesystem unless `driver` says, e.g.
    # `stores = {fast = "/srv/fast", cheap = {dir = "/srv/cheap", description = "HDD"}}`;
    # uploads and imports go to `default_store` (default: the first) unless told otherwise.
    stores: dict[str, StoreSettings] = {}
    default_store: str | None = None
    # Where staged data (PUT /stage) waits for its import; default <state_dir>/images-staging.
    staging_dir: Path | None = None
    # The interoperable import methods offered (Glance's enabled_import_methods).
    import_methods: list[Literal["glance-direct", "copy-image"]] = list(IMPORT_METHODS)
    disk_formats: list[str] = list(DISK_FORMATS)
    container_formats: list[str] = list(CONTAINER_FORMATS)
    # Refuse data that does not match its disk_format, and qcow2/VMDK/VHD images that would
    # make a hypervisor open other files (backing files, external data files, parents).
    format_enforcement: bool = True
    # The secure hash published as os_hash_value (Glance's hashing_algorithm).
    hash_algo: str = "sha512"
    # The largest image an upload may store (Glance's image_size_cap, 1 TiB).
    image_size_cap_bytes: int = Field(1 << 40, gt=0)
    # How many extra properties and tags one image may carry (Glance's image_property_quota
    # and image_tag_quota).
    image_property_quota: int = Field(128, ge=0)
    image_tag_quota: int = Field(128, ge=0)
    page_size_default: int = Field(25, gt=0)
    page_size_max: int = Field(1000, gt=0)
    # An operator's policy overrides; default <state_dir>/image-policy.yaml when it exists.
    policy_file: Path | None = None
    # Build onestack's guest images at start (in the background) and register them as public.
    guest_images: bool = True

    @field_validator("hash_algo")
    @classmethod
    def _known_hash(cls, value: str) -> str:
        if value not in hashlib.algorithms_available:
            raise ValueError(f"{value!r} is not a hash algorithm this Python offers")
        return value

    @field_validator("stores", mode="before")
    @classmethod
    def _directory_shorthand(cls, value: Any) -> Any:
        """A store given as a bare directory is a store with that directory."""
        if isinstance(value, dict):
            return {k: {"dir": v} if isinstance(v, str | Path) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _default_store_is_one(self) -> ImageSettings:
        for name in self.stores:
            if not name or "," in name or "/" in name or name.startswith("os_glance_"):
                raise ValueError(f"{name!r} cannot name an image store")
        if self.default_store is not None and self.default_store not in self.stores:
            raise ValueError(f"default_store {self.default_store!r} is not one of the stores")
        return self


class NetworkSettings(BaseModel):
    """`[network]`: the network service (Neutron v2.0 at /networking)."""

    # The key of network.drivers.DRIVERS that plugs ports on this host.
    dataplane: str = "noop"
    # The external network `public` made at start; refused if it overlaps a host route.
    public_cidr: str = "172.24.4.0/24"
    # Create `public`, and demo's `private` network and `router1`, when missing.
    bootstrap: bool = True
    # Tenant networks take VXLAN ids from this range.
    vxlan_id_min: int = Field(1, ge=1, le=16_777_215)
    vxlan_id_max: int = Field(1000, ge=1, le=16_777_215)
    policy_file: Path | None = None
    # The linuxbridge dataplane's files (dnsmasq hosts, pid files); `host-clean` empties it.
    dataplane_dir: Path = Path("/run/onestack/dataplane")
    # Where the metadata proxies forward guests' requests (compute's metadata API); None
    # serves no metadata.
    metadata_url: str | None = None

    @field_validator("public_cidr")
    @classmethod
    def _is_ipv4_network(cls, value: str) -> str:
        network = ipaddress.ip_network(value, strict=True)
        if network.version != 4 or network.prefixlen > 29:
            raise ValueError(f"{value!r} is not an IPv4 network with room for hosts")
        return value


class PlacementSettings(BaseModel):
    # Overrides of placement's policy; default <state_dir>/placement-policy.yaml.
    policy_file: Path | None = None


class ObjectSettings(BaseModel):
    # The store's driver (`object.drivers.DRIVERS`): "ring" (onestack's storage nodes) or
    # "memory" (one process, tests).
    driver: str = "ring"
    # Storage nodes `onestack up` starts (one device and zone each), and copies of each object.
    nodes: int = Field(1, ge=0, le=32)
    replicas: int = Field(1, ge=1, le=8)
    # 2**part_power partitions; fixed once the ring exists.
    part_power: int = Field(8, ge=1, le=20)
    # Seconds `onestack up` waits for its storage nodes to listen.
    node_start_timeout_s: float = Field(20, gt=0)


class BusSettings(BaseModel):
    """The message bus (`[bus]`): in-process, or AMQP (RabbitMQ) when `url` is set."""

    # When set, every notification is also appended to this file as one JSON line.
    notifications_file: Path | None = None
    # amqp://user:password@host:5672/vhost; None keeps notifications and RPC in-process.
    url: str | None = None
    # Notifications go to a topic exchange with routing key `<topic>.<priority>`, as
    # oslo.messaging sends them; the exchange is the service's upstream control exchange
    # (identity -> keystone) unless one exchange is named here for every service.
    notifications_topic: str = "notifications"
    notifications_exchange: str | None = None
    # RPC requests go to this topic exchange, routing key `<agent>` or `<agent>.<host>`.
    rpc_exchange: str = "onestack"
    rpc_timeout_s: float = Field(60, gt=0)
    # Durable exchanges and notification queues, persistent notifications (a consumer such as
    # Ceilometer must then declare them durable too: oslo's amqp_durable_queues = true).
    durable: bool = True
    # Notifications waiting for the broker; beyond this (a long outage) new ones are dropped.
    max_pending: int = Field(10_000, gt=0)


class AgentSettings(BaseModel):
    """The agents and the ownership of in-flight work (`[agent]`)."""

    # How long another host waits for an owner's heartbeat before taking its work over (on
    # the owner's own host a dead pid is seen at once); the heartbeat renews it every third.
    lease_s: float = Field(15, gt=0)
    # How often an agent looks for queued work that no cast announced (no bus reaches it).
    poll_s: float = Field(1, gt=0)
    # Pieces of work one agent runs at a time.
    threads: int = Field(2, ge=1, le=64)


class CorsSettings(BaseModel):
    """Cross-origin requests from browsers (`[cors]`); off while no origin is allowed."""

    # Origins allowed to call the APIs from a browser, e.g. ["https://dashboard.example"];
    # "*" allows any origin.
    allowed_origins: list[str] = []
    allow_credentials: bool = False
    max_age_s: int = Field(3600, ge=0)


class ServerSettings(BaseModel):
    """The HTTP server's self-protection (`[server]`); each API process applies them alone."""

    # A request's whole head (request line and headers) must arrive within this, counted from
    # the connection's start or the next request's first byte; else 408 and the connection
    # closes (a connection that sent nothing is just closed).
    header_timeout_s: float = Field(30, gt=0)
    # A request body may pause this long between chunks (not a total: a slow upload that keeps
    # moving is never cut); else 408 and the connection closes.
    body_idle_timeout_s: float = Field(60, gt=0)
    # Open connections one API process serves; requests on any beyond are answered 503.
    max_connections: int = Field(1000, ge=1)


class ComputeSettings(BaseModel):
    """The compute service's own section (`[compute]` in the TOML file)."""

    # A name in `onestack.compute.drivers.DRIVERS`, or "auto": QEMU where qemu-system-x86_64
    # exists and containers where root with cgroups and overlayfs (one node each).
    driver: str = "fake"
    # The QEMU driver's accelerator: tcg | kvm | auto (probe KVM once). TCG by default: on hosts
    # where /dev/kvm exists but KVM guests hang (measured on this project's machines) the
    # probe can pass and the guest then never boots; choose kvm or auto where KVM works.
    qemu_accel: Literal["auto", "kvm", "tcg"] = "tcg"
    # Where the agent keeps the images it boots (fetched once from the image service);
    # default <state_dir>/compute/images. QEMU trusts backing files only inside it.
    image_cache_dir: Path | None = None
    # How long a soft reboot waits for the guest to go down before resetting it.
    soft_reboot_timeout_s: float = Field(60, gt=0)
    # What the fake driver's host offers.
    fake_vcpus: int = Field(1000, gt=0)
    fake_memory_mb: int = Field(1024 * 1024, gt=0)
    fake_disk_gb: int = Field(100_000, gt=0)
    # Seconds the fake driver's spawn takes (tests use it to kill an agent mid-build).
    fake_spawn_delay_s: float = Field(0, ge=0)
    availability_zone: str = "nova"
    # The largest user_data a server may carry (Nova's limit: 65535 bytes, base64-encoded).
    max_user_data_bytes: int = Field(65535, gt=0)
    # How long a build waits for the network to report its ports plugged.
    vif_plug_timeout_s: float = Field(300, gt=0)
    # How often the compute agent compares its guests' power states with the database.
    power_sync_s: float = Field(10, gt=0)
    # How many takeovers of one build before the server goes to ERROR.
    max_build_attempts: int = Field(3, ge=1)
    # An operator's policy overrides; default <state_dir>/compute-policy.yaml when it exists.
    policy_file: Path | None = None


class Settings(BaseSettings):
    """Everything `onestack` needs to know to run; units are in the names."""

    model_config = SettingsConfigDict(
        env_prefix="ONESTACK_", env_nested_delimiter="__", extra="ignore"
    )

    state_dir: Path = DEFAULT_STATE_DIR
    host: str = "127.0.0.1"
    port: int = Field(DEFAULT_PORT, ge=1, le=65535)
    public_url: str | None = None
    database_url: str | None = None
    log_level: str = "info"
    # API processes sharing the port; each has its own caches, all share the database.
    workers: int = Field(1, ge=1, le=64)
    identity: IdentitySettings = IdentitySettings()
    bus: BusSettings = BusSettings()
    agent: AgentSettings = AgentSettings()
    cors: CorsSettings = CorsSettings()
    image: ImageSettings = ImageSettings()
    placement: PlacementSettings = PlacementSettings()
    compute: ComputeSettings = ComputeSettings()
    network: NetworkSettings = NetworkSettings()
    object: ObjectSettings = ObjectSettings()
    server: ServerSettings = ServerSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=_config_file()),
        )

    @property
    def base_url(self) -> str:
        """The URL clients use to reach the API port; published in the catalog."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def sqlalchemy_url(self) -> str:
        url = self.database_url or f"sqlite:///{self.state_dir / 'onestack.db'}"
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @property
    def metrics_dir(self) -> Path:
        """Where each API worker leaves a snapshot of its request metrics for its siblings."""
        return self.state_dir / "run" / "metrics"

    @property
    def image_store_dir(self) -> Path:
        """Where the filesystem image store keeps image data."""
        return self.image.store_dir or self.state_dir / "images"

    @property
    def image_staging_dir(self) -> Path:
        """Where staged image data waits for its import (Glance's node_staging_uri)."""
        return self.image.staging_dir or self.state_dir / "images-staging"

    @property
    def run_file(self) -> Path:
        """Where a running `onestack up` records its pid and URL for `onestack status`."""
        return self.state_dir / "run" / "onestack.json"


def _config_file() -> Path:
    explicit = os.environ.get("ONESTACK_CONFIG_FILE")
    if explicit:
        return Path(explicit)
    state_dir = os.environ.get("ONESTACK_STATE_DIR")
    return Path(state_dir or DEFAULT_STATE_DIR) / "onestack.toml"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; `overrides` are the command-line flags that were given."""
    given = {key: value for key, value in overrides.items() if value is not None}
    # Set on the section after the build: a nested init value would replace the whole [bus]
    # section that the environment and the file filled in.
    bus_url = given.pop("bus_url", None)
    if "state_dir" in given:
        # The TOML file lives in the state dir, so a flag must be visible to its lookup.
        os.environ["ONESTACK_STATE_DIR"] = str(given["state_dir"])
    settings = Settings(**given)
    settings.state_dir = settings.state_dir.expanduser().resolve()
    if bus_url is not None:
        settings.bus.url = bus_url
    return settings
