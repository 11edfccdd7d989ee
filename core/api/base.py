"""Shared pieces of every API view and serializer: idempotent POSTs, strict input, ETags."""

from rest_framework import mixins, serializers, viewsets

from core.api.idempotency import run_idempotent
from core.api.permissions import StaffModelPermissions
from core.api.throttling import SecretLookupThrottle


class IdempotentPostMixin:
    """Routes every POST through run_idempotent, after authentication, permissions and throttles
    and inside the transaction that does the write, and holds every request body to
    DATA_UPLOAD_MAX_MEMORY_SIZE (DRF's parsers read the stream without a limit). A copy of
    APIView.dispatch with those changes: DRF has no hook between `initial()` and the handler."""

    idempotency_required = False

    def dispatch(self, request, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            if request.method in ("POST", "PUT", "PATCH"):
                request.body  # noqa: B018 -- reading it enforces the size limit (413)
            self.initial(request, *args, **kwargs)
            method = request.method.lower()
            handler = getattr(self, method, None) if method in self.http_method_names else None
            handler = handler or self.http_method_not_allowed
            if request.method == "POST":
                response = run_idempotent(
                    request,
                    lambda: handler(request, *args, **kwargs),
                    required=self.idempotency_required_for(getattr(self, "action", None)),
                )
            else:
                response = handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def idempotency_required_for(self, action) -> bool:
        required = self.idempotency_required
        return action in required if isinstance(required, list | tuple | set | frozenset) else bool(required)


class StaffViewSetMixin(IdempotentPostMixin):
    """Base of staff endpoints: model permissions per role, `restrict()` for object rules, and
    the secret look-up rate limit on the actions named in `secret_lookup_actions` (those that
    look a pickup, voucher or drop-off code up: guessing must stay hopeless)."""

    permission_classes = [StaffModelPermissions]
    secret_lookup_actions: tuple[str, ...] = ()

    def get_throttles(self):
        throttles = super().get_throttles()
        if getattr(self, "action", None) in self.secret_lookup_actions:
            throttles.append(SecretLookupThrottle())
        return throttles

    def restrict(self, queryset):
        """Narrow the queryset to what this user may see; lists and details both use it."""
        return queryset

    def get_queryset(self):
        return self.restrict(super().get_queryset())


class StaffModelViewSet(
    StaffViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and update; records people act on are closed or voided, not deleted."""


class StaffReadOnlyViewSet(StaffViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know, so a typo is an error, not a silently ignored value.
    Read-only fields are known (ignored on input), so a GET body can be sent back as a PUT."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    pass
