"""What every API view shares: authentication, scopes, the error envelope in the schema,
pagination of plain querysets, and amount formatting in output serializers."""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tuition.core.amounts import format_amount
from tuition.core.errors import DomainError, ValidationError

from .access import Caller, ScopePermission, caller
from .errors import ERROR_CODES, FRAMEWORK_CODES
from .fields import StrictQueryInt
from .middleware import STATUS_CODES
from .models import ApiKey
from .pagination import DEFAULT_PAGE_SIZE, CursorlessPagination


def error_codes() -> list[str]:
    """Every `error.code` the API can answer with: each DomainError's code (SPEC §4) and the
    codes of the framework's own refusals (a test keeps api.errors.ERROR_CODES equal)."""
    found: set[str] = set(FRAMEWORK_CODES) | set(STATUS_CODES)
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        found.add(cls.code)
        pending.extend(cls.__subclasses__())
    found.discard("error")
    return sorted(found)


class ErrorDetail(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=ERROR_CODES, help_text="One of the codes of SPEC §4; match on it, not on message."
    )
    message = serializers.CharField(help_text="For people; may change between releases.")
    details = serializers.DictField(help_text="Machine-readable context, e.g. `fields`.")


class ErrorEnvelope(serializers.Serializer):
    error = ErrorDetail()


_ERROR_DESCRIPTIONS = {
    400: "`validation_error`: malformed or out-of-range input, unknown fields or query "
    "parameters, a missing or malformed `Idempotency-Key`.",
    401: "`not_authenticated`: no, or an invalid, API key or session.",
    403: "`permission_denied`: the key lacks the scope, or the person may not do this.",
    404: "`not_found`: no such object, or one the caller may not see (the same answer).",
    409: "A conflict with the object's state (see the operation).",
    413: "`payload_too_large`: the body is larger than the limit.",
    415: "`unsupported_media_type`: send the body as `application/json`.",
    422: "A business rule refused the request (see the operation), or `idempotency_key_reused`.",
    429: "`too_many_attempts`: wait `Retry-After` seconds.",
    503: "`service_unavailable`: the database stayed busy; retry after `Retry-After` seconds.",
}

RETRY_AFTER = OpenApiParameter(
    name="Retry-After",
    type=int,
    location=OpenApiParameter.HEADER,
    required=True,
    response=[429, 503],
    description="Seconds to wait before trying again.",
)
REPLAYED = OpenApiParameter(
    name="Idempotent-Replayed",
    type=str,
    enum=["true"],
    location=OpenApiParameter.HEADER,
    required=False,
    response=[200, 201, 202],
    description="Present on a retry answered with the stored first answer.",
)


def errors(*statuses: int, notes: dict[int, str] | None = None) -> dict[int, OpenApiResponse]:
    """Documented refusals of an operation (all share the §4 envelope): 400, 401 and 403 for
    every operation, plus `statuses`; `notes` say which codes an operation answers with."""
    wanted = sorted({400, 401, 403, *statuses})
    notes = notes or {}
    return {
        s: OpenApiResponse(
            ErrorEnvelope,
            description=" ".join(filter(None, [_ERROR_DESCRIPTIONS.get(s, "error"), notes.get(s)])),
        )
        for s in wanted
    }


IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    location=OpenApiParameter.HEADER,
    required=True,
    description="A unique key per intended change (e.g. a UUID), 1 to 255 printable ASCII "
    "characters. A retry with the same key and body returns the first answer with "
    "`Idempotent-Replayed: true`; the same key with another body is `idempotency_key_reused`.",
)


