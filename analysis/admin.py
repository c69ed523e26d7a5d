"""Researcher admin for stored metric scores and the judge's call log (read-only: scores come from score_advice)."""

from django.contrib import admin

from analysis.models import JudgeCall, MetricScore


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MetricScore)
class MetricScoreAdmin(ReadOnlyAdmin):
    list_display = ("advice_item", "metric", "value", "computed_at")
    list_filter = ("metric", "advice_item__system", "advice_item__scenario__study")
    search_fields = ("advice_item__scenario__scenario_id", "advice_item__system", "metric")
    list_select_related = ("advice_item__scenario",)
    readonly_fields = ("advice_item", "metric", "value", "computed_at")


@admin.register(JudgeCall)
class JudgeCallAdmin(ReadOnlyAdmin):
    list_display = ("item", "dimension", "model", "score", "latency_s", "created_at")
    list_filter = ("dimension", "model", "backend")
    search_fields = ("item", "prompt_sha256", "raw_reply")
    readonly_fields = (
        "model",
        "backend",
        "prompt_sha256",
        "item",
        "dimension",
        "raw_reply",
        "score",
        "latency_s",
        "created_at",
    )
