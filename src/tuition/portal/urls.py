from django.urls import path

from . import approvals, automatic, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("catalog/", views.catalog, name="catalog"),
    path("catalog/<str:kind>/<int:pk>/", views.item, name="item"),
    path("checkout/<str:kind>/<int:pk>/", views.checkout_page, name="checkout"),
    path("checkout/<str:kind>/<int:pk>/quote/", views.checkout_quote, name="quote"),
    path("orders/<str:number>/", views.order, name="order"),
    path("orders/<str:number>/<str:kind>/", views.document, name="document"),
    path("orders/<str:number>/<str:kind>/pdf/", views.document_pdf, name="document_pdf"),
    path("learning/", views.learning, name="learning"),
    path("profile/", views.profile, name="profile"),
    path(
        "learning/<int:registration_id>/activity/<int:activity_id>/sessions/",
        views.sessions_for,
        name="sessions",
    ),
    path(
        "learning/<int:registration_id>/activity/<int:activity_id>/unenroll/",
        views.unenroll,
        name="unenroll",
    ),
    path("learning/<int:registration_id>/cancel/", views.cancel, name="cancel"),
    path("manage/", views.manage_index, name="manage"),
    path("manage/<int:account_id>/", views.account_overview, name="account"),
    path("manage/<int:account_id>/transactions/", views.account_transactions, name="transactions"),
    path("manage/<int:account_id>/usage/", views.account_usage, name="usage"),
    path("manage/<int:account_id>/refill/", views.account_refill, name="refill"),
    path(
        "manage/<int:account_id>/automatic-refills/",
        automatic.set_automatic_refill,
        name="automatic_refill_set",
    ),
    path(
        "manage/<int:account_id>/automatic-refills/<int:rule_id>/pause/",
        automatic.pause_automatic_refill,
        name="automatic_refill_pause",
    ),
    path(
        "manage/<int:account_id>/automatic-refills/<int:rule_id>/resume/",
        automatic.resume_automatic_refill,
        name="automatic_refill_resume",
    ),
    path(
        "manage/<int:account_id>/automatic-refills/<int:rule_id>/delete/",
        automatic.delete_automatic_refill,
        name="automatic_refill_delete",
    ),
    path("manage/<int:account_id>/members/", views.account_members, name="members"),
    path(
        "manage/<int:account_id>/members/<int:membership_id>/balance/",
        views.member_balance,
        name="member_balance",
    ),
    path(
        "manage/<int:account_id>/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("manage/<int:account_id>/codes/", views.account_codes, name="codes"),
    path(
        "manage/<int:account_id>/codes/<int:code_id>/reveal/", views.code_reveal, name="code_reveal"
    ),
    path(
        "manage/<int:account_id>/codes/<int:code_id>/rotate/", views.code_rotate, name="code_rotate"
    ),
    path("manage/<int:account_id>/book/", views.account_book, name="book"),
    path("manage/<int:account_id>/approvals/", approvals.approvals_page, name="approvals"),
    path("manage/<int:account_id>/approvals/rules/", approvals.rules_page, name="approval_rules"),
    path(
        "manage/<int:account_id>/approvals/<int:hold_id>/<str:verdict>/",
        approvals.decide,
        name="decide",
    ),
]
