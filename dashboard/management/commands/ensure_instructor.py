"""Create the instructor account if it is missing (contract section 8).

User name: DASHBOARD_INSTRUCTOR_USER (default "instructor"). Password: DASHBOARD_INSTRUCTOR_PASSWORD, or a
random one printed once, on creation. An existing user is left as it is (its permission is made sure of)
and nothing is printed.
"""
import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the instructor user with the dashboard.instructor permission if it does not exist."

    def handle(self, *args, **options):
        username = settings.DASHBOARD_INSTRUCTOR_USER
        User = get_user_model()
        permission = Permission.objects.get(content_type__app_label="dashboard", codename="instructor")
        user = User.objects.filter(username=username).first()
        if user is not None:
            # Say nothing: the launcher then reminds where the password came from.
            user.user_permissions.add(permission)
            return
        given = os.environ.get("DASHBOARD_INSTRUCTOR_PASSWORD", "")
        password = given or secrets.token_urlsafe(12)
        user = User.objects.create_user(username=username, password=password)
        user.user_permissions.add(permission)
        if given:
            self.stdout.write(f"Created instructor account {username!r} (password from DASHBOARD_INSTRUCTOR_PASSWORD).")
        else:
            self.stdout.write(f"Created instructor account {username!r} with password: {password}")
