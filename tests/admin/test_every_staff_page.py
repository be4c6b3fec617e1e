"""Every staff page, as every staff role: never a server error.

The walk starts from the demo data (every model has rows), collects the URL of each admin
page (index, each list, add form, one change form and its history, one delete confirmation,
each section) and opens it as a superuser, a commerce manager and a viewer.
"""

import contextlib

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db

ROLES = ["admin@northwind.test", "cora@northwind.test", "vic@northwind.test"]


def _staff_urls() -> list[str]:
    from tuition.staff.sites import SECTIONS

    urls = [reverse("admin:index"), reverse("reports:builder")]
    urls += [reverse("admin:section", args=[section.slug]) for section in SECTIONS]
    for model in admin.site._registry:
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{name}_changelist"))
        urls.append(reverse(f"{name}_add"))
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            for view in ("change", "history", "delete"):
                with contextlib.suppress(NoReverseMatch):
                    urls.append(reverse(f"{name}_{view}", args=[obj.pk]))
    return urls


@pytest.fixture
def demo():  # type: ignore[no-untyped-def]
    from tuition.portal.demo import load_demo

    assert load_demo()


@pytest.mark.parametrize("email", ROLES)
def test_no_staff_page_is_a_server_error(client, demo, email):
    # given
    client.force_login(get_user_model().objects.get(email=email))
    client.raise_request_exception = False
    # when
    answers = {url: client.get(url).status_code for url in _staff_urls()}
    # then
    errors = {url: status for url, status in answers.items() if status >= 500}
    assert errors == {}
    assert answers[reverse("admin:index")] == 200


@pytest.mark.parametrize("email", ["vic@northwind.test", "cora@northwind.test"])
def test_read_only_staff_see_activities_and_groups_with_their_token_prices(client, demo, email):
    from tuition.catalog.models import Activity, Group

    client.force_login(get_user_model().objects.get(email=email))
    for model in (Activity, Group):
        item = model.objects.filter(token_prices__isnull=False).first()
        opts = model._meta
        page = client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[item.pk])
        )
        assert page.status_code == 200
        assert "TT" in page.content.decode()


def test_the_add_session_page_opens(as_superuser):
    page = as_superuser.get(reverse("admin:catalog_session_add"))
    assert page.status_code == 200
