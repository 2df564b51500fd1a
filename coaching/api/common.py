"""What the coaching endpoints share."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def validation_body(error: ValidationError) -> dict[str, list[str]]:
    """A service's refusal as DRF shapes field errors."""
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {"non_field_errors": error.messages}
