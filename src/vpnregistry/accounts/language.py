"""Each person's language: stored on their account, so that what is made for them away from their own
request (an email, a notification, a document a worker prints) is in the language they read.

The portal's language switch (portal/views.py `set_language`) stores the choice on the account of
a person signed in with every step of their login; a choice made before that (on the login page, or
while the TOTP code is still owed) is kept in the session and stored once the login is whole. A
sign-up or an accepted invitation stores the language the person was reading in.

At a login in a browser that has no language yet (no language cookie: the switch was not used in
this browser session, and no login set one) the stored language becomes the browser's (the cookie,
set on the login's response by `LoginLanguageMiddleware`): a choice made on a phone follows the
person to a new device. A browser already reading in a language keeps it: the person chose it there
(just before logging in, it becomes the account's too, being the newer choice), or a person before
them did on a shared computer, whose pages should not change language under them. A request still
decides the language of its own answer: the cookie, or `Accept-Language` (the API's callers send
that, and a token carries no session).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model

from vpnregistry.accounts.middleware import fully_signed_in
from vpnregistry.language import codes, current, default, of, speaking, supported  # noqa: F401 (for callers)

# Set on a request by `restore_at_login`; the middleware turns it into the language cookie.
LOGIN_LANGUAGE_ATTR = "_vpnregistry_login_language"
# In the session: a language chosen with the switch that is not yet stored on the account (chosen
# before the login, or before its second step); stored once the login is whole.
CHOSEN_KEY = "vpnregistry.language.chosen"


def remember(user, code: str) -> bool:
    """Store `code` as the user's language; True when it changed. Unknown codes are not stored."""
    code = supported(code)
    if code is None or not getattr(user, "pk", None):
        return False
    # One statement, whatever the object in hand holds (a request's user may be older than the row).
    changed = get_user_model().objects.filter(pk=user.pk).exclude(language=code).update(language=code)
    user.language = code
    return bool(changed)


def choose(request, code: object) -> None:
    """The switch was used (the cookie is the view's): store the choice on the account of a person
    signed in with every step of their login; anyone else's is kept in the session, for the account
    they log in to (a session still owing its TOTP code has not yet proved to be the account's
    holder). Nothing for an unknown code."""
    code = supported(code)
    if code is None or not hasattr(request, "session"):
        return
    if fully_signed_in(request):
        remember(request.user, code)
        request.session.pop(CHOSEN_KEY, None)
    else:
        request.session[CHOSEN_KEY] = code


def restore_at_login(sender, request, user, **kwargs) -> None:
    """`user_logged_in`: the stored language becomes the browser's, by the login's response, when the
    browser has none yet. A language chosen in this session before logging in stays (and becomes the
    account's once the login is whole: `LoginLanguageMiddleware`), as does one the browser reads in
    already (see the module's docstring).

    Nothing is activated here: the login's own response is a redirect, and a test's login must not
    change the language of the thread that calls it.
    """
    if request is None or not hasattr(request, "session"):
        return
    chosen = supported(request.session.get(CHOSEN_KEY))
    in_use = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if chosen is None and in_use is None:
        setattr(request, LOGIN_LANGUAGE_ATTR, of(user))


class LoginLanguageMiddleware:
    """On the response to a login, the language cookie set to the account's language (as Django's
    `set_language` view sets it); and a language chosen in the session before the login was whole
    stored on the account once it is."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        code = getattr(request, LOGIN_LANGUAGE_ATTR, None)
        if code:
            set_cookie(response, code)
        self._adopt_choice(request)
        return response

    @staticmethod
    def _adopt_choice(request) -> None:
        user = getattr(request, "user", None)  # read by every answer already (NoStoreMiddleware)
        if user is None or not user.is_authenticated or not hasattr(request, "session"):
            return
        chosen = request.session.get(CHOSEN_KEY)
        if chosen and fully_signed_in(request):
            remember(user, chosen)
            del request.session[CHOSEN_KEY]


def set_cookie(response, code: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
