"""Password reset by email and password change: Django's auth views in the site's templates, each
step audited. The new password itself is audited by `audit.auth_events` (`user.password_change`,
never the value); these add who asked for a reset and who completed one."""

from __future__ import annotations

import dataclasses

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from audit.services import audit_record
from core.actor import actor_from_request


class PasswordResetView(auth_views.PasswordResetView):
    """Sends the link to every active account with that email address and a usable password; the page
    says the same whether or not one exists (no account discovery)."""

    template_name = "registration/reset_form.html"
    email_template_name = "registration/reset_email.txt"
    subject_template_name = "registration/reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        users = [user.get_username() for user in form.get_users(form.cleaned_data["email"])]
        audit_record(
            merchant_id=None,
            actor=actor_from_request(self.request),
            action="auth.password_reset_request",
            entity_type="user",
            entity_id=",".join(users) or "-",
            outcome="success" if users else "failure",
            detail=None if users else "no active account with that email address: nothing was sent",
        )
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        actor = dataclasses.replace(actor_from_request(self.request), type="user", id=form.user.get_username())
        audit_record(
            merchant_id=None,
            actor=actor,
            action="auth.password_reset",
            entity_type="user",
            entity_id=form.user.get_username(),
            detail="a new password was set from the emailed link",
        )
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    """The `user.password_change` event records the change (the old password was checked)."""

    template_name = "registration/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is changed.")
        return response


urlpatterns = [
    path("password/reset/", PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/done/", PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password/change/", PasswordChangeView.as_view(), name="password_change"),
]
