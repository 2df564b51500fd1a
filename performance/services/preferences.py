"""What a person chooses for themselves: today the interface language."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from performance.models import UserPreference


def user_preference_set_language(*, user: AbstractBaseUser, language: str) -> UserPreference:
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"{language!r} is not one of {sorted(dict(settings.LANGUAGES))}")
    preference, _created = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return preference
