"""Writes to the customer record."""

from django.db import transaction

from core.errors import Conflict, PreconditionFailed
from core.models import Customer, CustomerAddress, CustomerExternalId
from core.services.notifications import notify

CONTACT_FIELDS = ("email", "phone")


def _check_email_free(email: str, exclude_pk=None) -> None:
    if not email:
        return
    clash = Customer.objects.filter(email__iexact=email)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise Conflict("Another customer already has this e-mail address.", code="email_taken", field="email")


def _set_addresses(customer: Customer, addresses: list[dict]) -> None:
    customer.addresses.all().delete()
    if addresses and not any(a.get("is_default") for a in addresses):
        addresses[0]["is_default"] = True
    seen_default = False
    rows = []
    for data in addresses:
        is_default = bool(data.get("is_default")) and not seen_default
        seen_default = seen_default or is_default
        rows.append(CustomerAddress(customer=customer, **{**data, "is_default": is_default}))
    CustomerAddress.objects.bulk_create(rows)


def customer_create(*, actor, addresses=(), external_ids=(), **fields) -> Customer:
    with transaction.atomic():
        _check_email_free(fields.get("email", ""))
        for ext in external_ids:
            if CustomerExternalId.objects.filter(source=ext["source"], external_id=ext["external_id"]).exists():
                raise Conflict(
                    f"{ext['source']} id {ext['external_id']} already belongs to another customer.",
                    code="external_id_taken",
                    field="external_ids",
                )
        customer = Customer.objects.create(**fields)
        _set_addresses(customer, list(addresses))
        CustomerExternalId.objects.bulk_create(CustomerExternalId(customer=customer, **ext) for ext in external_ids)
    return customer


def customer_update(*, customer: Customer, actor, if_match: str | None = None, addresses=None, **changes) -> Customer:
    """Update the record. With `if_match`, refuse (412) if someone changed it since that ETag.

    A changed e-mail address or phone number is announced to the customer, as banks do, so a
    change they did not ask for does not go unnoticed.
    """
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if if_match is not None and if_match != customer_etag(locked):
            raise PreconditionFailed(
                "This customer was changed by someone else since you loaded it; reload and try again.",
                current_etag=customer_etag(locked),
            )
        if "email" in changes:
            _check_email_free(changes["email"], exclude_pk=locked.pk)
        changed_contact = [f for f in CONTACT_FIELDS if f in changes and changes[f] != getattr(locked, f)]
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save()
        if addresses is not None:
            _set_addresses(locked, list(addresses))
        if changed_contact:
            notify(
                customer=locked,
                event="contact_details_changed",
                dedupe_key=f"contact-changed:{locked.pk}:{locked.history.latest().history_id}",
                context={"changed": changed_contact},
            )
    return locked


def customer_etag(customer: Customer) -> str:
    return f'"{customer.pk}-{customer.updated_at.timestamp():.6f}"'
