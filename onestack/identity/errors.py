"""Identity's domain errors, named as Keystone names them; rendered by `identity.api`.

AuthFailed, InvalidToken, ScopeNotAllowed, ScopeUnusable   401
ApplicationCredentialAuthError                              401
ApplicationCredentialValidationError                        400
ActionForbidden, NoLimitReference, RegisteredLimitInUse     403
<Resource>NotFound (DomainNotFound, UserNotFound, ...)      404  "Could not find user: <id>."
MarkerNotFound                                              404  "Marker <id> could not be found."
LimitConflict                                               409
"""

from __future__ import annotations

from onestack.common.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized


class AuthFailed(Unauthorized):
    """Wrong user, wrong password, disabled user: all look the same to the caller."""

    message = "The request you have made requires authentication."


class TokenNotFound(NotFound):
    message = "Could not find token."


class InvalidToken(Unauthorized):
    message = "The token is invalid, expired or revoked."


class ScopeNotAllowed(Unauthorized):
    message = "The user has no role on the requested scope."


class ScopeProjectUnusable(Unauthorized):
    message = "The requested project could not be found or is disabled."


class ScopeDomainUnusable(Unauthorized):
    message = "The requested domain could not be found or is disabled."


class ActionForbidden(Forbidden):
    pass


class ResourceNotFound(NotFound):
    """A resource missing by id; `kind` names it in the message as Keystone does."""

    kind = "resource"

    def __init__(self, ref_id: str) -> None:
        super().__init__(f"Could not find {self.kind}: {ref_id}.")


class MarkerNotFound(NotFound):
    """A list's `marker` names no entry of that kind."""

    def __init__(self, marker: str) -> None:
        super().__init__(f"Marker {marker} could not be found.")


class DomainNotFound(ResourceNotFound):
    kind = "domain"


class ProjectNotFound(ResourceNotFound):
    kind = "project"


class UserNotFound(ResourceNotFound):
    kind = "user"


class GroupNotFound(ResourceNotFound):
    kind = "group"


class RoleNotFound(ResourceNotFound):
    kind = "role"


class ImpliedRoleNotFound(ResourceNotFound):
    kind = "implied role"


class RoleAssignmentNotFound(ResourceNotFound):
    kind = "role assignment"


class RegionNotFound(ResourceNotFound):
    kind = "region"


class ServiceNotFound(ResourceNotFound):
    kind = "service"


class EndpointNotFound(ResourceNotFound):
    kind = "endpoint"


class CredentialNotFound(ResourceNotFound):
    kind = "credential"


class PolicyNotFound(ResourceNotFound):
    kind = "policy"


class ProjectTagNotFound(ResourceNotFound):
    kind = "project tag"


class AccountLocked(Unauthorized):
    """Too many failed logins in a row: the user is locked out for a while."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"The account is locked for user: {user_id}.")


class PasswordExpired(Unauthorized):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"The password is expired and needs to be changed for user: {user_id}.")


class PasswordSelfServiceDisabled(Forbidden):
    message = (
        "You cannot change your password at this time due to password policy disallowing "
        "password changes. Please contact your administrator to reset your password."
    )


class RegisteredLimitNotFound(ResourceNotFound):
    kind = "registered limit"


class LimitNotFound(ResourceNotFound):
    kind = "limit"


class NoLimitReference(Forbidden):
    message = "Unable to create a limit that has no corresponding registered limit."


class RegisteredLimitInUse(Forbidden):
    """Limits override it: it cannot go away or change what it limits under them."""

    def __init__(self, registered_limit_id: str) -> None:
        super().__init__(
            f"Unable to update or delete registered limit {registered_limit_id} because there "
            "are project limits associated with it."
        )


class LimitConflict(Conflict):
    def __init__(self, kind: str, details: str) -> None:
        super().__init__(f"Conflict occurred attempting to store {kind} - {details}.")


class ApplicationCredentialNotFound(ResourceNotFound):
    kind = "application credential"


class AccessRuleNotFound(ResourceNotFound):
    kind = "access rule"


class ApplicationCredentialAuthError(Unauthorized):
    """Logging in with an application credential failed (unknown, wrong secret, expired)."""

    def __init__(self, detail: str = "Invalid application credential.") -> None:
        super().__init__(f"Error authenticating with application credential: {detail}")


class ApplicationCredentialValidationError(BadRequest):
    def __init__(self, detail: str) -> None:
        super().__init__(f"Invalid application credential: {detail}")


class TrustNotFound(ResourceNotFound):
    kind = "trust"


class TrustValidationError(BadRequest):
    def __init__(self, detail: str) -> None:
        super().__init__(f"Invalid trust: {detail}")


class TrustForbidden(Forbidden):
    """What a trust does not allow (a role the trustor lacks, a use too many, redelegation)."""


class EndpointGroupNotFound(ResourceNotFound):
    kind = "endpoint group"


class ProjectEndpointNotFound(NotFound):
    def __init__(self, project_id: str, endpoint_id: str) -> None:
        super().__init__(f"Endpoint {endpoint_id} is not associated with project {project_id}.")


class DomainConfigNotFound(NotFound):
    def __init__(self, domain_id: str, group: str | None = None, option: str | None = None):
        where = "/".join(part for part in (group, option) if part)
        super().__init__(
            f"Could not find Domain Config {where or 'options'} for domain {domain_id}."
        )


class InvalidDomainConfig(Forbidden):
    """Keystone answers a group or option that cannot be set per domain with a 403."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Invalid domain specific configuration: {detail}")


class ConsumerNotFound(ResourceNotFound):
    kind = "consumer"


class PasswordAgeValidationError(BadRequest):
    def __init__(self, min_age_days: int, days_left: int) -> None:
        super().__init__(
            "You cannot change your password at this time due to the minimum password age. "
            f"Once you change your password, it must be used for {min_age_days} day(s) before it "
            f"can be changed. Please try again in {days_left} day(s) or contact your "
            "administrator to reset your password."
        )


class PasswordHistoryValidationError(BadRequest):
    def __init__(self, unique_count: int) -> None:
        super().__init__(
            "The new password cannot be identical to a previous password. The total number "
            f"which includes the new password must be unique is {unique_count}."
        )
