"""The composition root: what pages showing several apps are made of.

Each app contributes its navigation entries, home panels and demo-seed steps in its
`AppConfig.ready()`; the home page (config.views), the navigation (config.context_processors)
and `seed_demo` read them from here. So `performance` never imports `rewards` or `coaching`
to show their points or coaching on an agent's home, and this module imports no app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

User = AbstractBaseUser | AnonymousUser


def everyone(user: User) -> bool:
    return True


@dataclass(frozen=True)
class NavEntry:
    """A link in the main navigation. Where several visible entries claim the page being
    shown, the last one (in order) is marked current: the most specific one."""

    label: str | Promise
    url_name: str
    order: int
    visible: Callable[[User], bool] = everyone
    current_on: frozenset[str] = frozenset()


@dataclass(frozen=True)
class HomePanel:
    """A part of the home page: a template rendered with `panel` = context(request)."""

    name: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int
    visible: Callable[[User], bool] = everyone


@dataclass(frozen=True)
class DemoOptions:
    """What `seed_demo` was asked for, and where a step reports."""

    days: int
    agents: int
    seed: int
    log: Callable[[str], None]
    success: Callable[[str], None]


@dataclass(frozen=True)
class DemoStep:
    """A part of the demo seed; steps run in order (an app's data after what it reads).
    A step raises ValueError for options it cannot honour."""

    name: str
    run: Callable[[DemoOptions], None]
    order: int


@dataclass
class Composition:
    nav_entries: list[NavEntry] = field(default_factory=list)
    home_panels: list[HomePanel] = field(default_factory=list)
    demo_steps: list[DemoStep] = field(default_factory=list)

    def contribute(
        self,
        *,
        nav: Iterable[NavEntry] = (),
        home: Iterable[HomePanel] = (),
        demo: Iterable[DemoStep] = (),
    ) -> None:
        """Add an app's contributions; adding the same ones again changes nothing."""
        for known, new in (
            (self.nav_entries, nav),
            (self.home_panels, home),
            (self.demo_steps, demo),
        ):
            known.extend(item for item in new if item not in known)
            known.sort(key=lambda item: item.order)

    def navigation_for(self, user: User) -> list[NavEntry]:
        return [entry for entry in self.nav_entries if entry.visible(user)]

    def home_panels_for(self, user: User) -> list[HomePanel]:
        return [panel for panel in self.home_panels if panel.visible(user)]


# The home page is config's own (config.views.home); the apps add the rest.
composition = Composition(
    nav_entries=[NavEntry(_("Home"), "home", 0, current_on=frozenset({"home"}))]
)
