"""The admin site: regulator officers edit reference data (categories, their documents, agencies,
places, services, rejection reasons), each name in English and Urdu.

Access goes by role, not by Django's staff flag or model permissions: an active officer may use it,
nobody else (a superuser created by `createsuperuser` for setting up is let in too). Every change is
written to the audit log.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from vpnregistry.accounts.models import Role
from vpnregistry.audit.services import record


def is_regulator(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (getattr(user, "role", None) == Role.OFFICER or user.is_superuser)
    )


class RegistryAdminSite(admin.AdminSite):
    site_header = _("vpnregistry: reference data")
    site_title = _("vpnregistry admin")
    index_title = _("Categories, documents and agencies")

    def has_permission(self, request):
        return is_regulator(request.user)

    def register(self, model_or_iterable, admin_class=None, **options):
        # Only the registry's reference data is edited here: other apps' models (groups, tokens, login
        # attempts, authenticators) have commands and pages of their own.
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else list(model_or_iterable)
        models = [m for m in models if m._meta.app_label in {"accounts", "applications", "restrictions"}]
        if models:
            super().register(models, admin_class, **options)

    def login(self, request, extra_context=None):
        # One way in: the portal's login, with its lockout (and whatever else it asks of staff).
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index", current_app=self.name)
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url, login_url=reverse("portal:login"))

    def get_urls(self):
        # No "view on site" redirects: no registry object has a public page of its own.
        return [u for u in super().get_urls() if getattr(u, "name", None) != "view_on_site"]


def _plain(obj) -> dict:
    data = model_to_dict(obj)
    return {k: (str(v) if not isinstance(v, int | str | bool | type(None)) else v) for k, v in data.items()}


class RegulatorAdmin(admin.ModelAdmin):
    """Officers may view and change; every save and delete is audited."""

    def has_module_permission(self, request):
        return is_regulator(request.user)

    def has_view_permission(self, request, obj=None):
        return is_regulator(request.user)

    has_add_permission = has_module_permission

    def has_change_permission(self, request, obj=None):
        return is_regulator(request.user)

    has_delete_permission = has_change_permission

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(
            actor=request.user,
            action=f"admin.{obj._meta.model_name}.{'change' if change else 'add'}",
            obj=obj,
            data={"changed": sorted(form.changed_data)},
        )

    def delete_model(self, request, obj):
        record(actor=request.user, action=f"admin.{obj._meta.model_name}.delete", obj=obj, data=_plain(obj))
        super().delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        # The inlines (a category's document requirements): each added, changed or deleted row audited.
        # A deleted row loses its primary key when deleted: note it first.
        pks = {id(f.instance): f.instance.pk for f in formset.deleted_forms}
        super().save_formset(request, form, formset, change)
        parent = {"parent": f"{form.instance._meta.model_name}:{form.instance.pk}"}
        for obj in formset.new_objects:
            record(actor=request.user, action=f"admin.{obj._meta.model_name}.add", obj=obj, data=parent)
        for obj, fields in formset.changed_objects:
            record(
                actor=request.user,
                action=f"admin.{obj._meta.model_name}.change",
                obj=obj,
                data={**parent, "changed": sorted(fields)},
            )
        for obj in formset.deleted_objects:
            record(
                actor=request.user,
                action=f"admin.{obj._meta.model_name}.delete",
                object_type=obj._meta.model_name,
                object_id=str(pks.get(id(obj), "")),
                data={**parent, "was": str(obj)},
            )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class RegulatorInline(admin.TabularInline):
    def has_view_permission(self, request, obj=None):
        return is_regulator(request.user)

    has_add_permission = has_view_permission
    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission
