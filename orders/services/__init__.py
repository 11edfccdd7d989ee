"""Every write that means something for an order, one module per concern."""
