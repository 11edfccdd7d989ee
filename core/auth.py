"""Sign-in policy: who may sign up, and which roles must use a second factor."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        """Staff and app accounts are provisioned by the retailer (admin, seed, import)."""
        return False


def mfa_required(user) -> bool:
    roles = settings.AFTERCARE_MFA_REQUIRED_ROLES
    if not roles or not user.is_authenticated:
        return False
    return user.has_role(*roles)


def mfa_satisfied(user) -> bool:
    return not mfa_required(user) or Authenticator.objects.filter(user=user).exists()
