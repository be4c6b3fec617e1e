"""`tuition check --deploy`: refuse the placeholders of deploy/tuition.env."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

PLACEHOLDER = "change-me"


@register(Tags.security, deploy=True)
def placeholders_replaced(app_configs: Any, **kwargs: Any) -> list[Error]:
    found = {
        "SECRET_KEY": settings.SECRET_KEY,
        "TUITION_METRICS_TOKEN": settings.TUITION.get("METRICS_TOKEN", ""),
    }
    return [
        Error(
            f"{name} still holds the template's placeholder.",
            hint="Generate one: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'",
            id="tuition.E001",
        )
        for name, value in found.items()
        if PLACEHOLDER in str(value)
    ]
