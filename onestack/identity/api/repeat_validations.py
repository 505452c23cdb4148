"""Repeated token validations, answered before the routing stack: identity's token reader's
fast path (`common/auth.FastPath`).

Every service validates the token of every request it receives with GET /v3/auth/tokens,
mostly the same (service token, user token) pair again and again. The first validation of a
pair goes the whole way: both tokens validated, policy checked, the body rendered. It records
its answer here with the identity write generation it was made under and the earlier of the
two tokens' expiries. A repeat under the same generation and before that expiry is sent the
same bytes without Starlette's request, routing and exception machinery: nothing it depends
on (revocations, users, roles, the catalog) can have changed without a write, and policy
files change only with a restart.

Anything else (another query string, a missing header, a write since, an expiry) goes the
whole way, which is where every error is made.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from starlette.routing import BaseRoute
from starlette.types import Scope

from onestack.common.auth import EarlyAnswer
from onestack.common.http import json_headers
from onestack.identity.manager import TokenManager

PATH = "/v3/auth/tokens"
# Kept per process; a full memo starts over.
MEMO_SIZE = 2_000

Key = tuple[str, str, bool]  # caller token, subject token, whether the catalog is wanted


class Answer(NamedTuple):
    generation: int
    expires: float  # epoch seconds: the earlier of the two tokens' expiries
    body: bytes
    headers: list[tuple[bytes, bytes]]  # all of them, raw; send a copy
    early: EarlyAnswer  # the same, as the token reader sends it

    def holds(self, generation: int) -> bool:
        return generation == self.generation and time.time() < self.expires


class ValidationMemo:
    """The answers of validations, each with the generation it was made under."""

    def get(self, key: Key) -> Answer | None:
        """The recorded answer, which may no longer hold (`Answer.holds`)."""
        return self._answers.get(key)

    def __init__(self, route: BaseRoute) -> None:
        self._answers: dict[Key, Answer] = {}
        self.route = route  # what the request log and metrics name as the route answered

    def remember(self, key: Key, generation: int, expires: float, body: bytes) -> Answer:
        if len(self._answers) >= MEMO_SIZE:
            self._answers.clear()
        headers = json_headers(body, [(b"x-subject-token", key[1].encode("latin-1"))])
        early = EarlyAnswer(self.route, headers, body)
        answer = self._answers[key] = Answer(generation, expires, body, headers, early)
        return answer


class RepeatValidations:
    """The fast path of identity's token reader: remembered validations, answered early."""

    def __init__(self, memo: ValidationMemo, tokens: TokenManager) -> None:
        self.memo = memo
        self.tokens = tokens

    def answer(self, scope: Scope, token_id: str) -> EarlyAnswer | None:
        """The remembered answer to this validation by the holder of `token_id`, if it holds."""
        if scope["method"] != "GET" or not _is_validation(scope):
            return None
        query = scope.get("query_string", b"")
        if query not in (b"", b"nocatalog"):
            return None
        subject = _subject_token(scope)
        if not subject:
            return None
        answer = self.memo.get((token_id, subject.decode("latin-1"), not query))
        # The generation is read only for a candidate: a miss must not cost the full path a
        # second read.
        if answer is None:
            return None
        try:
            now_generation = self.tokens.current_generation()
        except Exception:  # the database is away: the full path renders that error
            return None
        return answer.early if answer.holds(now_generation) else None


def _subject_token(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"x-subject-token":
            return value
    return None


def _is_validation(scope: Scope) -> bool:
    return scope["path"] == scope.get("root_path", "") + PATH
