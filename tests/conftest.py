"""Client fixtures per role, as the mobile apps and the pages call us."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from core.choices import Role
from tests.factories import AssociateProfileFactory, CustomerFactory, UserFactory


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters, cached sessions and permissions must not leak from one test to the next."""
    cache.clear()
    yield
    cache.clear()


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def associate(db):
    return AssociateProfileFactory(user__roles=[Role.ASSOCIATE]).user


@pytest.fixture
def agent(db):
    return AssociateProfileFactory(user__roles=[Role.CUSTOMER_SERVICE]).user


@pytest.fixture
def manager(db):
    return AssociateProfileFactory(user__roles=[Role.MANAGER], user__is_staff=True).user


@pytest.fixture
def admin_user(db):
    """The admin role through its group's permissions (not a superuser, so the grants are tested)."""
    return AssociateProfileFactory(user__roles=[Role.ADMIN], user__is_staff=True).user


@pytest.fixture
def customer(db):
    return CustomerFactory(user=UserFactory())


@pytest.fixture
def associate_client(associate):
    return _client_for(associate)


@pytest.fixture
def agent_client(agent):
    return _client_for(agent)


@pytest.fixture
def manager_client(manager):
    return _client_for(manager)


@pytest.fixture
def admin_client_api(admin_user):
    return _client_for(admin_user)


@pytest.fixture
def customer_app_client(customer):
    return _client_for(customer.user)


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def roleless_client(db):
    """Signed in, but neither staff nor customer (e.g. a deactivated associate's stale login)."""
    return _client_for(UserFactory())


@pytest.fixture
def integration_client(db):
    """A POS / e-commerce system's service account."""
    return _client_for(UserFactory(roles=[Role.INTEGRATION]))


@pytest.fixture
def clients(
    anon_client,
    roleless_client,
    customer_app_client,
    integration_client,
    associate_client,
    agent_client,
    manager_client,
    admin_client_api,
):
    """Every role's client by name, for the authorisation matrices."""
    return {
        "anon": anon_client,
        "roleless": roleless_client,
        "customer": customer_app_client,
        "integration": integration_client,
        "associate": associate_client,
        "agent": agent_client,
        "manager": manager_client,
        "admin": admin_client_api,
    }
