from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StaffConfig(AppConfig):
    """The staff area's templates, styles and dashboard; listed before the admin so its
    templates win."""

    default = True
    name = "tuition.staff"
    label = "staff"

    def ready(self) -> None:
        from .field_names import name_fields

        name_fields()


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin machinery, serving the staff site (tuition.staff.sites.StaffSite)."""

    default = False
    default_site = "tuition.staff.sites.StaffSite"

    def ready(self) -> None:
        super().ready()
        from django.contrib import admin
        from rest_framework_api_key.models import APIKey

        # The library's own key model is not the one Tuition uses (api.ApiKey): listing both
        # showed "API keys" twice.
        if admin.site.is_registered(APIKey):
            admin.site.unregister(APIKey)
