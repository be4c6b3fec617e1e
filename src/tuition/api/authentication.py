"""API authentication: `Authorization: Api-Key <key>` for integrating systems."""

from datetime import timedelta

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_api_key.permissions import KeyParser

from tuition.core import clock

from .models import ApiKey

_TOUCH_EVERY = timedelta(hours=1)


class KeyUser:
    """`request.user` for a request made with an API key: the provider's integration, not a
    person. It is authenticated but is never a Django staff user (no admin access)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: ApiKey):
        self.key = key
        self.email = ""

    def __str__(self) -> str:
        return self.key.actor


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Api-Key"
    parser = KeyParser()

    def authenticate(self, request):  # type: ignore[no-untyped-def]
        presented = self.parser.get_from_authorization(request)
        if presented is None:
            return None
        key = ApiKey.objects.filter(prefix=presented.partition(".")[0], revoked=False).first()
        if key is None or not key.is_valid(presented) or key.has_expired:
            raise AuthenticationFailed("The API key is not valid, revoked or expired.")
        now = clock.now()
        if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return KeyUser(key), key

    def authenticate_header(self, request):  # type: ignore[no-untyped-def]
        return self.keyword
