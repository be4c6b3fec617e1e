"""API authentication: `Authorization: Api-Key <key>` for integrating systems."""

from rest_framework.authentication import BaseAuthentication


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):  # type: ignore[no-untyped-def]
        return None

    def authenticate_header(self, request):  # type: ignore[no-untyped-def]
        return self.keyword
