from rest_framework.routers import SimpleRouter

from installations.api import alterations, appointments, training

AREAS = (appointments, training, alterations)

router = SimpleRouter()
for area in AREAS:
    area.register(router)

urlpatterns = [pattern for area in AREAS for pattern in area.urlpatterns] + router.urls
