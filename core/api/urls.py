from django.urls import path
from rest_framework.routers import DefaultRouter

from core.api import views

router = DefaultRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("locations", views.LocationViewSet, basename="location")
router.register("products", views.ProductViewSet, basename="product")
router.register("inventory", views.InventoryViewSet, basename="inventory")
router.register("associates", views.AssociateViewSet, basename="associate")
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("me/notifications", views.MyNotificationViewSet, basename="my-notification")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("customers/<int:pk>/timeline/", views.CustomerTimelineView.as_view(), name="customer-timeline"),
    path("me/timeline/", views.MyTimelineView.as_view(), name="my-timeline"),
    *router.urls,
]
