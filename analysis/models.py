"""Stored analysis results: automatic metric scores per advice item, and the LLM judge's call log."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from study.dimensions import DIMENSION_NAMES


class MetricScore(models.Model):
    """One automatic metric's value for one advice item; NULL value = missing (never 0)."""

    advice_item = models.ForeignKey(
        "study.AdviceItem", on_delete=models.CASCADE, related_name="metric_scores"
    )
    metric = models.CharField(max_length=64, help_text="Registered metric name (analysis.metrics).")
    value = models.FloatField(
        null=True, blank=True, help_text="Empty when the metric could not score the item."
    )
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["advice_item", "metric"], name="analysis_metricscore_once_per_item"
            ),
        ]
        indexes = [models.Index(fields=["metric"], name="analysis_metricscore_metric")]
        ordering = ["advice_item_id", "metric"]

    def __str__(self):
        return f"{self.metric}={self.value} for item {self.advice_item_id}"


class JudgeCall(models.Model):
    """One answered call to an LLM judge; also the cache keyed by (model, prompt hash, item)."""

    model = models.CharField(max_length=300, help_text="Served model name, or the local model folder.")
    backend = models.CharField(max_length=32)
    prompt_sha256 = models.CharField(max_length=64, help_text="Hash of messages, temperature and max_tokens.")
    item = models.CharField(max_length=300, help_text="Advice item id, <scenario_id>:<system>.")
    dimension = models.CharField(max_length=32, choices=[(name, name) for name in DIMENSION_NAMES])
    raw_reply = models.TextField(blank=True)
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1–5; empty when the reply was not in the strict format."
    )
    latency_s = models.FloatField(help_text="Seconds from request to reply, retries included.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "prompt_sha256", "item"], name="analysis_judgecall_once_per_prompt"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=1) & Q(score__lte=5)),
                name="analysis_judgecall_score_range",
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.model} {self.dimension} {self.item}: {self.score}"
