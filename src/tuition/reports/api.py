"""REST endpoints of reports: report types and their columns, running a report (the file,
streamed), background exports, and saved definitions. Provider only: an API key with the
`reports` scope, or a staff session."""

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from tuition.api.access import parse_id
from tuition.api.base import ApiView, IdOut, PageQuery, errors, page_of
from tuition.api.fields import StrictCharField, StrictSerializer
from tuition.api.models import SCOPE_REPORTS

from . import runner, services
from .errors import ExportNotFoundError, ExportNotReadyError, SavedReportNotFoundError
from .models import ReportExport, ReportFormat, ReportType, SavedReport
from .registry import MAX_COLUMNS, listed_reports
from .views import export_file_response


class ReportsView(ApiView):
    scopes = {
        "GET": SCOPE_REPORTS,
        "POST": SCOPE_REPORTS,
        "PATCH": SCOPE_REPORTS,
        "DELETE": SCOPE_REPORTS,
    }
    provider_only = "*"


class ColumnOut(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["text", "amount", "date", "int"])


class ReportTypeOut(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    columns = ColumnOut(many=True)
    default_columns = serializers.ListField(child=serializers.CharField())
    filters = serializers.ListField(child=serializers.CharField())
    statuses = serializers.ListField(child=serializers.CharField())
    kinds = serializers.ListField(child=serializers.CharField())


class ReportTypesView(ReportsView):
    @extend_schema(
        operation_id="reports_types", responses={200: ReportTypeOut(many=True), **errors()}
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        return Response([r.as_dict() for r in listed_reports()])


class FiltersIn(StrictSerializer):
    """Report filters (which ones a report takes: GET /reports/types). Dates are days
    (YYYY-MM-DD) in the provider's time zone, or instants with an offset."""

    from_ = StrictCharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    to = StrictCharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    at = StrictCharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    account = StrictCharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    unit = StrictCharField(max_length=16, required=False, allow_blank=True, allow_null=True)
    status = StrictCharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    kind = StrictCharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    item = StrictCharField(
        max_length=60,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="`activity:<id>` or `group:<id>`.",
    )

    def get_fields(self):  # type: ignore[no-untyped-def]
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class RunIn(StrictSerializer):
    type = serializers.ChoiceField(choices=ReportType.choices)
    columns = serializers.ListField(
        child=StrictCharField(max_length=60), required=False, max_length=MAX_COLUMNS
    )
    filters = FiltersIn(required=False)
    format = serializers.ChoiceField(choices=ReportFormat.choices, required=False, default="csv")


class ExportOut(serializers.Serializer):
    id = IdOut()
    type = serializers.CharField(source="report_type")
    columns = serializers.ListField(child=serializers.CharField())
    filters = serializers.DictField(child=serializers.CharField())
    format = serializers.CharField()
    status = serializers.CharField()
    filename = serializers.CharField()
    row_count = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    download = serializers.SerializerMethodField()

    def get_download(self, export: ReportExport) -> str | None:
        if export.status != ReportExport.Status.READY:
            return None
        return reverse("v1:report-export-download", args=[str(export.pk)])


class ReportRunView(ReportsView):
    @extend_schema(
        operation_id="reports_run",
        request=RunIn,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The CSV file (UTF-8 text). Generated clients: the parsed body is "
                "the text; the raw bytes of any format are the response's content.",
            ),
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiResponse(OpenApiTypes.BINARY, description="The XLSX file"),
            202: OpenApiResponse(ExportOut, description="A large XLSX: built by the worker"),
            **errors(notes={400: "Also: an unknown column or filter, or a bad filter value."}),
        },
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        data = RunIn(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        spec = runner.prepare(
            report_type=body["type"],
            columns=body.get("columns"),
            filters=body.get("filters"),
            format=body["format"],
        )
        if runner.needs_worker(spec):
            who = self.caller()
            export = services.request_export(
                report_type=spec.report.key,
                columns=spec.column_keys,
                filters=spec.raw_filters,
                format=spec.format,
                actor=who.actor,
                user=who.user,
            )
            return Response(ExportOut(export).data, status=status.HTTP_202_ACCEPTED)
        return runner.file_response(spec)


def _export(export_id: Any) -> ReportExport:
    pk = parse_id(export_id)
    export = ReportExport.objects.filter(pk=pk).first() if pk else None
    if export is None:
        raise ExportNotFoundError()
    return export


class ReportExportView(ReportsView):
    @extend_schema(operation_id="reports_export", responses={200: ExportOut, **errors(404)})
    def get(self, request, export_id):  # type: ignore[no-untyped-def]
        return Response(ExportOut(_export(export_id)).data)


class ReportExportDownloadView(ReportsView):
    @extend_schema(
        operation_id="reports_export_download",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="A CSV file (UTF-8 text)"
            ),
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiResponse(OpenApiTypes.BINARY, description="An XLSX file"),
            **errors(404, 409, notes={409: "`export_not_ready`."}),
        },
    )
    def get(self, request, export_id):  # type: ignore[no-untyped-def]
        export = _export(export_id)
        if export.status != ReportExport.Status.READY or not export.file:
            raise ExportNotReadyError(details={"status": export.status})
        services.note_export_download(export_id=export.pk, actor=self.caller().actor)
        return export_file_response(export)


