"""Reference data the regulator edits: agencies, categories (routing, limits, documents), document types,
provinces and districts, and the operators' names; each name in English and in Urdu (`name_ur`)."""

from django.contrib import admin

from vpnregistry.accounts.admin_site import RegulatorAdmin, RegulatorInline
from vpnregistry.accounts.models import (
    Agency,
    Category,
    District,
    DocumentRequirement,
    DocumentType,
    Operator,
    Province,
)


@admin.register(Agency)
class AgencyAdmin(RegulatorAdmin):
    list_display = ["code", "name", "name_ur"]
    search_fields = ["code", "name", "name_ur"]


class DocumentRequirementInline(RegulatorInline):
    model = DocumentRequirement
    extra = 0
    filter_horizontal = ["document_types"]
    fields = ["position", "name", "name_ur", "document_types"]


@admin.register(Category)
class CategoryAdmin(RegulatorAdmin):
    list_display = ["code", "name", "name_ur", "agency", "min_len_v4", "min_len_v6"]
    search_fields = ["code", "name", "name_ur"]
    list_filter = ["agency"]
    autocomplete_fields = ["agency"]
    inlines = [DocumentRequirementInline]


@admin.register(DocumentType)
class DocumentTypeAdmin(RegulatorAdmin):
    list_display = ["code", "name", "name_ur", "needs_expiry"]
    search_fields = ["code", "name", "name_ur"]


class KeptAdmin(RegulatorAdmin):
    """Rows others refer to (resources, registrations, restriction events): never deleted here."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Province)
class ProvinceAdmin(KeptAdmin):
    list_display = ["code", "name", "name_ur"]
    search_fields = ["code", "name", "name_ur"]


@admin.register(District)
class DistrictAdmin(KeptAdmin):
    list_display = ["code", "name", "name_ur", "province"]
    list_filter = ["province"]
    search_fields = ["code", "name", "name_ur"]


@admin.register(Operator)
class OperatorAdmin(KeptAdmin):
    """Only an operator's names: operators are set up with `createstaff`, their space by its workflow."""

    list_display = ["code", "name", "name_ur", "kind"]
    search_fields = ["code", "name", "name_ur"]
    fields = ["code", "kind", "name", "name_ur"]
    readonly_fields = ["code", "kind"]

    def has_add_permission(self, request):
        return False
