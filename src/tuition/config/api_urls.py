from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tuition import ledger_api as ledger
from tuition.accounts import api as accounts
from tuition.autorefills import api as autorefills
from tuition.catalog import api as catalog
from tuition.checkout import api as checkout
from tuition.checkout import approvals_api as approvals
from tuition.checkout import usage_api
from tuition.codes import api as codes
from tuition.notifications import api as notifications
from tuition.reports import api as reports

v1 = [
    path("units", ledger.UnitListView.as_view(), name="units"),
    path("units/<str:unit_id>", ledger.UnitDetailView.as_view(), name="unit"),
    path("accounts", accounts.AccountListView.as_view(), name="accounts"),
    path("accounts/<str:account_id>", accounts.AccountDetailView.as_view(), name="account"),
    path(
        "accounts/<str:account_id>/members",
        accounts.MemberListView.as_view(),
        name="account-members",
    ),
    path(
        "accounts/<str:account_id>/members/<str:member_id>",
        accounts.MemberDetailView.as_view(),
        name="account-member",
    ),
    path(
        "accounts/<str:account_id>/balances",
        accounts.BalancesView.as_view(),
        name="account-balances",
    ),
    path(
        "accounts/<str:account_id>/forecast",
        accounts.ForecastView.as_view(),
        name="account-forecast",
    ),
    path("credits", codes.CreditListView.as_view(), name="credits"),
    path("credits/bulk", codes.CreditBulkView.as_view(), name="credits-bulk"),
    path("credits/<str:lot_id>", codes.CreditDetailView.as_view(), name="credit"),
    path("credits/<str:lot_id>/history", codes.CreditHistoryView.as_view(), name="credit-history"),
    path(
        "credits/<str:lot_id>/adjustments",
        ledger.AdjustmentListView.as_view(),
        name="credit-adjustments",
    ),
    path(
        "accounts/<str:account_id>/refills", checkout.RefillView.as_view(), name="account-refills"
    ),
    path(
        "accounts/<str:account_id>/approval-rules",
        approvals.ApprovalRulesView.as_view(),
        name="account-approval-rules",
    ),
    path("holds", approvals.HoldListView.as_view(), name="holds"),
    path("holds/<str:hold_id>/approve", approvals.HoldApproveView.as_view(), name="hold-approve"),
    path("holds/<str:hold_id>/decline", approvals.HoldDeclineView.as_view(), name="hold-decline"),
    path(
        "accounts/<str:account_id>/automatic-refills",
        autorefills.RuleListView.as_view(),
        name="account-automatic-refills",
    ),
    path(
        "accounts/<str:account_id>/automatic-refills/<str:unit>",
        autorefills.RuleDetailView.as_view(),
        name="account-automatic-refill",
    ),
    path(
        "accounts/<str:account_id>/automatic-refills/<str:unit>/pause",
        autorefills.RulePauseView.as_view(),
        name="account-automatic-refill-pause",
    ),
    path(
        "accounts/<str:account_id>/automatic-refills/<str:unit>/resume",
        autorefills.RuleResumeView.as_view(),
        name="account-automatic-refill-resume",
    ),
    path(
        "accounts/<str:account_id>/automatic-refills/<str:unit>/firings",
        autorefills.FiringListView.as_view(),
        name="account-automatic-refill-firings",
    ),
    path("checkout/quote", checkout.QuoteView.as_view(), name="checkout-quote"),
    path("checkout", checkout.CheckoutView.as_view(), name="checkout"),
    path("registrations", checkout.RegistrationListView.as_view(), name="registrations"),
    path(
        "registrations/<str:registration_id>",
        checkout.RegistrationDetailView.as_view(),
        name="registration",
    ),
    path(
        "registrations/<str:registration_id>/reschedule",
        checkout.RescheduleView.as_view(),
        name="registration-reschedule",
    ),
    path(
        "registrations/<str:registration_id>/book",
        checkout.BookView.as_view(),
        name="registration-book",
    ),
    path(
        "registrations/<str:registration_id>/unenroll",
        checkout.UnenrollView.as_view(),
        name="registration-unenroll",
    ),
    path(
        "registrations/<str:registration_id>/cancel",
        checkout.CancelView.as_view(),
        name="registration-cancel",
    ),
    path("orders", checkout.OrderListView.as_view(), name="orders"),
    path("orders/<str:order_id>", checkout.OrderDetailView.as_view(), name="order"),
    path(
        "orders/<str:order_id>/refunds", checkout.OrderRefundsView.as_view(), name="order-refunds"
    ),
    path(
        "orders/<str:order_id>/receipt", checkout.OrderReceiptView.as_view(), name="order-receipt"
    ),
    path(
        "orders/<str:order_id>/invoice", checkout.OrderInvoiceView.as_view(), name="order-invoice"
    ),
    path("transactions", ledger.TransactionListView.as_view(), name="transactions"),
    path(
        "transactions/<str:transfer_id>", ledger.TransactionDetailView.as_view(), name="transaction"
    ),
    path("reports/types", reports.ReportTypesView.as_view(), name="report-types"),
    path("reports/run", reports.ReportRunView.as_view(), name="report-run"),
    path(
        "reports/exports/<str:export_id>", reports.ReportExportView.as_view(), name="report-export"
    ),
    path(
        "reports/exports/<str:export_id>/download",
        reports.ReportExportDownloadView.as_view(),
        name="report-export-download",
    ),
    path("reports/saved", reports.SavedReportListView.as_view(), name="reports-saved"),
    path(
        "reports/saved/<str:report_id>",
        reports.SavedReportDetailView.as_view(),
        name="report-saved",
    ),
    path("accounts/<str:account_id>/usage", usage_api.UsageView.as_view(), name="account-usage"),
    path("codes", codes.CodeListView.as_view(), name="codes"),
    path("codes/<str:code_id>", codes.CodeDetailView.as_view(), name="code"),
    path("codes/<str:code_id>/rotate", codes.CodeRotateView.as_view(), name="code-rotate"),
    path("coupons", codes.CouponListView.as_view(), name="coupons"),
    path("coupons/<str:coupon_id>", codes.CouponDetailView.as_view(), name="coupon"),
    path("activities", catalog.ActivityListView.as_view(), name="activities"),
    path("activities/<str:activity_id>", catalog.ActivityDetailView.as_view(), name="activity"),
    path("groups", catalog.GroupListView.as_view(), name="groups"),
    path("groups/<str:group_id>", catalog.GroupDetailView.as_view(), name="group"),
    path("sessions", catalog.SessionListView.as_view(), name="sessions"),
    path("sessions/<str:session_id>", catalog.SessionDetailView.as_view(), name="session"),
    path("webhooks", notifications.WebhookListView.as_view(), name="webhooks"),
    path(
        "webhooks/<str:subscription_id>", notifications.WebhookDetailView.as_view(), name="webhook"
    ),
    path(
        "webhooks/<str:subscription_id>/rotate-secret",
        notifications.WebhookRotateSecretView.as_view(),
        name="webhook-rotate-secret",
    ),
    path(
        "webhooks/<str:subscription_id>/deliveries",
        notifications.WebhookDeliveryListView.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<str:subscription_id>/deliveries/<str:delivery_id>/resend",
        notifications.WebhookResendView.as_view(),
        name="webhook-delivery-resend",
    ),
]

urlpatterns = [
    path("v1/", include((v1, "v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI from our own static files, its start script a separate file: the page runs
    # under the site's CSP (no CDN, no inline script or style). docs/decisions/0009.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/docs.html", title="Tuition API"
        ),
        name="api-docs",
    ),
]
