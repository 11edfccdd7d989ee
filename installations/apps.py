from django.apps import AppConfig


class InstallationsConfig(AppConfig):
    name = "installations"
    verbose_name = "Installation, training and alteration"

    def ready(self):
        from core import events
        from installations.services_alterations import alteration_collected_with_pickup

        # An alteration's pickup handed over on the pickups page (not the alteration's) closes it too.
        events.subscribe("pickup.collected", alteration_collected_with_pickup)
