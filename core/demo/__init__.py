"""The demo retailer `manage.py seed_demo` loads: Ravelijn, a fictional furniture, home, appliance
and fashion chain in the Netherlands and Belgium, and customers whose touchpoints tell the stories
the associate pages, the admin and the customer app are built to show.

Core builds the retailer (`places`, `catalogue`, `staff`, loaded into a `world`) and the customers
(`customers`); every app adds its part of each new customer's story from its own `demo.py` through
`registry`, so core imports no domain app. Rows are bulk-written (`writer`), not sent through the
services: those write one row at a time and queue real notifications, right for live traffic and
far too slow for 10,000 customers. The rows keep the invariants the services keep (an order's total
is the sum of its lines, one default address per customer, one purchase touchpoint per order).

Safe to run again: every seeded row has a natural key (location code, skill code, category slug,
SKU, e-mail address, the customer's "demo" external id), a run creates only what is missing, and
stories are told only for the customers a run creates.
"""

SEED = 20250601  # every generator derives from it: the same seed, the same data
HISTORY_DAYS = 120  # how far back the customers' stories go
