"""The orders API, one module per area (orders, shipments, deliveries, pickups, fulfilment options),
each holding its serializers and views and saying what it mounts in `register(router)` and
`urlpatterns`; urls.py puts them together."""
