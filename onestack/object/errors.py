"""Object storage's domain errors, rendered by `object.api` as Swift renders them: a short
HTML body (`<html><h1>Not Found</h1><p>...</p></html>`) with the status Swift answers.

ObjectBadRequest (bad name, metadata, header)     400
ObjectUnauthorized                                401
AccessDenied (another project's account)          403
AccountNotFound, ContainerNotFound, ObjectNotFound 404
ContainerNotEmpty                                 409
LengthRequired                                    411
PreconditionFailed (If-Match, limit, If-None-Match) 412
RangeNotSatisfiable                               416
RequestTooLarge (over 5 GiB)                       413
EtagMismatch (body MD5 is not the ETag sent)      422
StoreUnavailable (too few replicas answered)      503
"""

from __future__ import annotations

from onestack.common.errors import BadRequest, Conflict, Forbidden, NotFound, OneStackError


class ObjectBadRequest(BadRequest):
    pass


class AccessDenied(Forbidden):
    message = "Access was denied to this resource."


class ObjectNotFound(NotFound):
    message = "The resource could not be found."


class ContainerNotFound(ObjectNotFound):
    pass


class ContainerNotEmpty(Conflict):
    message = "There was a conflict when trying to complete your request."


class LengthRequired(OneStackError):
    status = 411
    title = "Length Required"
    message = "Length Required"


class PreconditionFailed(OneStackError):
    status = 412
    title = "Precondition Failed"
    message = "A precondition for this request was not met."


class RangeNotSatisfiable(OneStackError):
    status = 416
    title = "Requested Range Not Satisfiable"
    message = "The Range requested is not available."

    def __init__(self, size: int) -> None:
        super().__init__()
        self.headers = {"Content-Range": f"bytes */{size}"}


class EtagMismatch(OneStackError):
    status = 422
    title = "Unprocessable Entity"
    message = "Unable to process the contained instructions"


class StoreUnavailable(OneStackError):
    status = 503
    title = "Service Unavailable"
    message = "The server is currently unavailable. Please try again at a later time."


class RequestTooLarge(OneStackError):
    status = 413
    title = "Request Entity Too Large"
    message = "Your request is too large."
