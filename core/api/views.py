"""Core endpoints: customers and their timeline, locations, products, inventory, associates,
notifications, and the signed-in customer's own `me/` scope."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core import selectors
from core.api import filters, serializers
from core.api.base import IdempotentPostMixin, StaffModelViewSet, StaffReadOnlyViewSet, StaffViewSetMixin
from core.api.pagination import CustomerPagination, NewestFirstPagination, TimelinePagination
from core.api.permissions import IsCustomer
from core.models import Location, Product
from core.services import customers as customer_services
from core.services import inventory as inventory_services

IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description="The ETag you read; 412 if it is stale."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, description="Makes a retried POST safe."
)


def _if_match(request) -> str | None:
    return request.headers.get("If-Match") or None


def _customer_response(customer, status_code=status.HTTP_200_OK) -> Response:
    """The customer record as the apps read it, with its ETag header."""
    data = serializers.CustomerSerializer(customer).data
    return Response(data, status=status_code, headers={"ETag": data["etag"]})


def _reloaded(customer):
    return selectors.customer_record().get(pk=customer.pk)


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class CustomerViewSet(StaffModelViewSet):
    queryset = selectors.customer_list()
    pagination_class = CustomerPagination
    filterset_class = filters.CustomerFilter
    search_fields = ["=number", "=email", "=phone", "^family_name", "^given_name"]
    ordering_fields = ["family_name", "created_at"]

    def get_queryset(self):
        if self.action == "list":
            return self.restrict(selectors.customer_list_rows())
        return self.restrict(selectors.customer_record())

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return serializers.CustomerWriteSerializer
        if self.action == "list":
            return serializers.CustomerListSerializer
        return serializers.CustomerSerializer

    def retrieve(self, request, *args, **kwargs):
        return _customer_response(self.get_object())

    @extend_schema(request=serializers.CustomerWriteSerializer, responses={201: serializers.CustomerSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_services.customer_create(actor=request.user, **serializer.validated_data)
        response = _customer_response(_reloaded(customer), status.HTTP_201_CREATED)
        response["Location"] = f"{request.path}{customer.pk}/"
        return response

    @extend_schema(
        parameters=[IF_MATCH], request=serializers.CustomerWriteSerializer, responses=serializers.CustomerSerializer
    )
    def update(self, request, *args, **kwargs):
        customer = self.get_object()
        serializer = self.get_serializer(customer, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        customer = customer_services.customer_update(
            customer=customer, actor=request.user, if_match=_if_match(request), **serializer.validated_data
        )
        return _customer_response(_reloaded(customer))

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


class CustomerTimelineView(StaffViewSetMixin, generics.ListAPIView):
    """A customer's whole story, newest first; filter by kind, channel and date."""

    serializer_class = serializers.TouchpointSerializer
    pagination_class = TimelinePagination
    filterset_class = filters.TimelineFilter
    search_fields = []
    ordering_fields = []

    def get_queryset(self):
        return selectors.customer_timeline(self.kwargs.get("pk"))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # A page with rows proves the customer exists; only an empty one needs asking (404 or []).
        if not page and not self.restrict(selectors.customer_list()).filter(pk=kwargs["pk"]).exists():
            raise Http404
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class LocationViewSet(StaffModelViewSet):
    queryset = Location.objects.all()
    serializer_class = serializers.LocationSerializer
    filterset_class = filters.LocationFilter
    search_fields = ["code", "name", "city", "postcode"]
    ordering_fields = ["name", "code"]


class ProductViewSet(StaffModelViewSet):
    queryset = Product.objects.select_related("category")
    serializer_class = serializers.ProductSerializer
    filterset_class = filters.ProductFilter
    search_fields = ["=sku", "name"]
    ordering_fields = ["name", "price", "sku"]


class InventoryViewSet(StaffReadOnlyViewSet):
    queryset = selectors.inventory_list()
    serializer_class = serializers.InventorySerializer
    filterset_class = filters.InventoryFilter
    ordering_fields = ["on_hand", "reserved", "updated_at"]
    action_permissions = {"adjust": "core.change_inventory"}

    @extend_schema(
        request=serializers.InventoryAdjustSerializer,
        responses=serializers.InventorySerializer,
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        """Receive or remove stock, or change what is reserved, at this location."""
        serializer = serializers.InventoryAdjustSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = inventory_services.inventory_adjust(
            inventory=self.get_object(), actor=request.user, **serializer.validated_data
        )
        return Response(serializers.InventorySerializer(row).data)


class AssociateViewSet(StaffReadOnlyViewSet):
    queryset = selectors.associate_list()
    serializer_class = serializers.AssociateSerializer
    filterset_class = filters.AssociateFilter
    search_fields = ["employee_code", "user__first_name", "user__last_name", "=user__email"]
    ordering_fields = ["employee_code"]


class NotificationViewSet(StaffReadOnlyViewSet):
    queryset = selectors.notification_list()
    serializer_class = serializers.NotificationSerializer
    pagination_class = NewestFirstPagination
    filterset_class = filters.NotificationFilter
    search_fields = []
    ordering_fields = []


class CustomerScopedMixin(IdempotentPostMixin):
    """`me/...` endpoints: signed in as a customer; everything filtered to that customer."""

    permission_classes = [IsAuthenticated, IsCustomer]

    @property
    def customer(self):
        return self.request.user.customer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.base_queryset().none()
        return self.base_queryset().filter(customer=self.customer)


class MeView(CustomerScopedMixin, generics.GenericAPIView):
    serializer_class = serializers.MeSerializer

    @extend_schema(responses=serializers.CustomerSerializer)
    def get(self, request):
        return _customer_response(_reloaded(self.customer))

    @extend_schema(parameters=[IF_MATCH], request=serializers.MeSerializer, responses=serializers.CustomerSerializer)
    def patch(self, request):
        serializer = self.get_serializer(self.customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer = customer_services.customer_update(
            customer=self.customer, actor=request.user, if_match=_if_match(request), **serializer.validated_data
        )
        return _customer_response(_reloaded(customer))


class MyTimelineView(CustomerScopedMixin, generics.ListAPIView):
    serializer_class = serializers.TouchpointSerializer
    pagination_class = TimelinePagination
    filterset_class = filters.TimelineFilter
    search_fields = []
    ordering_fields = []

    def base_queryset(self):
        return selectors.timeline()


class MyNotificationViewSet(
    CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = serializers.MyNotificationSerializer
    pagination_class = NewestFirstPagination
    filterset_fields = ["channel", "status", "event"]
    search_fields = []
    ordering_fields = []

    def base_queryset(self):
        return selectors.notification_list()
