from django.urls import include, path
from rest_framework.routers import SimpleRouter

from core.urls import urlpatterns as project_urlpatterns
from tests.workflowapp.api import TicketViewSet

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")

urlpatterns = [path("api/test/", include(router.urls)), *project_urlpatterns]
