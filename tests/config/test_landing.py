import pytest

from study.services import demo_researcher_ensure


def test_the_landing_page_links_to_study_advisor_and_admin(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/advisor/" in html
    assert "/admin/" in html
    assert "listening study" in html


def test_the_openapi_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi" in response.content


def test_the_demo_researcher_keeps_its_password_across_runs_and_can_log_in(client, db):
    first = demo_researcher_ensure()
    second = demo_researcher_ensure()
    assert first == second
    assert client.login(username=first[0], password=first[1])
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_visitor_sees_what_the_platform_is_in_a_real_browser(page):
    page.goto("/")
    assert page.title().startswith("MixAdvice")
    heading = page.get_by_role("heading", level=1)
    assert "mixing advice" in heading.inner_text()
    page.get_by_role("link", name="Try the advisor").click()
    page.wait_for_url("**/advisor/")
    assert page.get_by_role("heading", level=1).inner_text() == "Try the advisor"


def test_the_suite_runs_on_the_database_that_database_url_names(db, settings):
    import os

    from django.db import connection

    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected
