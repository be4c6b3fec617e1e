from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.builder, name="builder"),
    path("save", views.save, name="save"),
    path("saved/<int:report_id>/delete", views.delete_saved, name="delete-saved"),
    path("exports/<int:export_id>/", views.export_status, name="export"),
    path("exports/<int:export_id>/download", views.export_download, name="export-download"),
    path("accounts/<int:account_id>/statement", views.account_statement, name="account-statement"),
    path("accounts/<int:account_id>/usage", views.account_usage, name="account-usage"),
]
