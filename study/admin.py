"""The researcher admin: declarative lists; history read-only; actions call services and selectors.

Recruiter ids (``recruiter_id``, ``external_ids``) are shown and searchable only for users with
the ``study.view_external_ids`` permission. Collected data (consent records, trials, ratings,
feedback, events, the audit log) cannot be edited here.
"""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from study import exports, services
from study.models import (
    AdviceItem,
    AuditLog,
    ConsentDocument,
    ConsentRecord,
    Feedback,
    Participant,
    PlaybackEvent,
    Rating,
    Scenario,
    Study,
    Trial,
)

EXTERNAL_ID_FIELDS = ("recruiter_id", "external_ids")


class ReadOnlyAdmin(admin.ModelAdmin):
    """History: viewable, never added, changed or deleted through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _single(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, "Select exactly one study to export.", messages.ERROR)
        return None
    return queryset.get()


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = (
        "slug",
        "title",
        "status",
        "trials_per_participant",
        "participant_count",
        "dashboard_link",
    )
    list_filter = ("status",)
    search_fields = ("slug", "title")
    readonly_fields = ("status", "created_at", "dashboard_link")
    actions = ("open_studies", "close_studies", "download_ratings_csv", "download_events_csv")
    fieldsets = (
        (None, {"fields": ("slug", "title", "status", "dataset_dir", "created_at", "dashboard_link")}),
        (
            "Protocol",
            {
                "fields": (
                    "trials_per_participant",
                    "practice_trials",
                    "instructed_response_check",
                    "min_listening_seconds",
                    "free_text_required",
                    "screening_trials",
                    "screening_pass_threshold",
                    "eligibility_rules",
                    "assignment_timeout_minutes",
                    "closing_questionnaire",
                )
            },
        ),
        ("Recruitment", {"fields": ("recruitment_parameters", "completion_url")}),
    )

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(n_participants=Count("participants"))

    @admin.display(description="participants", ordering="n_participants")
    def participant_count(self, study):
        return study.n_participants

    @admin.display(description="dashboard")
    def dashboard_link(self, study):
        if study.pk is None:
            return "–"
        return format_html('<a href="{}">Dashboard</a>', reverse("study-dashboard", args=[study.slug]))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.audit_log_record(
            actor=request.user,
            action="study_change" if change else "study_add",
            target=obj.slug,
            details={"fields": sorted(form.changed_data)},
        )

    @admin.action(description="Open the selected studies to participants", permissions=["change"])
    def open_studies(self, request, queryset):
        for study in queryset:
            try:
                services.study_open(study=study, actor=request.user)
            except services.StudyRuleError as error:
                self.message_user(request, error.message, messages.ERROR)

    @admin.action(description="Close the selected studies", permissions=["change"])
    def close_studies(self, request, queryset):
        for study in queryset:
            services.study_close(study=study, actor=request.user)

    @admin.action(description="Download ratings (long CSV, people only)", permissions=["view"])
    def download_ratings_csv(self, request, queryset):
        study = _single(self, request, queryset)
        if study is None:
            return None
        services.audit_log_record(actor=request.user, action="export_ratings", target=study.slug)
        response = HttpResponse(exports.ratings_csv_text(study), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-ratings.csv"'
        return response

    @admin.action(description="Download playback events (CSV, people only)", permissions=["view"])
    def download_events_csv(self, request, queryset):
        study = _single(self, request, queryset)
        if study is None:
            return None
        services.audit_log_record(actor=request.user, action="export_events", target=study.slug)
        response = HttpResponse(exports.events_csv_text(study), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-events.csv"'
        return response


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    list_display = ("study", "version", "irb_protocol_number", "retain_on_withdraw", "published_at")
    list_filter = ("study", "retain_on_withdraw")
    list_select_related = ("study",)
    search_fields = ("study__slug", "irb_protocol_number", "text")
    readonly_fields = ("sha256", "published_at", "created_at")
    actions = ("publish", "new_version")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Publish (freeze) the selected drafts", permissions=["change"])
    def publish(self, request, queryset):
        for document in queryset:
            try:
                services.consent_document_publish(document=document, actor=request.user)
            except services.StudyRuleError as error:
                self.message_user(request, error.message, messages.ERROR)

    @admin.action(description="Copy into a new draft version", permissions=["add"])
    def new_version(self, request, queryset):
        for document in queryset:
            copy = services.consent_document_new_version(document=document, actor=request.user)
            self.message_user(request, f"Created draft {copy}.")


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ("participant", "document", "created_at")
    list_filter = ("document__study", "document__version")
    list_select_related = ("participant", "document__study")
    date_hierarchy = "created_at"


class TrialInline(admin.TabularInline):
    model = Trial
    fields = (
        "position",
        "item",
        "state",
        "is_practice",
        "instructed_response",
        "listened_seconds",
        "submitted_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item__scenario")


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ("pseudonym", "study", "state", "simulated", "started_at", "completed_at", "withdrawn_at")
    list_filter = ("study", "state", "simulated", "screening_passed", "eligible")
    list_select_related = ("study",)
    date_hierarchy = "started_at"
    inlines = (TrialInline,)
    actions = ("withdraw",)
    exclude = ("assignment_seed",)

    def _sees_external_ids(self, request):
        return request.user.has_perm("study.view_external_ids")

    def get_search_fields(self, request):
        base = ("code", "completion_code")
        return (*base, "recruiter_id") if self._sees_external_ids(request) else base

    def get_exclude(self, request, obj=None):
        hidden = () if self._sees_external_ids(request) else EXTERNAL_ID_FIELDS
        return (*self.exclude, *hidden)

    def get_readonly_fields(self, request, obj=None):
        fields = [
            field.name for field in Participant._meta.fields if field.name not in self.get_exclude(request)
        ]
        return (*fields, "pseudonym")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Withdraw the selected participants (deletes their data per consent)")
    def withdraw(self, request, queryset):
        for participant in queryset:
            services.participant_withdraw(participant=participant)
            services.audit_log_record(
                actor=request.user, action="participant_withdraw_by_researcher", target=participant.pseudonym
            )


class AdviceItemInline(admin.TabularInline):
    model = AdviceItem
    fields = ("system", "text", "direction_accuracy", "mean_abs_error_db", "is_attention_check")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ("scenario_id", "study", "song", "genre", "split", "anchor")
    list_filter = ("study", "genre", "split", "anchor")
    list_select_related = ("study",)
    search_fields = ("scenario_id", "song")
    readonly_fields = ("study", "scenario_id", "stems", "gains_db", "corrections_db", "audio", "audio_sha256")
    inlines = (AdviceItemInline,)


@admin.register(AdviceItem)
class AdviceItemAdmin(admin.ModelAdmin):
    list_display = (
        "label",
        "system",
        "direction_accuracy",
        "all_directions_correct",
        "mean_abs_error_db",
        "is_attention_check",
    )
    list_filter = ("scenario__study", "system", "is_attention_check", "all_directions_correct")
    list_select_related = ("scenario",)
    search_fields = ("scenario__scenario_id", "text")
    readonly_fields = (
        "scenario",
        "system",
        "text",
        "corrections_db",
        "generator",
        "direction_accuracy",
        "all_directions_correct",
        "intensity_accuracy",
        "mean_abs_error_db",
        "master_gain_db",
    )


class RatingInline(admin.TabularInline):
    model = Rating
    fields = ("dimension", "score", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Trial)
class TrialAdmin(ReadOnlyAdmin):
    list_display = (
        "participant",
        "position",
        "item",
        "state",
        "is_practice",
        "instructed_response",
        "submitted_at",
    )
    list_filter = ("participant__study", "state", "is_practice", "item__system")
    list_select_related = ("participant", "item__scenario")
    inlines = (RatingInline,)


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ("trial", "dimension", "score", "created_at")
    list_filter = ("trial__participant__study", "dimension", "score", "trial__item__system")
    list_select_related = ("trial__participant", "trial__item__scenario")


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("trial", "text", "created_at")
    list_filter = ("trial__participant__study",)
    list_select_related = ("trial__participant", "trial__item__scenario")
    search_fields = ("text",)


@admin.register(PlaybackEvent)
class PlaybackEventAdmin(ReadOnlyAdmin):
    list_display = ("trial", "kind", "state", "audio_time", "client_time", "server_time")
    list_filter = ("trial__participant__study", "kind", "state")
    list_select_related = ("trial__participant", "trial__item__scenario")


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "target")
    list_filter = ("action",)
    list_select_related = ("actor",)
    search_fields = ("target", "action")
    date_hierarchy = "created_at"
