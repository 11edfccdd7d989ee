from rest_framework.routers import SimpleRouter

urlpatterns = []


def register(router: SimpleRouter) -> None:
    pass
