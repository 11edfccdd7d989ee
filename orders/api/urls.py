from rest_framework.routers import SimpleRouter

from orders.api import deliveries, fulfillment, orders, pickups, shipments

AREAS = (orders, shipments, deliveries, pickups, fulfillment)

router = SimpleRouter()
for area in AREAS:
    area.register(router)

urlpatterns = [pattern for area in AREAS for pattern in area.urlpatterns] + router.urls
