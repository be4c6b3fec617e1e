from tests.api.conftest import api, make_key  # noqa: F401 - the API fixtures, shared
