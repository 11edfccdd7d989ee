"""Writes to the customer record."""

from django.core.exceptions import PermissionDenied
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
    if external_ids and not actor.has_perm("core.add_customerexternalid"):
        raise PermissionDenied("Your role may not link customers to other systems' ids.")
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
        if if_match is not None and not etag_matches(if_match, customer_etag(locked)):
            raise PreconditionFailed(
                "This customer was changed by someone else since you loaded it; reload and try again.",
                current_etag=customer_etag(locked),
            )
        if "email" in changes:
            _check_email_free(changes["email"], exclude_pk=locked.pk)
        previous = {field: getattr(locked, field) for field in CONTACT_FIELDS}
        changed_contact = [f for f in CONTACT_FIELDS if f in changes and changes[f] != previous[f]]
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save()
        if addresses is not None:
            _set_addresses(locked, list(addresses))
        if changed_contact:
            _warn_previous_contact(locked, previous, changed_contact)
    return locked


def _warn_previous_contact(customer: Customer, previous: dict, changed: list[str]) -> None:
    """Tell the customer at the addresses they had: if someone else made the change, the new ones
    are theirs. An address that did not change is used as it is."""
    to = {"email": previous["email"], "sms": previous["phone"]}
    channels = [channel for channel in ("email", "sms") if to[channel]] or None
    notify(
        customer=customer,
        event="contact_details_changed",
        dedupe_key=f"contact-changed:{customer.pk}:{customer.history.latest().history_id}",
        context={"changed": changed},
        channels=channels,
        to=to,
    )


def customer_etag(customer: Customer) -> str:
    return f'"{customer.pk}-{customer.updated_at.timestamp():.6f}"'


def etag_matches(if_match: str, current: str) -> bool:
    """RFC 9110 If-Match: "*" or a comma-separated list of tags; weak tags never match."""
    tags = [tag.strip() for tag in if_match.split(",")]
    return "*" in tags or current in tags
