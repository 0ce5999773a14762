from django.core.management.base import BaseCommand

from emotion.privacy.retention import purge


class Command(BaseCommand):
    help = ("Delete what is older than its retention period (FER_RETAIN_*_DAYS): uploaded originals, annotated "
            "media, whole analyses, participants' remote sessions, stored live sessions. --dry-run only says what "
            "would go.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted; change nothing")

    def handle(self, *args, dry_run=False, **options):
        report = purge(dry_run=dry_run)
        for line in report.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("Dry run: nothing was deleted.")
