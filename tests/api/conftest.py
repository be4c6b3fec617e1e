# The API client and fixtures live in tests/api_support.py, shared by every test directory.
from tests.api_support import Api, error_code  # noqa: F401
