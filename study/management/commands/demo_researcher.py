"""Create (or keep) the demo researcher account and print its credentials."""

from django.core.management.base import BaseCommand

from study.services import demo_researcher_ensure


class Command(BaseCommand):
    help = "Create the demo researcher account once and print its username and password."

    def handle(self, *args, **options):
        username, password = demo_researcher_ensure()
        self.stdout.write(f"Researcher account: username {username!r}, password {password!r}")
