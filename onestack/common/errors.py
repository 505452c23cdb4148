"""The one exception family every service raises, and nothing that renders it.

    OneStackError            status 500, the base; carries `status`, `title` and a message
    ├── BadRequest           400  malformed JSON, missing fields, wrong types
    ├── Unauthorized         401  missing, wrong or expired credentials
    ├── Forbidden            403  authenticated but not allowed
    ├── NotFound             404
    ├── MethodNotAllowed     405
    └── Conflict             409

Services subclass these with upstream names (UserNotFound, ...). Each API renders them in its
own error body in exactly one place (see `common.http`).
"""

from __future__ import annotations


class OneStackError(Exception):
    """Base of all domain errors: a status, a title and a message a person can act on."""

    status: int = 500
    title: str = "Internal Server Error"
    message: str = "An unexpected error prevented the request from being fulfilled."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.message
        super().__init__(self.message)


class BadRequest(OneStackError):
    status = 400
    title = "Bad Request"
    message = "The request could not be understood."


class Unauthorized(OneStackError):
    status = 401
    title = "Unauthorized"
    message = "The request you have made requires authentication."


class Forbidden(OneStackError):
    status = 403
    title = "Forbidden"
    message = "You are not authorized to perform the requested action."


class NotFound(OneStackError):
    status = 404
    title = "Not Found"
    message = "The resource could not be found."


class MethodNotAllowed(OneStackError):
    status = 405
    title = "Method Not Allowed"
    message = "The method is not allowed for the requested URL."


class Conflict(OneStackError):
    status = 409
    title = "Conflict"
    message = "The request conflicts with the current state of the resource."


_BY_STATUS = {
    cls.status: cls
    for cls in (BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, Conflict)
}


def error_for_status(status: int, message: str | None = None) -> OneStackError:
    """The family member for an HTTP status raised by the framework (routing 404/405)."""
    cls = _BY_STATUS.get(status, OneStackError)
    return cls(message)