class Query(serializers.Serializer):
    """Query parameters of an operation. Unknown or repeated parameters are refused."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name in [n for n in self.fields if n.endswith("_")]:
            field = self.fields.pop(name)  # `from_` is `from`
            field.source = None
            self.fields[name.rstrip("_")] = field


class PageQuery(Query):
    page = StrictQueryInt(
        required=False, min_value=1, max_value=10**9, help_text="Page number, from 1."
    )
    page_size = StrictQueryInt(
        required=False,
        min_value=1,
        max_value=CursorlessPagination.max_page_size,
        help_text=f"Rows per page (default {DEFAULT_PAGE_SIZE}).",
    )


def ordering(*keys: str, default: str) -> serializers.ChoiceField:
    """An `ordering` parameter: each key ascending, or descending with a leading `-`."""
    choices = [c for k in keys for c in (k, f"-{k}")]
    return serializers.ChoiceField(
        choices=choices,
        required=False,
        default=default,
        help_text=f"Sort order (default `{default}`); ties are broken by id.",
    )


def apply_ordering(queryset: Any, value: str, *, fields: dict[str, str] | None = None) -> Any:
    """Order by the chosen key (mapped to model fields), ties broken by id the same way."""
    descending = value.startswith("-")
    key = value.lstrip("-")
    field = (fields or {}).get(key, key)
    sign = "-" if descending else ""
    return queryset.order_by(f"{sign}{field}", f"{sign}id")


class ApiView(APIView):
    permission_classes = [IsAuthenticated, ScopePermission]
    scopes: dict[str, str] = {}
    provider_only: Any = ()
    # Query parameters each method accepts: {"GET": CreditQuery}. Any other is refused.
    queries: dict[str, type[Query]] = {}

    def perform_authentication(self, request: Any) -> None:
        super().perform_authentication(request)
        if isinstance(request.auth, ApiKey):
            # The key's stand-in user must not reach code that expects a real person on the
            # Django request (change history records the actor in its reason instead).
            request._request.user = AnonymousUser()

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # PostgreSQL text cannot hold NUL; no id, code or filter ever contains one.
        values = [*kwargs.values(), *request.query_params.keys()]
        values += [v for vs in request.query_params.lists() for v in vs[1]]
        if any("\x00" in str(v) for v in values):
            raise ValidationError("The request contains a NUL character.")
        self.query = self._read_query(request)

    def _read_query(self, request: Any) -> dict[str, Any]:
        """Raises:
        ValidationError: an unknown, repeated or invalid query parameter (SPEC §4)."""
        if not hasattr(self, request.method.lower()):
            return {}  # the method is refused (405) before its parameters matter
        query_class = self.queries.get(request.method)
        known = set(query_class().fields) if query_class else set()
        unknown = sorted(k for k in request.query_params if k not in known)
        if unknown:
            raise ValidationError(
                "Unknown query parameter: " + ", ".join(unknown) + ".",
                details={"fields": {k: ["Unknown query parameter."] for k in unknown}},
            )
        repeated = sorted(k for k, vs in request.query_params.lists() if len(vs) > 1)
        if repeated:
            raise ValidationError(
                "A query parameter is given more than once: " + ", ".join(repeated) + ".",
                details={"fields": {k: ["Give it once."] for k in repeated}},
            )
        if query_class is None:
            return {}
        data = query_class(data=request.query_params.dict())
        if not data.is_valid():
            raise ValidationError(
                "A query parameter is not valid.", details={"fields": data.errors}
            )
        return dict(data.validated_data)

    def caller(self) -> Caller:
        return caller(self.request)

    def paginated(
        self, queryset: Any, serializer: type[serializers.BaseSerializer], **context: Any
    ) -> Response:
        paginator = CursorlessPagination()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer(page, many=True, context={"request": self.request, **context}).data
        return paginator.get_paginated_response(data)


class Money(serializers.Serializer):
    """An amount of value: a decimal string in its unit's precision, and the unit's code."""

    amount = serializers.CharField(help_text='Decimal string, e.g. "150.00" or "3".')
    unit = serializers.CharField(help_text='The unit\'s code, e.g. "USD" or "TT".')


def money(minor: int, unit: Any) -> dict[str, str]:
    return {"amount": format_amount(minor, decimals=unit.decimals), "unit": unit.code}


@extend_schema_field(Money)
class MoneyOut(serializers.Field):
    """Minor units rendered as Money in the unit found at `unit_attr` of the object."""

    def __init__(self, *, unit_attr: str = "unit", **kwargs: Any):
        self.unit_attr = unit_attr
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        value = super().get_attribute(instance)
        unit = instance
        for part in self.unit_attr.split("."):
            unit = unit[part] if isinstance(unit, dict) else getattr(unit, part)
        return (value, unit)

    def to_representation(self, value: Any) -> dict[str, str] | None:
        minor, unit = value
        return None if minor is None else money(minor, unit)


@extend_schema_field(OpenApiTypes.STR)
class IdOut(serializers.Field):
    """An id: an opaque string (clients must not parse it or assume it is a number)."""

    def __init__(self, **kwargs: Any):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return None if value is None else str(value)


def page_of(serializer: type[serializers.BaseSerializer], name: str) -> serializers.Serializer:
    """The schema of a page of `results` with `next` and `previous` links."""
    from drf_spectacular.utils import inline_serializer

    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(help_text="Rows in all pages."),
            "next": serializers.URLField(allow_null=True, help_text="The next page, or null."),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous page, or null."
            ),
            "results": serializer(many=True),
        },
    )
