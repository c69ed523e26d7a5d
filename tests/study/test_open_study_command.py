import pytest
from django.core.management import CommandError, call_command

from study.models import Study
from tests.factories import ConsentDocumentFactory, study_with_items

pytestmark = pytest.mark.django_db


def test_a_draft_study_is_opened_after_its_draft_consent_is_published(capsys):
    study = study_with_items(scenarios=2, consent=False, status="draft")
    draft = ConsentDocumentFactory(study=study, sha256="", published_at=None)
    call_command("open_study", slug=study.slug, publish_consent=True)
    study.refresh_from_db()
    draft.refresh_from_db()
    assert study.status == Study.Status.OPEN
    assert draft.published_at is not None and len(draft.sha256) == 64
    assert f"Study '{study.slug}' is open." in capsys.readouterr().out


def test_opening_twice_changes_nothing():
    study = study_with_items(scenarios=2, status="draft")
    call_command("open_study", slug=study.slug, publish_consent=True)
    published = study.consent_documents.get().published_at
    call_command("open_study", slug=study.slug, publish_consent=True)
    assert study.consent_documents.get().published_at == published


def test_without_a_published_consent_the_study_stays_closed_with_a_clear_error():
    study = study_with_items(scenarios=2, consent=False, status="draft")
    ConsentDocumentFactory(study=study, sha256="", published_at=None)
    with pytest.raises(CommandError, match="no published consent document"):
        call_command("open_study", slug=study.slug)
    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT


def test_an_unknown_study_is_named():
    with pytest.raises(CommandError, match="No study with slug 'nope'"):
        call_command("open_study", slug="nope")
