"""Sign-in: allauth headless tokens for the mobile apps, MFA for the roles that require it,
and no home-made token scheme."""

import pytest
from allauth.mfa.models import Authenticator
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"


def _app_login(email, password=PASSWORD):
    return APIClient().post("/_allauth/app/v1/auth/login", {"email": email, "password": password}, format="json")


def test_customer_app_signs_in_headless_and_uses_the_token_on_the_api():
    customer = CustomerFactory(user=UserFactory(email="app.user@example.com"))

    login = _app_login("app.user@example.com")
    assert login.status_code == 200, login.content
    token = login.json()["meta"]["session_token"]

    api = APIClient()
    me = api.get("/api/v1/me/", HTTP_X_SESSION_TOKEN=token)
    assert me.status_code == 200
    assert me.json()["number"] == customer.number


def test_associate_token_reaches_staff_endpoints(associate):
    token = _app_login(associate.email).json()["meta"]["session_token"]
    response = APIClient().get("/api/v1/customers/", HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 200


def test_wrong_password_gives_no_token():
    UserFactory(email="someone@example.com")
    response = _app_login("someone@example.com", "wrong")
    assert response.status_code == 400
    assert "session_token" not in response.json().get("meta", {})


def test_an_invalid_token_is_401():
    response = APIClient().get("/api/v1/customers/", HTTP_X_SESSION_TOKEN="forged")
    assert response.status_code == 401
    assert response["WWW-Authenticate"]


def test_signup_is_closed_accounts_are_provisioned_by_the_retailer():
    response = APIClient().post(
        "/_allauth/app/v1/auth/signup", {"email": "new@example.com", "password": "a-Long-pass-123"}, format="json"
    )
    assert response.status_code == 403


@override_settings(AFTERCARE_MFA_REQUIRED_ROLES=["manager", "admin"])
def test_manager_without_a_second_factor_is_sent_to_set_one_up(client, manager, manager_client):
    client.force_login(manager)

    page = client.get("/")
    api = manager_client.get("/api/v1/customers/")

    assert page.status_code == 302
    assert page["Location"] == "/accounts/2fa/totp/activate/"
    assert api.status_code == 403
    assert "two-factor" in api.json()["detail"]


@override_settings(AFTERCARE_MFA_REQUIRED_ROLES=["manager", "admin"])
def test_manager_with_a_second_factor_gets_in(client, manager, manager_client):
    Authenticator.objects.create(user=manager, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(manager)

    assert client.get("/").status_code == 200
    assert manager_client.get("/api/v1/customers/").status_code == 200


@override_settings(AFTERCARE_MFA_REQUIRED_ROLES=["manager", "admin"])
def test_associates_are_not_asked_for_a_second_factor(client, associate):
    client.force_login(associate)
    assert client.get("/").status_code == 200


def test_admin_site_signs_in_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
