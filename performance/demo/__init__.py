"""The demo organisation behind `seed_demo`: people, teams, feed sources, standards and months
of facts loaded through the one ingest service."""

from performance.demo.organisation import (
    ADMIN_LOGIN,
    AGENT_LOGIN,
    DEMO_LOGINS,
    DEMO_TEAMS,
    LEAD_LOGIN,
    MONITOR_LOGIN,
    DemoLogin,
    DemoSeedResult,
    demo_logins_present,
    demo_organisation_exists,
    demo_people,
)
from performance.demo.seed import demo_organisation_seed
from performance.demo.standards import DEMO_STANDARDS, demo_standards

__all__ = [
    "ADMIN_LOGIN",
    "AGENT_LOGIN",
    "DEMO_LOGINS",
    "DEMO_STANDARDS",
    "DEMO_TEAMS",
    "LEAD_LOGIN",
    "MONITOR_LOGIN",
    "DemoLogin",
    "DemoSeedResult",
    "demo_logins_present",
    "demo_organisation_exists",
    "demo_organisation_seed",
    "demo_people",
    "demo_standards",
]
