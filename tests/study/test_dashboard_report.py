import pytest
from django.core.management import call_command

from study.dashboard import report_path
from tests.factories import study_with_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def study():
    return study_with_items(scenarios=6, slug="pilot")


def test_without_a_report_the_dashboard_says_how_to_build_one(client, researcher, study):
    client.force_login(researcher)
    html = client.get(f"/researcher/studies/{study.slug}/").content.decode()
    assert "python manage.py analysis_report --study pilot" in html
    assert client.get(f"/researcher/studies/{study.slug}/report/").status_code == 404


def test_the_dashboard_links_the_latest_report_and_serves_it_to_staff(client, researcher, study):
    path = report_path(study)
    path.parent.mkdir(parents=True)
    path.write_text("<html><body>pilot report</body></html>")
    client.force_login(researcher)
    html = client.get(f"/researcher/studies/{study.slug}/").content.decode()
    assert 'id="report-link"' in html
    response = client.get(f"/researcher/studies/{study.slug}/report/")
    assert response.status_code == 200
    assert b"pilot report" in b"".join(response.streaming_content)


def test_the_report_is_not_served_to_an_outsider(client, outsider, study):
    path = report_path(study)
    path.parent.mkdir(parents=True)
    path.write_text("<html>secret</html>")
    client.force_login(outsider)
    response = client.get(f"/researcher/studies/{study.slug}/report/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_analysis_report_for_a_study_writes_where_the_dashboard_looks(study, settings):
    call_command("simulate_ratings", study=study.slug, participants=16, seed=1)
    call_command("analysis_report", study=study.slug, include_simulated=True, resamples=2000, no_svg=True)
    assert report_path(study).is_file()
