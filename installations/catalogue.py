"""What the service catalogue offers for a product: a service type, alteration kind or training
course is scoped to one product, to a whole category, or (neither set) to everything."""


def covers(offer, product) -> bool:
    """Whether `offer` (anything with `product_id` and `category_id`) applies to `product`."""
    if offer.product_id is not None:
        return offer.product_id == product.pk
    if offer.category_id is not None:
        return offer.category_id == product.category_id
    return True
