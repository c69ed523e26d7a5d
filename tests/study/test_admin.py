"""The researcher admin: every model listed without N+1, history read-only, external ids gated."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from study import services
from study.models import ConsentDocument
from tests.factories import ResearcherFactory, good_ratings, participant_in_trials

MODELS = (
    "study",
    "consentdocument",
    "consentrecord",
    "participant",
    "scenario",
    "adviceitem",
    "trial",
    "rating",
    "feedback",
    "playbackevent",
    "auditlog",
)


@pytest.fixture
def group_researcher(db):
    user = ResearcherFactory(username="group-researcher")
    user.groups.add(services.researcher_group_ensure())
    return user


@pytest.fixture
def busy_study(study):
    for index in range(8):
        participant = participant_in_trials(study, external_ids={"PROLIFIC_PID": f"pid-{index}"})
        trial = participant.trials.get(position=1)
        services.trial_submit(trial=trial, ratings=good_ratings(), feedback="fine", listened_seconds=9.0)
    return study


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_a_changelist_without_n_plus_one_queries(
    client, group_researcher, busy_study, model, django_assert_max_num_queries
):
    client.force_login(group_researcher)
    with django_assert_max_num_queries(20):
        response = client.get(reverse(f"admin:study_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.django_db
def test_recruiter_ids_need_the_dedicated_permission(client, group_researcher, participant):
    url = reverse("admin:study_participant_change", args=[participant.pk])
    client.force_login(group_researcher)
    assert "persona-pid" not in client.get(url).content.decode()
    assert (
        not client.get(reverse("admin:study_participant_changelist"), {"q": "persona-pid"})
        .context["cl"]
        .result_count
    )
    group_researcher.user_permissions.add(Permission.objects.get(codename="view_external_ids"))
    client.force_login(group_researcher)
    assert "persona-pid" in client.get(url).content.decode()


@pytest.mark.django_db
def test_a_published_consent_cannot_be_changed_in_the_admin(admin_client, study):
    document = study.consent_documents.get()
    url = reverse("admin:study_consentdocument_change", args=[document.pk])
    response = admin_client.post(
        url, {"study": study.pk, "version": 1, "text": "rewritten", "statements": "[]"}
    )
    assert response.status_code == 403
    assert ConsentDocument.objects.get(pk=document.pk).text != "rewritten"


@pytest.mark.django_db
def test_ratings_cannot_be_edited_in_the_admin(admin_client, busy_study):
    from study.models import Rating

    rating = Rating.objects.first()
    url = reverse("admin:study_rating_change", args=[rating.pk])
    assert admin_client.post(url, {"score": 1}).status_code == 403
    assert admin_client.get(reverse("admin:study_rating_add")).status_code == 403


@pytest.mark.django_db
def test_the_export_action_downloads_the_ratings(admin_client, busy_study):
    response = admin_client.post(
        reverse("admin:study_study_changelist"),
        {"action": "download_ratings_csv", "_selected_action": [busy_study.pk]},
    )
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    assert response.content.decode().count("\n") == 1 + 8 * 5


@pytest.mark.django_db
def test_the_publish_action_freezes_a_draft_and_logs_it(admin_client, study):
    draft = services.consent_document_new_version(document=study.consent_documents.get())
    admin_client.post(
        reverse("admin:study_consentdocument_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.published_at is not None and len(draft.sha256) == 64
    assert study.consent_documents.get(version=2).records.count() == 0


@pytest.mark.django_db
def test_migrate_leaves_a_researcher_group_without_the_external_ids_permission():
    from django.contrib.auth.models import Group

    group = Group.objects.get(name=services.RESEARCHER_GROUP)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"view_rating", "view_participant", "change_study"} <= codenames
    assert "view_external_ids" not in codenames and "delete_rating" not in codenames
