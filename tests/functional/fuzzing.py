"""Hypothesis strategies for the fuzz suite: requests aimed at one route of a running cloud.

A route comes from `onestack.cloud.API_ROUTES` (so a new service is fuzzed as soon as it is
mounted); a request fills its path ids, adds a query string, headers and, for writes, a body.
Each part comes plausible (ids of real resources, known filters, the admin token, a valid
body from the pydantic models of the module that serves the route) or nasty; a request is
nasty in one part only, so it gets past the checks of the others and reaches deep. Nasty
means NUL and other control characters, lone surrogates, long text, big numbers, wrong
types, broken JSON and tokens.
"""

from __future__ import annotations

import functools
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
    "sort_dir", "sort", "visibility", "member_status", "owner", "status", "tag", "size", "size_min",
    "size_max", "created_at", "updated_at", "os_hidden", "disk_format", "container_format",
    "password_expires_at", "region_id", "service_id", "interface", "type", "resource_name",
    "nocatalog", "allow_expired", "include_names", "include_subtree", "effective",
    "resource_types", "resource_type",
    "scope.project.id", "scope.domain.id", "scope.system", "user.id", "group.id", "role.id",
    "parents_as_list", "subtree_as_list", "protected", "checksum", "os_hash_value",
    "resources", "uuid", "in_tree", "required", "associated",
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
    """Every (method, route) of every mounted API, HEAD and OPTIONS aside, in the order the
    tests run them."""
    cases = []
    for mount, routes in API_ROUTES.items():
        for route in routes():
            cases += _cases(mount, route)
    # Deletes last: until then, the resources the fuzzer aims at are there to be found.
    return sorted(cases, key=lambda case: (case.method == "DELETE", case.name))


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
        # Optional fields are `X | None`; APIs often refuse an explicit null, so send X.
        choices = [c for c in choices if c.get("type") != "null"] or choices
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


@functools.cache
def _valid_documents(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    schema = model.model_json_schema()
    return _from_schema(schema, schema.get("$defs", {}))


@st.composite
def _with_known_ids(draw: st.DrawFn, documents: st.SearchStrategy[Any], ids: list[str]) -> Any:
    """A document whose `id` and `*_id` strings are, mostly, ids of real resources."""
    document = draw(documents)
    for at in _leaves(document):
        names_an_id = at and isinstance(at[-1], str) and at[-1].endswith("id")
        if names_an_id and isinstance(_get(document, at), str) and ids and draw(st.booleans()):
            document = _replaced(document, at, draw(st.sampled_from(ids)))
    return document


IMPORT_METHODS = st.sampled_from(["glance-direct", "copy-image"])
# Image bodies are parsed by hand: these are the plausible ones.
IMAGE_BODIES = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "name": PLAIN_TEXT,
            "disk_format": st.sampled_from(["raw", "qcow2", "iso"]),
            "container_format": st.sampled_from(["bare", "ovf"]),
            "visibility": st.sampled_from(["private", "shared", "community", "public"]),
            "tags": st.lists(PLAIN_TEXT, max_size=3),
            "min_ram": st.integers(min_value=0, max_value=4096),
            "protected": st.booleans(),
            "extra": PLAIN_TEXT,
        },
    ),
    st.lists(
        st.fixed_dictionaries(
            {
                "op": st.sampled_from(["add", "replace", "remove"]),
                "path": st.sampled_from(["/name", "/extra", "/tags", "/min_ram", "/visibility"]),
                "value": st.one_of(PLAIN_TEXT, st.integers(min_value=0, max_value=9)),
            }
        ),
        min_size=1,
        max_size=3,
    ),
    st.fixed_dictionaries({"member": PLAIN_TEXT}),
    st.fixed_dictionaries({"status": st.sampled_from(["accepted", "rejected", "pending"])}),
    st.fixed_dictionaries({"method": st.fixed_dictionaries({"name": IMPORT_METHODS})}),
)


def valid_bodies(case: RouteCase, ids: dict[str, str]) -> st.SearchStrategy[Any]:
    """Plausible documents for a route: from its `...Body` models, else the image API's."""
    documents = [_valid_documents(model) for model in case.models] or [IMAGE_BODIES]
    return _with_known_ids(st.one_of(documents), sorted(ids.values()))


def encoded(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=True).encode()


RAW_BODIES = st.one_of(st.binary(max_size=64), st.sampled_from([b"", b"{", b"[]", b"\x00"]))


