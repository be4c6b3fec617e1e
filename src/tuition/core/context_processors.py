from django.conf import settings
from django.http import HttpRequest


def branding(request: HttpRequest) -> dict:
    return {
        "provider_name": settings.TUITION["PROVIDER_NAME"],
        "commerce_enabled": settings.TUITION["COMMERCE_ENABLED"],
    }
