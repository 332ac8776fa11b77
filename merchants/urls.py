from django.urls import path

from merchants import views, views_team

app_name = "settings"
urlpatterns = [
    path("", views.merchant_settings_page, name="merchant-settings"),
    path("ops/", views.merchant_settings_ops, name="ops"),
    path("team/", views_team.team_page, name="team"),
    path("team/invites/", views_team.team_invite, name="team-invite"),
    path("team/invites/<str:invite_id>/revoke/", views_team.team_invite_revoke, name="team-invite-revoke"),
    path("team/members/<int:membership_id>/role/", views_team.team_member_role, name="team-member-role"),
    path("team/members/<int:membership_id>/remove/", views_team.team_member_remove, name="team-member-remove"),
]
