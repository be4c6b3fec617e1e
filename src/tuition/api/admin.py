from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    """Keys are shown once on creation; revoking one here cannot be undone."""

    list_display = [*APIKeyModelAdmin.list_display, "scopes", "last_used_at"]
    list_filter = ["revoked", "created"]
