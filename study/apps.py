from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _researcher_group_ensure(sender, using, **kwargs):
    from study.services import researcher_group_ensure

    researcher_group_ensure(using=using)


class StudyConfig(AppConfig):
    verbose_name = "Listening study"
    default_auto_field = "django.db.models.BigAutoField"
    name = "study"

    def ready(self):
        # After every migrate (the study's permissions exist by then): the researcher group.
        post_migrate.connect(_researcher_group_ensure, sender=self, dispatch_uid="study_researcher_group")
