"""Hypothesis strategies for the fuzz suite: requests aimed at one route of a running cloud.

A route comes from `onestack.cloud.API_ROUTES` (so a new service is fuzzed as soon as it is
mounted); a request fills its path ids, adds a query string, headers and, for writes, a body:
random JSON, raw bytes, or a mutation of a valid body built from the pydantic models of the
module that serves the route. Strings lean towards what breaks servers: NUL and other control
characters, lone surrogates, long text, big numbers.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st
from pydantic import BaseModel
from starlette.routing import BaseRoute, Route

from onestack.cloud import API_ROUTES

WRITES = ("POST", "PUT", "PATCH")
JSON_PATCH = "application/openstack-images-v2.1-json-patch"
CONTENT_TYPES = ("application/json", JSON_PATCH, "application/octet-stream", "text/plain", "")
# Query keys that some list or action understands, so the fuzzer reaches the parsing code.
QUERY_KEYS = (
    "name", "domain_id", "project_id", "user_id", "group_id", "role_id", "parent_id", "id",
    "limit", "marker", "enabled", "is_domain", "tags", "tags-any", "not-tags", "sort_key",
    "sort_dir", "sort", "visibility", "member_status", "owner", "status", "tag", "size_min",
    "size_max", "created_at", "updated_at", "os_hidden", "disk_format", "container_format",
    "password_expires_at", "region_id", "service_id", "interface", "type", "resource_name",
    "nocatalog", "allow_expired", "include_names", "include_subtree", "effective",
    "scope.project.id", "scope.domain.id", "scope.system", "user.id", "group.id", "role.id",
    "parents_as_list", "subtree_as_list", "protected", "checksum", "os_hash_value",
)  # fmt: skip
# Body keys of the image API, which parses its bodies by hand (no pydantic models to read).
BODY_KEYS = (
    "name", "id", "disk_format", "container_format", "visibility", "tags", "min_ram",
    "min_disk", "protected", "os_hidden", "member", "status", "method", "stores",
    "all_stores", "all_stores_must_succeed", "op", "path", "value", "description", "enabled",
    "domain_id", "project_id", "password", "extra", "blob", "type", "user_id", "options",
)  # fmt: skip


@dataclass(frozen=True)
class RouteCase:
    """One method of one route, with the body models its module reads."""

    method: str
    mount: str
    path: str  # Starlette's template below the mount, e.g. /v3/projects/{project_id}
    params: tuple[str, ...]
    models: tuple[type[BaseModel], ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.method} {self.mount}{self.path}"


def route_cases() -> list[RouteCase]:
    """Every (method, route) of every mounted API, HEAD and OPTIONS aside."""
    cases = []
    for mount, routes in API_ROUTES.items():
        for route in routes():
            cases += _cases(mount, route)
    return sorted(cases, key=lambda case: case.name)


def _cases(mount: str, route: BaseRoute) -> list[RouteCase]:
    if not isinstance(route, Route):
        return []
    models = _body_models(route)
    methods = sorted((route.methods or set()) - {"HEAD", "OPTIONS"})
    params = tuple(route.param_convertors)
    return [RouteCase(method, mount, route.path, params, models) for method in methods]


def _body_models(route: Route) -> tuple[type[BaseModel], ...]:
    """The pydantic models in the namespace of the module that serves the route: its whole
    bodies (`...Body`, by the house's naming) when it names them, else every model."""
    module = sys.modules[route.endpoint.__module__]
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel
    ]
    bodies = [model for model in found if model.__name__.endswith("Body")]
    return tuple(sorted(bodies or found, key=lambda model: model.__name__))


# Text and values -------------------------------------------------------------------------

# NUL weighs most: PostgreSQL refuses it in every text column, SQLite in none.
NASTY_CHARS = st.sampled_from(
    ["\x00"] * 4 + ["\x01", "\x1f", "\x7f", "\x85", "\n", "\t", "\ud800", "\u2028", "/"]
)
PLAIN_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=16)
# A plain word with one nasty character inside: valid but for that one character.
TAINTED_TEXT = st.builds(lambda a, c, b: a + c + b, PLAIN_TEXT, NASTY_CHARS, PLAIN_TEXT)
ODD_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "%00", "..", "default", "true", "-1", "9" * 30, "x" * 300]),
)
URL_TEXT = st.one_of(TAINTED_TEXT, PLAIN_TEXT, ODD_TEXT)  # URLs stay below 64 KiB
NUMBERS = st.one_of(
    st.sampled_from([0, -1, 2**31, -(2**31) - 1, 2**63 - 1, 2**64, 10**30, 1e300, -0.5]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, URL_TEXT)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(BODY_KEYS), URL_TEXT), inner, max_size=4),
    ),
    max_leaves=12,
)
# What replaces one field of a valid body.
NASTY_VALUES = st.one_of(
    TAINTED_TEXT, NUMBERS, ODD_TEXT, st.just("y" * 70_000), st.booleans(), st.none(), ANY_JSON
)


# Bodies ----------------------------------------------------------------------------------


