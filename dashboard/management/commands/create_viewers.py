"""Viewer accounts for a class that must log in (DASHBOARD_VIEWERS_MUST_LOG_IN=1): watch-only users, each
with a random password printed once, as `name password` lines an instructor can hand out.

    manage.py create_viewers alice bob            # these names
    manage.py create_viewers --count 40           # student01 ... student40 (--prefix to change "student")

An existing user is left unchanged and reported; nobody gets the instructor permission.
"""
import re
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

NAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,150}$")   # Django's username characters


class Command(BaseCommand):
    help = "Create watch-only viewer accounts and print their passwords."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="user names to create")
        parser.add_argument("--count", type=int, default=0, help="create PREFIX01 ... PREFIXnn (1-500)")
        parser.add_argument("--prefix", default="student", help='name prefix for --count (default "student")')

    def handle(self, *args, names, count, prefix, **options):
        if count and names:
            raise CommandError("give either names or --count, not both")
        if not 0 <= count <= 500:
            raise CommandError("--count must be between 1 and 500")
        if count:
            width = max(2, len(str(count)))
            names = [f"{prefix}{i:0{width}d}" for i in range(1, count + 1)]
        if not names:
            raise CommandError("give user names, or --count N")
        bad = [n for n in names if not NAME.match(n)]
        if bad:
            raise CommandError(f"not a valid user name: {bad[0]!r} (letters, digits and _ . @ + - only)")
        User = get_user_model()
        for name in names:
            if User.objects.filter(username=name).exists():
                self.stdout.write(f"{name} exists (unchanged)")
                continue
            password = secrets.token_urlsafe(9)
            User.objects.create_user(username=name, password=password)
            self.stdout.write(f"{name} {password}")
