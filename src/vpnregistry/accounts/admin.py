"""Reference data the regulator edits: agencies, categories (routing, limits, documents), document types."""

from django.contrib import admin

from vpnregistry.accounts.models import Agency, Category, DocumentRequirement, DocumentType
from vpnregistry.admin_site import RegulatorAdmin, RegulatorInline


@admin.register(Agency)
class AgencyAdmin(RegulatorAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class DocumentRequirementInline(RegulatorInline):
    model = DocumentRequirement
    extra = 0
    filter_horizontal = ["document_types"]
    fields = ["position", "name", "document_types"]


@admin.register(Category)
class CategoryAdmin(RegulatorAdmin):
    list_display = ["code", "name", "agency", "min_len_v4", "min_len_v6"]
    list_filter = ["agency"]
    autocomplete_fields = ["agency"]
    inlines = [DocumentRequirementInline]


@admin.register(DocumentType)
class DocumentTypeAdmin(RegulatorAdmin):
    list_display = ["code", "name", "needs_expiry"]
    search_fields = ["code", "name"]
