"""Domain errors raised by services. The API turns each into problem+json with its status and
code; pages and admin actions show `detail` as a message."""


class DomainError(Exception):
    status = 400
    code = "invalid"
    title = "Request cannot be processed"

    def __init__(self, detail: str, *, code: str | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra


class Conflict(DomainError):
    """The object's current state does not allow the request (HTTP 409)."""

    status = 409
    code = "conflict"
    title = "Conflict with the current state"


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    title = "Transition not allowed"


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"
    title = "The resource has changed"


class RuleViolation(DomainError):
    """A business rule refused the request (HTTP 422)."""

    status = 422
    code = "rule_violation"
    title = "Refused by a business rule"
