"""The roles of DESIGN.md's table, the one word each for who a user is: a core module, so that the
API's shared permissions and the notifications read them without importing accounts (where
`User.role` keeps them, and `accounts.models.Role` still names them)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    AGENCY = "agency", _("Agency reviewer")
    OPERATOR = "operator", _("Operator")
    OFFICER = "officer", _("Regulator officer")
    AUDITOR = "auditor", _("Auditor")
