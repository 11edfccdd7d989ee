"""Cached model permissions follow every change of roles and permissions at once."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import User
from core.permissions_cache import VERSION_KEY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _fresh(user):
    return User.objects.get(pk=user.pk)  # a new request loads the user anew


def test_a_second_request_asks_the_database_nothing():
    user = UserFactory(roles=["associate"])
    assert _fresh(user).has_perm("core.view_customer")
    again = _fresh(user)
    with CaptureQueriesContext(connection) as ctx:
        assert again.has_perm("core.view_customer")
    assert len(ctx) == 0


def test_an_evicted_version_makes_every_cached_answer_stale():
    user = UserFactory(roles=["associate"])
    assert _fresh(user).has_perm("core.view_customer")
    cache.delete(VERSION_KEY)
    again = _fresh(user)
    with CaptureQueriesContext(connection) as ctx:
        assert again.has_perm("core.view_customer")
    assert len(ctx) > 0


def test_joining_and_leaving_a_role_takes_effect_immediately():
    user = UserFactory()
    assert not _fresh(user).has_perm("core.add_location")
    user.groups.add(Group.objects.get(name="manager"))
    assert _fresh(user).has_perm("core.add_location")
    user.groups.remove(Group.objects.get(name="manager"))
    assert not _fresh(user).has_perm("core.add_location")


def test_changing_what_a_role_may_do_takes_effect_immediately():
    user = UserFactory(roles=["associate"])
    permission = Permission.objects.get(codename="add_location")
    assert not _fresh(user).has_perm("core.add_location")
    Group.objects.get(name="associate").permissions.add(permission)
    assert _fresh(user).has_perm("core.add_location")


def test_a_users_own_permissions_and_deactivation_count():
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_product"))
    assert _fresh(user).has_perm("core.view_product")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not _fresh(user).has_perm("core.view_product")


def test_granting_superuser_takes_effect_immediately():
    user = UserFactory()
    assert not _fresh(user).has_perm("core.delete_customer")
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    assert _fresh(user).has_perm("core.delete_customer")


def test_removing_a_permission_from_a_role_takes_effect_immediately():
    user = UserFactory(roles=["manager"])
    assert _fresh(user).has_perm("core.add_location")
    Group.objects.get(name="manager").permissions.remove(Permission.objects.get(codename="add_location"))
    assert not _fresh(user).has_perm("core.add_location")
