"""Messages about feeds (a rejected row's reason, why a file failed) kept as an English msgid
with its parameters, so each reader sees them in their own language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext

# What stands for a NUL character in stored text (PostgreSQL text cannot hold one).
NUL_STAND_IN = "\ufffd"


def printable(text: str) -> str:
    """Text as it can be stored: NUL characters replaced."""
    return text.replace("\x00", NUL_STAND_IN) if "\x00" in text else text


@dataclass(frozen=True)
class Message:
    # Marked with gettext_noop where it is written, so makemessages finds it.
    msgid: str
    params: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Parameters quote what a file holds, and are stored.
        if any("\x00" in value for value in self.params.values()):
            object.__setattr__(
                self, "params", {key: printable(value) for key, value in self.params.items()}
            )

    def __str__(self) -> str:
        """In English: the text stored beside the msgid and shown where no language applies."""
        return self.msgid % self.params if self.params else self.msgid

    def translated(self) -> str:
        return render_message(self.as_json(), str(self))

    def as_json(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": self.params}


def render_message(stored: dict[str, Any] | None, fallback: str) -> str:
    """A stored message in the active language; `fallback` (the English text) for rows stored
    before messages were kept, or whose parameters no longer fit."""
    if not stored or not stored.get("msgid"):
        return fallback
    params = stored.get("params") or {}
    try:
        return gettext(stored["msgid"]) % params if params else gettext(stored["msgid"])
    except (KeyError, TypeError, ValueError):
        return fallback
