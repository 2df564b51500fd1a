"""How a QA answer reads on a page: yes / no / not applicable in the reader's language, a
scale answer as its number, an unanswered item as a dash."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def qa_answer(answer: str) -> str:
    match answer:
        case "yes":
            return gettext("Yes")
        case "no":
            return gettext("No")
        case "na":
            return gettext("Not applicable")
        case "":
            return "—"
        case _:
            return answer
