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
from tuition.core.errors import ValidationError

from .access import Caller, ScopePermission, caller
from .models import ApiKey
from .pagination import CursorlessPagination


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class ErrorEnvelope(serializers.Serializer):
    error = ErrorDetail()


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Documented refusals of an operation (all share the §4 envelope)."""
    described = {
        400: "validation_error",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        409: "conflict",
        413: "payload_too_large",
        415: "unsupported_media_type",
        422: "unprocessable",
        429: "too_many_attempts",
        503: "service_unavailable",
    }
    wanted = sorted({400, 401, 403, *statuses})
    return {
        s: OpenApiResponse(ErrorEnvelope, description=described.get(s, "error")) for s in wanted
    }


IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A unique key per intended change (e.g. a UUID). A retry with the same key "
    "and body returns the first answer with `Idempotent-Replayed: true`.",
)


class ApiView(APIView):
    permission_classes = [IsAuthenticated, ScopePermission]
    scopes: dict[str, str] = {}
    provider_only: Any = ()

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

    def caller(self) -> Caller:
        return caller(self.request)

    def paginated(
        self, queryset: Any, serializer: type[serializers.BaseSerializer], **context: Any
    ) -> Response:
        paginator = CursorlessPagination()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer(page, many=True, context={"request": self.request, **context}).data
        return paginator.get_paginated_response(data)


@extend_schema_field(OpenApiTypes.STR)
class AmountOut(serializers.Field):
    """Minor units rendered as a decimal string in the unit's precision."""

    def __init__(self, *, unit_attr: str = "unit", **kwargs: Any):
        self.unit_attr = unit_attr
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        value = super().get_attribute(instance)
        unit = instance
        for part in self.unit_attr.split("."):
            unit = getattr(unit, part)
        return (value, unit.decimals)

    def to_representation(self, value: Any) -> str | None:
        minor, decimals = value
        return None if minor is None else format_amount(minor, decimals=decimals)


@extend_schema_field(OpenApiTypes.STR)
class IdOut(serializers.Field):
    def __init__(self, **kwargs: Any):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return None if value is None else str(value)


def page_of(serializer: type[serializers.BaseSerializer], name: str) -> serializers.Serializer:
    """The schema of a page of `results` with a `next` link."""
    from drf_spectacular.utils import inline_serializer

    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.CharField(allow_null=True),
            "previous": serializers.CharField(allow_null=True),
            "results": serializer(many=True),
        },
    )
