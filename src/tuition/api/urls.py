from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from tuition.accounts import api as accounts
from tuition.ledger import api as ledger

v1 = [
    path("units", ledger.UnitListView.as_view(), name="units"),
    path("units/<str:unit_id>", ledger.UnitDetailView.as_view(), name="unit"),
    path("accounts", accounts.AccountListView.as_view(), name="accounts"),
    path("accounts/<str:account_id>", accounts.AccountDetailView.as_view(), name="account"),
    path("accounts/<str:account_id>/members", accounts.MemberListView.as_view(),
         name="account-members"),
    path("accounts/<str:account_id>/members/<str:member_id>",
         accounts.MemberDetailView.as_view(), name="account-member"),
    path("accounts/<str:account_id>/balances", accounts.BalancesView.as_view(),
         name="account-balances"),
    path("credits/<str:lot_id>/adjustments", ledger.AdjustmentListView.as_view(),
         name="credit-adjustments"),
    path("transactions", ledger.TransactionListView.as_view(), name="transactions"),
    path("transactions/<str:transfer_id>", ledger.TransactionDetailView.as_view(),
         name="transaction"),
]

urlpatterns = [
    path("v1/", include((v1, "v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
]
