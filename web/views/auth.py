"""Signing in and out, and a new password by email: Django's own views (so django-axes counts and
locks out failed sign-ins as it does for the API), in the pages' style."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy

from members.models import User
from members.two_factor import staff_two_factor_state
from messaging.services import password_reset_by_text
from web.forms import NewPasswordForm, ResetRequestForm, SignInForm
from web.views.base import landing_for
from web.views.two_factor import sign_in_pending


class SignInView(auth_views.LoginView):
    """Django's sign-in; without a `next`, each person lands on their own pages (staff at the
    console, helpers at their feed, members at home), not all at /my/."""

    template_name = "web/auth/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        """Staff with two-factor on give their code on a second page before they are signed
        in (web/views/two_factor.py); everyone else is signed in now."""
        user = form.get_user()
        staff, on = staff_two_factor_state(user)
        if staff and on:
            sign_in_pending(
                self.request, user, backend=user.backend, next_url=self.get_redirect_url()
            )
            return redirect("web:sign-in-code")
        return super().form_valid(form)

    def get_default_redirect_url(self) -> str:
        user = self.request.user
        return landing_for(user) if isinstance(user, User) else reverse("web:member-home")


sign_in = SignInView.as_view()


def home(request: HttpRequest) -> HttpResponse:
    """The header's "Circle" link: the signed-in person's own start page, else the front page."""
    user = request.user
    if isinstance(user, User) and user.is_authenticated:
        return redirect(landing_for(user))
    return redirect("web:start")


class SignOutView(auth_views.LogoutView):
    """Signing out is a POST (the header's button), so a link cannot sign anyone out; someone
    who opens /sign-out/ itself is asked, with the same button."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render(request, "web/auth/sign_out.html")


sign_out = SignOutView.as_view()


class PasswordResetView(auth_views.PasswordResetView):
    """Django's new password by email; for a mobile number, the same kind of one-time link by
    text (messaging.services.password_reset_by_text) to the login that signs in with it. The
    same "sent" page either way: whether an address or number has a login is not told."""

    def form_valid(self, form: Any) -> HttpResponse:
        value = form.cleaned_data["email"]
        if "@" not in value:
            password_reset_by_text(phone=value)
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


password_reset = PasswordResetView.as_view(
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
