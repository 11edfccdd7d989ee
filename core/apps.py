from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Aftercare core"

    def ready(self):
        from core.api import schema  # noqa: F401  (registers the OpenAPI authentication extension)
