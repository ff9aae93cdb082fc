"""Issue a kubeconfig for the live simulated cluster (or revoke one).

    manage.py kubeconfig instructor                 # cluster-admin, like kind's own kubeconfig
    manage.py kubeconfig student alice -o alice.yaml   # namespace student-alice of her own
    manage.py kubeconfig viewer bob                 # read-only everywhere (no Secrets)
    manage.py kubeconfig --revoke alice

Each call makes a new token; the previous kubeconfig of that name stops working within seconds.
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dashboard.kubeapi.kubeconfig import AccessError, issue
from dashboard.models import ClusterAccess


class Command(BaseCommand):
    help = "Print (or write) a kubeconfig for the live simulated cluster's API; --revoke NAME withdraws one."

    def add_arguments(self, parser):
        parser.add_argument("role", nargs="?", choices=["instructor", "student", "viewer"])
        parser.add_argument("name", nargs="?", help="the student's or viewer's name (lowercase, digits, '-')")
        parser.add_argument("-o", "--output", help="write the kubeconfig to this file (mode 600)")
        parser.add_argument("--revoke", metavar="NAME", help="delete NAME's access (its token stops working)")

    def handle(self, *args, role=None, name=None, output=None, revoke=None, **options):
        if revoke:
            deleted, _ = ClusterAccess.objects.filter(name=revoke).delete()
            if not deleted:
                raise CommandError(f"no access named {revoke!r}")
            self.stderr.write(f"Revoked {revoke!r}.")
            return
        if role is None:
            raise CommandError("give a role: instructor, student NAME or viewer NAME (or --revoke NAME)")
        if role == "instructor":
            name = name or "instructor"
        elif not name:
            raise CommandError(f"a {role} needs a name: manage.py kubeconfig {role} NAME")
        try:
            _access, text = issue(name, role)
        except AccessError as exc:
            raise CommandError(str(exc))
        if output:
            path = Path(output)
            path.touch(mode=0o600, exist_ok=True)
            path.chmod(0o600)
            path.write_text(text)
            self.stderr.write(f"Wrote {path} ({role} {name!r}). Use it with: KUBECONFIG={path} kubectl get nodes")
        else:
            self.stdout.write(text, ending="")
