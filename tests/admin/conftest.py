import pytest
from django.contrib.auth.models import Group

from tests.factories import AccountFactory, UserFactory, usd
from tuition.accounts.admin_roles import COMMERCE_MANAGER, VIEWER, ensure_staff_roles


def _staff(email: str, role: str | None = None, **extra):  # type: ignore[no-untyped-def]
    ensure_staff_roles()
    user = UserFactory(email=email, is_staff=True, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def superuser():  # type: ignore[no-untyped-def]
    return _staff("root@northwind.test", is_superuser=True)


@pytest.fixture
def manager():  # type: ignore[no-untyped-def]
    return _staff("manager@northwind.test", COMMERCE_MANAGER)


@pytest.fixture
def viewer():  # type: ignore[no-untyped-def]
    return _staff("viewer@northwind.test", VIEWER)


@pytest.fixture
def account():  # type: ignore[no-untyped-def]
    usd()
    return AccountFactory(name="Acme Corp")


@pytest.fixture
def as_manager(client, manager):  # type: ignore[no-untyped-def]
    client.force_login(manager)
    return client


@pytest.fixture
def as_viewer(client, viewer):  # type: ignore[no-untyped-def]
    client.force_login(viewer)
    return client


@pytest.fixture
def as_superuser(client, superuser):  # type: ignore[no-untyped-def]
    client.force_login(superuser)
    return client
