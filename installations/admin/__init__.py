"""Installations in the Django admin, one module per area: managers keep the catalogue (service
types, courses, alteration kinds) and their people's hours and absences; appointments,
enrolments and alterations are read here and changed only through the services the API uses."""

from installations.admin import alterations, appointments, training  # noqa: F401 (they register)
