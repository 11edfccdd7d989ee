"""Who may change what in the installations API: every member of staff reads everything; an
associate (or agent) changes what belongs to their home location only, managers and admins
anywhere (the rule of `core.services.inventory.check_home_location`)."""

from django.http import Http404

from core.choices import Role
from core.services.inventory import check_home_location


class HomeLocationMixin:
    """For staff viewsets: the actions in `writes` see only rows at the user's home location, and
    a row that exists elsewhere is a 403 saying `elsewhere` rather than a 404. `location_path` is
    the lookup from the viewset's model to its location."""

    writes: tuple[str, ...] = ()
    location_path = "location_id"
    elsewhere = "Associates act at their home location only."

    def restrict(self, queryset):
        if self.action not in self.writes or getattr(self, "swagger_fake_view", False):
            return queryset
        user = self.request.user
        if user.has_role(Role.MANAGER, Role.ADMIN):
            return queryset
        profile = getattr(user, "associate", None)
        if profile is None:
            return queryset.none()
        return queryset.filter(**{self.location_path: profile.home_location_id})

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            # Readable but not changeable here: say why (403) rather than pretend it is not there.
            if self.action in self.writes:
                pk = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
                model = self.get_queryset().model
                try:
                    location_id = model.objects.filter(pk=pk).values_list(self.location_path, flat=True).first()
                except (TypeError, ValueError):  # not an id at all
                    location_id = None
                if location_id is not None:
                    check_home_location(self.request.user, location_id, self.elsewhere)
            raise
