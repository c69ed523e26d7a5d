from django.apps import AppConfig


class StudyConfig(AppConfig):
    verbose_name = "Listening study"
    default_auto_field = "django.db.models.BigAutoField"
    name = "study"
