from django.urls import path

from compliance import views

app_name = "compliance"
urlpatterns = [
    path("", views.compliance_report_view, name="report"),
    path("run/", views.compliance_report_run_now, name="run"),
    path("report.json", views.compliance_report_download, {"fmt": "json"}, name="report-json"),
    path("report.html", views.compliance_report_download, {"fmt": "html"}, name="report-html"),
]
