"""Routes of the login's second step and of setting up an authenticator."""

from django.urls import path

from vpnregistry.portal import views_two_factor as views

urlpatterns = [
    path("login/otp/", views.login_otp, name="login-otp"),
    path("account/two-factor/", views.account_two_factor, name="account-two-factor"),
]
