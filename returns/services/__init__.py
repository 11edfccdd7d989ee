"""Every write of the returns app: `policy` (what may come back), `returns` (the RMA workflow from
request to resolution), `vouchers` (store credit and its ledger)."""
