"""Demo data for `make run`: two customer organizations with a user each and an sb_admin.

Passwords are generated afresh on every run and printed: the demo never ships a fixed secret.
When the Instantly sandbox is available, campaigns, mailboxes and traffic come from it
(`instantly.demo`), so every page shows something real. (It lives in `instantly`, the top
layer, because it seeds every app.)
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from accounts.models import Membership, Organization
from accounts.roles import SB_ADMIN, MemberRole
from instantly.demo import email_latest_notifications, load_demo_traffic

DEMO_ORGS = (
    ("acme", "Acme Outreach", "alice", MemberRole.OWNER),
    ("bluebird", "Bluebird Growth", "bob", MemberRole.MEMBER),
)


class Command(BaseCommand):
    help = "Create or refresh the demo organizations and users, and print their logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-traffic", action="store_true", help="Only users, no sandbox data."
        )
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="Where the pages will be served."
        )

    def handle(self, *args, **options):
        User = get_user_model()
        logins = []
        orgs, users = [], []
        for slug, name, username, role in DEMO_ORGS:
            org, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": name})
            orgs.append(org)
            user = self._user(User, username, logins)
            users.append(user)
            Membership.objects.update_or_create(
                user=user, organization=org, defaults={"role": role}
            )
        admin = self._user(User, "admin", logins, is_staff=True)
        admin.groups.add(Group.objects.get(name=SB_ADMIN))

        if not options["no_traffic"]:
            summary = load_demo_traffic(orgs, stdout=self.stdout)
            self.stdout.write(summary)
            # alice (the first customer's owner) is opted in to email: the console prints them.
            sent = email_latest_notifications(orgs[0], users[0])
            self.stdout.write(f"{sent} notification email(s) to {users[0].username} (console).")

        self.stdout.write(self.style.SUCCESS("\nDemo logins (passwords change on every run):"))
        for username, password, what in logins:
            self.stdout.write(f"  {username:<8} {password}   {what}")
        url = options["url"].rstrip("/")
        self.stdout.write(f"Customer pages: {url}/   Operator console: {url}/admin/\n")

    def _user(self, User, username, logins, is_staff=False):
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@demo.salesbrain.local"}
        )
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.is_staff = is_staff
        user.save()
        what = "sb_admin (operator console)" if is_staff else "customer"
        logins.append((username, password, what))
        return user
