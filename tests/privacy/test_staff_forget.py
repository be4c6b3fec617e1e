"""The staff's "Forget this person" action: a confirmation page, then one call to the service;
only staff allowed to forget people see or reach it."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.admin.conftest import _staff
from tests.factories import UserFactory
from tuition.accounts.admin_roles import COMMERCE_MANAGER
from tuition.accounts.models import User
from tuition.privacy.models import Erasure

pytestmark = pytest.mark.django_db


@pytest.fixture
def lena():
    return UserFactory(email="lena@learner.test", name="Lena Learner")


def test_an_admin_confirms_and_the_person_is_forgotten(client, lena):
    # given the provider's admin on the person's page
    client.force_login(_staff("root@northwind.test", is_superuser=True))
    page = client.get(reverse("admin:accounts_user_change", args=[lena.pk]))
    forget_url = reverse("admin:accounts_user_forget", args=[lena.pk])
    assert forget_url in page.content.decode()
    # when they open the confirmation, then confirm
    confirmation = client.get(forget_url)
    assert confirmation.status_code == 200
    assert "cannot be undone" in confirmation.content.decode()
    assert User.objects.get(pk=lena.pk).email == "lena@learner.test"  # nothing yet
    done = client.post(forget_url, follow=True)
    # then the person is the pseudonym, and the page says so
    erasure = Erasure.objects.get(user=lena)
    lena.refresh_from_db()
    assert lena.email == erasure.pseudonym and lena.name == "Erased person"
    assert erasure.actor.startswith("user:")
    assert erasure.pseudonym in done.content.decode()


def test_staff_without_the_permission_neither_see_nor_reach_it(client, lena):
    # given a commerce manager (who may change credits and codes, not forget people)
    manager = _staff("manager@northwind.test", COMMERCE_MANAGER)
    manager.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(manager)
    forget_url = reverse("admin:accounts_user_forget", args=[lena.pk])
    # when they look at the person and try the action
    page = client.get(reverse("admin:accounts_user_change", args=[lena.pk]))
    refused = client.post(forget_url)
    # then there is no button, the action is refused, and nothing changed
    assert forget_url not in page.content.decode()
    assert refused.status_code == 403
    lena.refresh_from_db()
    assert lena.email == "lena@learner.test" and not Erasure.objects.exists()


def test_the_permission_alone_opens_it(client, lena):
    # given a staff member granted the permission to forget people
    staff = _staff("dpo@northwind.test")
    staff.user_permissions.add(Permission.objects.get(codename="forget_person"))
    client.force_login(staff)
    # when they confirm
    response = client.post(reverse("admin:accounts_user_forget", args=[lena.pk]))
    # then the person is forgotten
    assert response.status_code == 302
    assert Erasure.objects.filter(user=lena).exists()
