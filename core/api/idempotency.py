"""Idempotency-Key on POST, claimed in the same transaction as the write.

Per caller and key we remember a hash of the request and the response, in the transaction that
does the write, so the key and the effect commit or roll back together:
- same key, same request: the first response is replayed (header `Idempotent-Replayed: true`);
- same key, another request: 422;
- same key while the first is still running: 409 (PostgreSQL: a transaction-scoped advisory lock
  tried without waiting; SQLite: transactions are IMMEDIATE, so the second request waits for the
  first to commit and then gets the replay);
- views that move money set `idempotency_required = True`: no key, 400.
Raised errors and 5xx responses are not remembered, and their writes are rolled back, so a retry
is safe.
"""

import hashlib
import json

from django.db import connection, transaction
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from core.errors import Conflict, DomainError, RuleViolation
from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Location", "ETag")
MAX_KEY_LENGTH = 255


class MissingIdempotencyKey(DomainError):
    status = 400
    code = "idempotency_key_required"
    title = "Idempotency-Key required"


def _request_hash(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.get_full_path().encode())
    digest.update(request.body)
    return digest.hexdigest()


def _try_lock(user_id: int, key: str) -> bool:
    if connection.vendor != "postgresql":
        return True
    lock_id = int.from_bytes(hashlib.sha256(f"{user_id}:{key}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        return cursor.fetchone()[0]


def _replay(stored: IdempotencyKey) -> Response:
    headers = {**stored.response_headers, REPLAYED_HEADER: "true"}
    return Response(stored.response_body, status=stored.response_status, headers=headers)


def run_idempotent(request, handler, *, required: bool) -> Response:
    """Run `handler()` (the view's POST) at most once per caller and Idempotency-Key."""
    key = request.headers.get(HEADER, "").strip()
    user = request.user
    if not key:
        if required:
            raise MissingIdempotencyKey("This request moves money: send an Idempotency-Key header (e.g. a UUID).")
        return handler()
    if len(key) > MAX_KEY_LENGTH:
        raise RuleViolation(f"{HEADER} must be at most {MAX_KEY_LENGTH} characters.", code="idempotency_key_invalid")
    if not user.is_authenticated:
        return handler()
    request_hash = _request_hash(request)
    with transaction.atomic():
        if not _try_lock(user.pk, key):
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                code="idempotency_key_in_flight",
            )
        stored = IdempotencyKey.objects.filter(user=user, key=key).first()
        if stored is not None:
            if stored.request_hash != request_hash:
                raise RuleViolation(
                    "This Idempotency-Key was used for a different request; use a new key.",
                    code="idempotency_key_reused",
                )
            return _replay(stored)
        response = handler()
        if response.status_code >= 500:
            transaction.set_rollback(True)  # not remembered, so nothing may stay written either
        else:
            IdempotencyKey.objects.create(
                user=user,
                key=key,
                method=request.method,
                path=request.get_full_path()[:500],
                request_hash=request_hash,
                response_status=response.status_code,
                response_body=json.loads(json.dumps(response.data, cls=JSONEncoder)),
                response_headers={h: response[h] for h in KEPT_HEADERS if response.has_header(h)},
            )
    return response
