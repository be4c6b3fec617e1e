"""Health and metrics endpoints for load balancers, process managers and Prometheus.

GET /health/live    the process answers (touches nothing else): 200 {"status": "ok"}
GET /health/ready   every readiness check (tuition.ops.health): 200 or 503, JSON
                    ?checks=database,migrations narrows it (what a load balancer wants)
GET /metrics        Prometheus text; needs `Authorization: Bearer $TUITION_METRICS_TOKEN`,
                    and is off (404) while that setting is empty
"""

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from . import health, metrics


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    wanted = [n for n in request.GET.get("checks", "").split(",") if n in health.CHECKS]
    ok, results = health.run_checks(wanted or None)
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": results}, status=200 if ok else 503
    )


@never_cache
@require_GET
def prometheus(request: HttpRequest) -> HttpResponse:
    token = settings.TUITION.get("METRICS_TOKEN", "")
    if not token:
        raise Http404
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(presented.encode(), token.encode()):
        response = JsonResponse({"error": "A valid bearer token is required."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.scrape(), content_type=CONTENT_TYPE_LATEST)