class SavedIn(StrictSerializer):
    name = StrictCharField(max_length=200)
    type = serializers.ChoiceField(choices=ReportType.choices)
    columns = serializers.ListField(
        child=StrictCharField(max_length=60), required=False, max_length=MAX_COLUMNS
    )
    filters = FiltersIn(required=False)


class SavedPatchIn(StrictSerializer):
    name = StrictCharField(max_length=200, required=False)
    columns = serializers.ListField(
        child=StrictCharField(max_length=60), required=False, max_length=MAX_COLUMNS
    )
    filters = FiltersIn(required=False)


class SavedOut(serializers.Serializer):
    id = IdOut()
    name = serializers.CharField()
    type = serializers.CharField(source="report_type")
    columns = serializers.ListField(child=serializers.CharField())
    filters = serializers.DictField(child=serializers.CharField())
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _saved(report_id: Any) -> SavedReport:
    pk = parse_id(report_id)
    saved = SavedReport.objects.filter(pk=pk).first() if pk else None
    if saved is None:
        raise SavedReportNotFoundError()
    return saved


class SavedReportListView(ReportsView):
    queries = {"GET": PageQuery}

    @extend_schema(
        operation_id="reports_saved_list",
        responses={200: page_of(SavedOut, "SavedReportPage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        return self.paginated(SavedReport.objects.order_by("name", "id"), SavedOut)

    @extend_schema(
        operation_id="reports_saved_create", request=SavedIn, responses={201: SavedOut, **errors()}
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        data = SavedIn(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        who = self.caller()
        saved = services.save_report(
            name=body["name"],
            report_type=body["type"],
            columns=body.get("columns"),
            filters=body.get("filters"),
            actor=who.actor,
            owner=who.user,
        )
        return Response(SavedOut(saved).data, status=status.HTTP_201_CREATED)


class SavedReportDetailView(ReportsView):
    @extend_schema(operation_id="reports_saved_get", responses={200: SavedOut, **errors(404)})
    def get(self, request, report_id):  # type: ignore[no-untyped-def]
        return Response(SavedOut(_saved(report_id)).data)

    @extend_schema(
        operation_id="reports_saved_update",
        request=SavedPatchIn,
        responses={200: SavedOut, **errors(404)},
    )
    def patch(self, request, report_id):  # type: ignore[no-untyped-def]
        saved = _saved(report_id)
        data = SavedPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.update_saved_report(
            report_id=saved.pk, actor=self.caller().actor, **data.validated_data
        )
        return Response(SavedOut(saved).data)

    @extend_schema(operation_id="reports_saved_delete", responses={204: None, **errors(404)})
    def delete(self, request, report_id):  # type: ignore[no-untyped-def]
        saved = _saved(report_id)
        services.delete_saved_report(report_id=saved.pk, actor=self.caller().actor)
        return Response(status=status.HTTP_204_NO_CONTENT)
