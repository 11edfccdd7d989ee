"""Every API error as application/problem+json (RFC 9457).

Body: `type` (a stable URN per error code), `title`, `status`, `detail` (for people), `code`
(for programs) and, for validation errors, `errors`: one entry per field problem with the field's
path, a code and a message. Domain errors add their own members (e.g. `allowed` on a 409).
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from core.errors import DomainError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


def _flatten(detail, path="") -> list[dict]:
    """Turn DRF's nested error structure into a flat list of {field, code, detail}."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            field = key if key != "non_field_errors" else ""
            out += _flatten(value, f"{path}.{field}" if path and field else (field or path))
        return out
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            return [{"field": path, "code": getattr(item, "code", "invalid"), "detail": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            if item:
                out += _flatten(item, f"{path}[{index}]")
        return out
    return [{"field": path, "code": getattr(detail, "code", "invalid"), "detail": str(detail)}]


def problem(status_code: int, code: str, title: str, detail: str, headers=None, **extra) -> Response:
    body = {
        "type": f"urn:aftercare:problem:{code}",
        "title": title,
        "status": status_code,
        "detail": detail,
        "code": code,
        **extra,
    }
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))

    if isinstance(exc, DomainError):
        set_rollback()
        return problem(exc.status, exc.code, exc.title, exc.detail, **exc.extra)

    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        summary = "; ".join(f"{e['field'] or 'request'}: {e['detail']}" for e in errors[:5])
        set_rollback()
        return problem(
            status.HTTP_400_BAD_REQUEST, "validation", "Invalid request", f"Invalid input. {summary}", errors=errors
        )

    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        set_rollback()
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        return problem(exc.status_code, code, str(exc.default_detail), str(exc.detail), headers=headers)

    if isinstance(exc, RequestDataTooBig):
        return problem(413, "too_large", "Request too large", "The request body is larger than this API accepts.")
    if isinstance(exc, SuspiciousOperation):
        return problem(400, "bad_request", "Bad request", str(exc) or "The request was malformed.")
    if isinstance(exc, IntegrityError):
        set_rollback()
        if _is_unique_violation(exc):
            # A uniqueness race the services' own checks could not see: the client may retry.
            logger.warning("unique violation answered as 409: %s", exc)
            return problem(409, "conflict", "Conflict", "The request conflicts with a concurrent change; retry.")
        # A database rule the serializers should have caught first: a bug of ours, and bad input.
        logger.error("integrity error answered as 400: %s", exc)
        return problem(400, "constraint", "Invalid request", "The request breaks a data rule.")
    return None


def _is_unique_violation(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return sqlstate == "23505" or "UNIQUE constraint failed" in str(exc)
