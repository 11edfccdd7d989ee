from rest_framework.routers import SimpleRouter

from returns.api import returns, vouchers

AREAS = (returns, vouchers)

router = SimpleRouter()
for area in AREAS:
    area.register(router)

urlpatterns = [pattern for area in AREAS for pattern in area.urlpatterns] + router.urls
