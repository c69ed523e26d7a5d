from django.db import migrations, models
import django.utils.timezone


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="JudgeCall",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("model", models.CharField(help_text="Served model name, or the local model folder.", max_length=300)),
                ("backend", models.CharField(max_length=32)),
                (
                    "prompt_sha256",
                    models.CharField(help_text="Hash of messages, temperature and max_tokens.", max_length=64),
                ),
                ("item", models.CharField(help_text="Advice item id, <scenario_id>:<system>.", max_length=300)),
                (
                    "dimension",
                    models.CharField(
                        choices=[
                            ("effectiveness", "effectiveness"),
                            ("musicality", "musicality"),
                            ("conventions", "conventions"),
                            ("actionability", "actionability"),
                            ("helpfulness", "helpfulness"),
                        ],
                        max_length=32,
                    ),
                ),
                ("raw_reply", models.TextField(blank=True)),
                (
                    "score",
                    models.PositiveSmallIntegerField(
                        blank=True, help_text="1–5; empty when the reply was not in the strict format.", null=True
                    ),
                ),
                ("latency_s", models.FloatField(help_text="Seconds from request to reply, retries included.")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["-created_at"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("model", "prompt_sha256", "item"), name="analysis_judgecall_once_per_prompt"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("score__isnull", True), models.Q(("score__gte", 1), ("score__lte", 5)), _connector="OR"),
                        name="analysis_judgecall_score_range",
                    ),
                ],
            },
        ),
    ]