def bodies(case: RouteCase, ids: dict[str, str], nasty: bool) -> st.SearchStrategy[bytes | None]:
    """A body for the route: plausible, or (`nasty`) one field or key away from it, any JSON,
    or bytes that are not JSON. Reads get none unless nasty."""
    if case.method not in WRITES:
        return st.one_of(st.none(), RAW_BODIES) if nasty else st.none()
    if case.path.endswith(("/file", "/stage")):
        return st.one_of(RAW_BODIES, st.binary(max_size=4096))
    valid = valid_bodies(case, ids)
    if not nasty:
        return valid.map(encoded)
    return st.one_of(mutated(valid).map(encoded), ANY_JSON.map(encoded), RAW_BODIES)


# Paths, queries and headers --------------------------------------------------------------


def path_values(known_ids: dict[str, str], nasty: bool, kind: str = "") -> st.SearchStrategy[str]:
    """Path parameters: the id of a resource of the `kind` the route names there, ids of
    other real resources, or words, or (`nasty`) text no id can be."""
    words = URL_TEXT if nasty else PLAIN_TEXT
    choices = [st.sampled_from(sorted(known_ids.values())), words] if known_ids else [words]
    if kind in known_ids:  # twice: the right kind of id half the time, so requests go deep
        choices[:0] = [st.just(known_ids[kind])] * 2
    return st.one_of(choices)


def urls(case: RouteCase, known_ids: dict[str, str], nasty: bool) -> st.SearchStrategy[str]:
    """The route's path below the cloud's URL, every parameter filled and percent-encoded."""
    kinds = [_kind(case.path, param, known_ids) for param in case.params]
    values = st.tuples(*[path_values(known_ids, nasty, kind) for kind in kinds])

    def fill(chosen: tuple[str, ...]) -> str:
        path = case.path
        for param, value in zip(case.params, chosen, strict=True):
            path = path.replace("{" + param + "}", _escaped(value))
        return case.mount + path

    return values.map(fill)


def _kind(path: str, param: str, known_ids: dict[str, str]) -> str:
    """What a path parameter names: `project` for {project_id}, and for a parameter that does
    not say (`target_id`, `image_id` below /roles) the collection it follows: /domains/{x}."""
    named = param.removesuffix("_id")
    collection = path.split("{" + param + "}")[0].rstrip("/").rsplit("/", 1)[-1]
    return named if named in known_ids else collection.removesuffix("s")


def _escaped(text: str) -> str:
    """Percent-encoded UTF-8, lone surrogates included (as a careless client sends them)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def queries(known_ids: dict[str, str], nasty: bool) -> st.SearchStrategy[str]:
    """A query string (without the `?`): filters some route understands, or (`nasty`) keys
    and values of any kind."""
    known = st.sampled_from(QUERY_KEYS)
    keys = st.one_of(known, URL_TEXT) if nasty else known
    values = st.one_of(
        path_values(known_ids, nasty), st.sampled_from(["true", "false", "0", "2", "asc"])
    )
    pairs = st.lists(st.tuples(keys, values), min_size=int(nasty), max_size=3)
    return pairs.map(lambda chosen: "&".join(f"{_escaped(k)}={_escaped(v)}" for k, v in chosen))


HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=40,
).map(lambda text: text.strip().encode("latin-1"))


def _content_type(case: RouteCase) -> bytes:
    if case.path.endswith(("/file", "/stage")):
        return b"application/octet-stream"
    if case.method == "PATCH" and case.mount == "/image":
        return JSON_PATCH.encode()
    return b"application/json"


def headers(case: RouteCase, token: str, nasty: bool) -> st.SearchStrategy[dict[str, bytes]]:
    """The admin's token and the right content type, or (`nasty`) headers of any kind: a
    broken token or none, other content types, odd `X-Subject-Token`, `Range`, ..."""
    if not nasty:
        return st.just({"x-auth-token": token.encode(), "content-type": _content_type(case)})
    tokens = st.one_of(st.just(token.encode()), HEADER_TEXT, st.just(token.encode()[:-3] + b"abc"))
    optional = {
        "x-subject-token": tokens,
        "openstack-api-version": st.one_of(HEADER_TEXT, st.just(b"identity 3.14")),
        "x-image-meta-store": HEADER_TEXT,
        "range": st.one_of(HEADER_TEXT, st.just(b"bytes=0-3"), st.just(b"bytes=9-2")),
        "accept": st.one_of(HEADER_TEXT, st.just(b"application/json")),
        "x-image-meta-checksum": HEADER_TEXT,
    }
    content_types = st.sampled_from(CONTENT_TYPES).map(str.encode)
    return st.fixed_dictionaries(
        {
            "x-auth-token": st.one_of(st.just(b""), tokens),
            "content-type": st.one_of(content_types, HEADER_TEXT),
        },
        optional=optional,
    ).map(lambda chosen: {k: v for k, v in chosen.items() if v})
