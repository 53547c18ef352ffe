"""Signing in and out, and a new password by email: Django's own views (so django-axes counts and
locks out failed sign-ins as it does for the API), in the pages' style."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from web.forms import NewPasswordForm, ResetRequestForm, SignInForm

sign_in = auth_views.LoginView.as_view(
    template_name="web/auth/sign_in.html",
    authentication_form=SignInForm,
    redirect_authenticated_user=True,
)


class SignOutView(auth_views.LogoutView):
    """Signing out is a POST (the header's button), so a link cannot sign anyone out; someone
    who opens /sign-out/ itself is asked, with the same button."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render(request, "web/auth/sign_out.html")


sign_out = SignOutView.as_view()
password_reset = auth_views.PasswordResetView.as_view(
    template_name="web/auth/password_reset.html",
    form_class=ResetRequestForm,
    email_template_name="web/auth/password_reset_email.txt",
    subject_template_name="web/auth/password_reset_subject.txt",
    success_url=reverse_lazy("web:password-reset-sent"),
)
password_reset_sent = auth_views.PasswordResetDoneView.as_view(
    template_name="web/auth/password_reset_sent.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="web/auth/password_reset_confirm.html",
    form_class=NewPasswordForm,
    success_url=reverse_lazy("web:password-reset-done"),
)
password_reset_done = auth_views.PasswordResetCompleteView.as_view(
    template_name="web/auth/password_reset_done.html"
)
