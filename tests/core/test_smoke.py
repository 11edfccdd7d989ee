def test_roles_exist_after_migrations(db):
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {"associate", "customer_service", "manager", "admin"}
