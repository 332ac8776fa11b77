from django.urls import path

from disputes import views

app_name = "disputes"
urlpatterns = [
    path("", views.dispute_list, name="dispute-list"),
    path("open/<str:payment_id>/", views.dispute_open, name="dispute-open"),
    path("<str:dispute_id>/", views.dispute_detail, name="dispute-detail"),
    path("<str:dispute_id>/evidence/", views.dispute_evidence, name="dispute-evidence"),
    path("<str:dispute_id>/evidence/files/", views.dispute_evidence_file, name="dispute-evidence-file"),
    path(
        "<str:dispute_id>/evidence/files/<str:file_id>/",
        views.dispute_evidence_file_download,
        name="dispute-evidence-file-download",
    ),
    path("<str:dispute_id>/accept/", views.dispute_accept, name="dispute-accept"),
]
