"""Policy: named rules over the caller's credentials and the request's target.

A rule is a boolean expression (the oslo.policy syntax operators know):

    rule      := or_expr ;  "" or "@" always passes, "!" never does
    or_expr   := and_expr ("or" and_expr)*
    and_expr  := not_expr ("and" not_expr)*
    not_expr  := "not" not_expr | "(" or_expr ")" | check
    check     := "rule:" name | "role:" name | key ":" value

`key:value` compares a credential (`user_id`, `project_id`, `domain_id`, `system_scope`,
`is_admin_project`, ...) with `value`, which is a literal or `%(target.path)s`, a dotted path
into the target. Defaults ship as YAML with each service, on top of the personas every
service shares (personas.yaml: `cloud_admin`, `cloud_reader`, `service_role`); an operator's
file overrides them rule by rule. `is_admin_project` is true for every project-scoped token
unless an admin project is configured (Keystone's default), so `role:admin` on any project
makes a cloud admin. Nothing here knows HTTP: `enforce` raises the error class it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

Check = Callable[[Mapping[str, Any], Mapping[str, Any], "Policy"], bool]

# A `%(target.x)s` reference holds parentheses that are not grouping.
_TOKEN = re.compile(r"(?:%\([^)]*\)|[^\s()])+|\(|\)")
_TARGET_REF = re.compile(r"^%\((.+)\)s$")
PERSONAS_FILE = Path(__file__).with_name("personas.yaml")


class PolicyError(ValueError):
    """A rule that does not parse, or a reference to a rule that does not exist."""


class Policy:
    """A set of parsed rules; `allowed` evaluates one of them."""

    def __init__(self, rules: Mapping[str, str]) -> None:
        self.text = dict(rules)
        self._checks = {name: parse(text) for name, text in self.text.items()}

    @classmethod
    def load(cls, defaults: Path, override: Path | None = None) -> Policy:
        """The shared personas, the service's shipped defaults over them, and the operator's
        file (if it exists) over both."""
        rules = _read(PERSONAS_FILE) | _read(defaults)
        if override is not None and override.exists():
            rules.update(_read(override))
        return cls(rules)

    def allowed(self, action: str, creds: Mapping[str, Any], target: Mapping[str, Any]) -> bool:
        check = self._checks.get(action)
        if check is None:
            raise PolicyError(f"No policy rule is defined for {action}.")
        return check(creds, target, self)

    def enforce(
        self,
        action: str,
        creds: Mapping[str, Any],
        target: Mapping[str, Any],
        error: type[Exception],
    ) -> None:
        if not self.allowed(action, creds, target):
            raise error(f"You are not authorized to perform the requested action: {action}.")


def _read(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise PolicyError(f"{path} must map rule names to rule strings.")
    return {str(name): str(text) for name, text in data.items()}


def parse(text: str) -> Check:
    """Compile a rule string into a check function."""
    tokens = _TOKEN.findall(text)
    if not tokens or tokens == ["@"]:
        return lambda creds, target, policy: True
    parser = _Parser(tokens, text)
    check = parser.or_expr()
    if parser.pos != len(tokens):
        raise PolicyError(f"Unexpected '{tokens[parser.pos]}' in rule: {text}")
    return check


class _Parser:
    def __init__(self, tokens: list[str], text: str) -> None:
        self.tokens, self.text, self.pos = tokens, text, 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise PolicyError(f"Rule ends too early: {self.text}")
        self.pos += 1
        return token

    def or_expr(self) -> Check:
        parts = [self.and_expr()]
        while self._peek() == "or":
            self._take()
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda c, t, p: any(part(c, t, p) for part in parts)

    def and_expr(self) -> Check:
        parts = [self.not_expr()]
        while self._peek() == "and":
            self._take()
            parts.append(self.not_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda c, t, p: all(part(c, t, p) for part in parts)

    def not_expr(self) -> Check:
        token = self._take()
        if token == "not":
            inner = self.not_expr()
            return lambda c, t, p: not inner(c, t, p)
        if token == "(":
            inner = self.or_expr()
            if self._take() != ")":
                raise PolicyError(f"Missing ')' in rule: {self.text}")
            return inner
        return _check(token, self.text)


def _check(token: str, text: str) -> Check:
    if token == "@":
        return lambda c, t, p: True
    if token == "!":
        return lambda c, t, p: False
    kind, sep, value = token.partition(":")
    if not sep or not kind:
        raise PolicyError(f"'{token}' is not a check in rule: {text}")
    if kind == "rule":
        return lambda c, t, p: p.allowed(value, c, t)
    if kind == "role":
        wanted = value.lower()

        def has_role(c: Mapping[str, Any], t: Mapping[str, Any], p: Policy) -> bool:
            roles = c.get("roles", ())
            # Role names are nearly always lower case already: try the exact name first.
            return wanted in roles or any(role.lower() == wanted for role in roles)

        return has_role
    return _compare(kind, value)


def _compare(key: str, value: str) -> Check:
    ref = _TARGET_REF.match(value)
    if ref:
        path = ref.group(1).removeprefix("target.")

        def from_target(c: Mapping[str, Any], t: Mapping[str, Any], p: Policy) -> bool:
            wanted = lookup(t, path)
            return wanted is not None and _text(c.get(key)) == _text(wanted)

        return from_target
    literal = value.strip("'\"")
    return lambda c, t, p: _text(c.get(key)) == literal


def lookup(target: Mapping[str, Any], path: str) -> Any:
    """A dotted path in a nested target; a flat key with dots in it also matches."""
    if path in target:
        return target[path]
    node: Any = target
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)
