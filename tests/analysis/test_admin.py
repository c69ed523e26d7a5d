"""The researcher admin lists stored metric scores and judge calls, read-only."""

import pytest
from django.urls import reverse

from analysis.models import JudgeCall, MetricScore
from tests.factories import AdviceItemFactory


@pytest.mark.django_db
def test_metric_scores_and_judge_calls_are_listed_and_cannot_be_added(admin_client):
    item = AdviceItemFactory()
    MetricScore.objects.create(advice_item=item, metric="rouge_l", value=0.42)
    JudgeCall.objects.create(
        model="judge-x",
        backend="openai",
        prompt_sha256="a" * 64,
        item=item.label,
        dimension="effectiveness",
        raw_reply="Score: five",
        score=None,
        latency_s=0.2,
    )
    scores = admin_client.get(reverse("admin:analysis_metricscore_changelist"))
    calls = admin_client.get(reverse("admin:analysis_judgecall_changelist") + "?q=five")
    assert scores.status_code == 200 and "rouge_l" in scores.text
    assert calls.status_code == 200 and "judge-x" in calls.text
    assert admin_client.get(reverse("admin:analysis_metricscore_add")).status_code == 403
