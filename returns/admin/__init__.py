"""The returns app's admin, one module per area (Django imports this package as `returns.admin`)."""

from returns.admin import returns, vouchers  # noqa: F401 -- registers the model admins