def _from_schema(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> Any:
    """Plausible values for a JSON schema (pydantic's): the raw material of a mutation."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    if depth > 6:
        return st.none()
    choices = schema.get("anyOf") or schema.get("oneOf")
    if choices:
        return st.one_of([_from_schema(choice, defs, depth + 1) for choice in choices])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    return _by_type(schema, defs, depth)


def _by_type(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:
    kind = schema.get("type")
    if kind == "object":
        properties = {
            key: _from_schema(sub, defs, depth + 1)
            for key, sub in schema.get("properties", {}).items()
        }
        required = {key: properties.pop(key) for key in schema.get("required", [])}
        return st.fixed_dictionaries(required, optional=properties)
    if kind == "array":
        return st.lists(_from_schema(schema.get("items", {}), defs, depth + 1), max_size=3)
    leaves = {
        "string": PLAIN_TEXT,
        "integer": st.integers(min_value=0, max_value=100),
        "number": st.integers(min_value=0, max_value=100),
        "boolean": st.booleans(),
        "null": st.none(),
    }
    return leaves.get(kind, PLAIN_TEXT)


def _leaves(document: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The paths (keys and indexes) of every value in a document, the document's own first."""
    found = [at]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _leaves(value, (*at, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _leaves(value, (*at, index))
    return found


def _replaced(document: Any, at: tuple[Any, ...], value: Any) -> Any:
    if not at:
        return value
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[at[0]] = _replaced(copy[at[0]], at[1:], value)
    return copy


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[Any]) -> Any:
    """A plausible document with one value (or one key's value) swapped for a nasty one."""
    document = draw(valid)
    paths = _leaves(document)
    at = draw(st.sampled_from(paths[1:] or paths))
    if draw(st.booleans()) and at and isinstance(at[-1], str):
        # Or the key is the nasty part (an extra attribute's name, say).
        holder = _get(document, at[:-1])
        return _replaced(document, at[:-1], {**holder, draw(TAINTED_TEXT): holder[at[-1]]})
    return _replaced(document, at, draw(NASTY_VALUES))


def _get(document: Any, at: tuple[Any, ...]) -> Any:
    for step in at:
        document = document[step]
    return document


def model_bodies(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    """Documents shaped like `model`: plausible, or plausible but for one value or key."""
    schema = model.model_json_schema()
    valid = _from_schema(schema, schema.get("$defs", {}))
    return st.one_of(mutated(valid), valid)


def encoded(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=True).encode()


def bodies(case: RouteCase) -> st.SearchStrategy[bytes | None]:
    """Request bodies for a route: JSON for writes (shaped or not), raw bytes, or none."""
    raw = st.one_of(st.binary(max_size=64), st.sampled_from([b"", b"{", b"[]", b"\x00"]))
    if case.method not in WRITES:
        return st.one_of(st.none(), raw)
    generic = mutated(st.dictionaries(st.sampled_from(BODY_KEYS), SCALARS, min_size=1, max_size=5))
    if not case.models:
        return st.one_of(generic.map(encoded), ANY_JSON.map(encoded), raw)
    shaped = st.one_of([model_bodies(model) for model in case.models]).map(encoded)
    return st.one_of(shaped, generic.map(encoded), raw)


# Paths, queries and headers --------------------------------------------------------------


def path_values(known_ids: list[str]) -> st.SearchStrategy[str]:
    """Path parameters: ids of real resources, or text that is no id at all."""
    return st.one_of(st.sampled_from(known_ids), URL_TEXT) if known_ids else URL_TEXT


def urls(case: RouteCase, known_ids: list[str]) -> st.SearchStrategy[str]:
    """The route's path below the cloud's URL, every parameter filled and percent-encoded."""
    values = st.tuples(*[path_values(known_ids) for _ in case.params])

    def fill(chosen: tuple[str, ...]) -> str:
        path = case.path
        for param, value in zip(case.params, chosen, strict=True):
            path = path.replace("{" + param + "}", _escaped(value))
        return case.mount + path

    return values.map(fill)


def _escaped(text: str) -> str:
    """Percent-encoded UTF-8, lone surrogates included (as a careless client sends them)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def queries(known_ids: list[str]) -> st.SearchStrategy[str]:
    """A query string (without the `?`), its keys known to some route or not."""
    keys = st.one_of(st.sampled_from(QUERY_KEYS), URL_TEXT)
    values = st.one_of(path_values(known_ids), st.sampled_from(["true", "0", "-5", "asc"]))
    pairs = st.lists(st.tuples(keys, values), max_size=4)
    return pairs.map(lambda chosen: "&".join(f"{_escaped(k)}={_escaped(v)}" for k, v in chosen))


HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=40,
).map(lambda text: text.strip().encode("latin-1"))


def headers(token: str) -> st.SearchStrategy[dict[str, bytes]]:
    """Headers a client might send, the admin token among them (or a broken copy of it)."""
    tokens = st.one_of(
        st.just(token.encode()),
        HEADER_TEXT,
        st.just(token.encode()[:-3] + b"abc"),
    )
    optional = {
        "x-subject-token": tokens,
        "openstack-api-version": st.one_of(HEADER_TEXT, st.just(b"identity 3.14")),
        "x-image-meta-store": HEADER_TEXT,
        "range": st.one_of(HEADER_TEXT, st.just(b"bytes=0-3"), st.just(b"bytes=9-2")),
        "accept": st.one_of(HEADER_TEXT, st.just(b"application/json")),
        "x-image-meta-checksum": HEADER_TEXT,
    }
    return st.fixed_dictionaries(
        {
            "x-auth-token": st.one_of(st.just(token.encode()), st.just(b""), tokens),
            "content-type": st.one_of(st.sampled_from(CONTENT_TYPES).map(str.encode), HEADER_TEXT),
        },
        optional=optional,
    ).map(lambda chosen: {k: v for k, v in chosen.items() if v})
