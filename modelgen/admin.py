"""Researcher admin for advisor jobs: who asked what, how it went, which stems were given."""

from django.contrib import admin

from modelgen.models import AdvisorJob, AdvisorStem


class AdvisorStemInline(admin.TabularInline):
    model = AdvisorStem
    extra = 0
    can_delete = False
    fields = (
        "position",
        "original_name",
        "role",
        "audio_format",
        "sample_rate",
        "channels",
        "frames",
        "size_bytes",
    )
    readonly_fields = fields


@admin.register(AdvisorJob)
class AdvisorJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "owner",
        "source",
        "advisor",
        "anchor",
        "state",
        "progress",
        "purged_at",
    )
    list_filter = ("state", "advisor", "source", "anchor")
    search_fields = ("token", "owner__username", "demo_scenario", "advice_text")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    inlines = [AdvisorStemInline]
    readonly_fields = [field.name for field in AdvisorJob._meta.fields]
