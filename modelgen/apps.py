from django.apps import AppConfig


class ModelgenConfig(AppConfig):
    verbose_name = "Dataset and model"
    default_auto_field = "django.db.models.BigAutoField"
    name = "modelgen"
