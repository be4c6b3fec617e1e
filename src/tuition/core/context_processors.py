from django.conf import settings
from django.http import HttpRequest

from .features import pay_by_tokens


def branding(request: HttpRequest) -> dict:
    return {
        "provider_name": settings.TUITION["PROVIDER_NAME"],
        "commerce_enabled": settings.TUITION["COMMERCE_ENABLED"],
        "pay_by_tokens": pay_by_tokens(),
    }
