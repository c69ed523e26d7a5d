"""Every write of the study app. Keyword-only, atomic, named <thing>_<action>."""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

DEMO_RESEARCHER = "researcher"


@transaction.atomic
def demo_researcher_ensure(*, username=DEMO_RESEARCHER):
    """Create the demo researcher once; return (username, password).

    The password is generated on first use and kept in ``DATA_DIR/demo-researcher.json``
    (git-ignored) so that reruns of ``make demo`` print the same credentials.
    """
    credentials_file = settings.DATA_DIR / "demo-researcher.json"
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if credentials_file.is_file() and user is not None:
        stored = json.loads(credentials_file.read_text(encoding="utf-8"))
        if user.check_password(stored["password"]):
            return username, stored["password"]
    password = secrets.token_urlsafe(12)
    if user is None:
        user = User(username=username, email=f"{username}@example.org")
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    credentials_file.write_text(json.dumps({"username": username, "password": password}), encoding="utf-8")
    credentials_file.chmod(0o600)
    return username, password
