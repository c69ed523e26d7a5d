"""Tasks the queue workers run (django-q2, ORM broker; start workers with ``manage.py qcluster``)."""


def advisor_job_run(job_id):
    """Run advisor job ``job_id``; the queue calls this by its dotted path."""
    from modelgen.advisor_service import job_run

    return job_run(job_id=job_id)
