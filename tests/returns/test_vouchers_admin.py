"""Credit vouchers in the admin: found by the code as the customer reads it, voided through the
service, the ledger read-only, the change history visible."""

from decimal import Decimal

import pytest

from core.models import StateTransition
from returns.models import Voucher
from returns.services.vouchers import voucher_redeem
from tests.factories import make_voucher

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_site_client(client, manager):
    client.force_login(manager)
    return client


def test_a_voucher_is_found_by_its_code_typed_loosely_or_its_customer(admin_site_client):
    voucher, other = make_voucher(), make_voucher()

    by_code = admin_site_client.get("/admin/returns/voucher/", {"q": voucher.code.replace("-", " ").lower()})
    by_customer = admin_site_client.get("/admin/returns/voucher/", {"q": other.customer.number})

    assert by_code.status_code == 200
    assert list(by_code.context["cl"].result_list) == [voucher]
    assert list(by_customer.context["cl"].result_list) == [other]


def test_void_in_the_admin_goes_through_the_service(admin_site_client, manager):
    voucher = make_voucher(amount="30.00")
    voucher_redeem(actor=None, voucher=voucher, amount=Decimal("10"))

    response = admin_site_client.post(
        "/admin/returns/voucher/", {"action": "void_voucher", "_selected_action": [voucher.pk]}, follow=True
    )

    assert response.status_code == 200
    voucher = Voucher.objects.get(pk=voucher.pk)  # a protected FSM field cannot be refreshed in place
    assert (voucher.status, voucher.balance) == ("void", Decimal("0.00"))
    assert voucher.transactions.get(kind="void").amount == Decimal("-20.00")
    assert StateTransition.objects.filter(subject_id=voucher.pk, transition="void", actor=manager).exists()


def test_the_ledger_is_read_only_and_the_history_shows(admin_site_client):
    voucher = make_voucher()
    row = voucher.transactions.get()

    change = admin_site_client.get(f"/admin/returns/voucher/{voucher.pk}/change/")
    history = admin_site_client.get(f"/admin/returns/voucher/{voucher.pk}/history/")
    ledger = admin_site_client.get(f"/admin/returns/vouchertransaction/{row.pk}/change/")
    add = admin_site_client.get("/admin/returns/vouchertransaction/add/")

    assert change.status_code == history.status_code == ledger.status_code == 200
    assert "issue" in change.content.decode()
    assert b'name="_save"' not in ledger.content
    assert add.status_code == 403
