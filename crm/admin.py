"""Django's admin at /platform/ is for platform operators: create shops and their owners.
Shop data (customers, orders) is deliberately not registered here."""

from django.contrib import admin

from . import services
from .models import AuditLog, Membership, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # New shops go through the service so every app seeds its default lists.
        created = services.tenant_create(name=obj.name, slug=obj.slug)
        obj.pk = created.pk
        obj._state = created._state


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "tenant", "actor", "action", "object_repr"]
    list_filter = ["action"]
    list_select_related = ["tenant", "actor"]
    readonly_fields = [f.name for f in AuditLog._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
