"""The demo's service standards, close to common industry targets, named as a Brazilian
contact centre names them."""

from __future__ import annotations

from datetime import date

from performance.models import (
    ServiceStandard,
)
from performance.services.standards import standard_save

# --- standards ---------------------------------------------------------------------------

# Close to common industry targets; AHT is gated on CSAT: speed never pays when quality fails.
DEMO_STANDARDS = (
    {
        "name": "CSAT semanal ≥ 80 %",
        "metric": "csat",
        "period": "week",
        "target": 80,
        "stretch_target": 90,
        "min_sample": 10,
        "points_met": 30,
        "points_exceeded": 50,
    },
    {
        "name": "Resolução no primeiro contato ≥ 70 %",
        "metric": "fcr",
        "period": "week",
        "target": 70,
        "stretch_target": 80,
        "min_sample": 20,
        "points_met": 30,
        "points_exceeded": 50,
    },
    {
        "name": "Nível de serviço do chat (80 em 60 s)",
        "metric": "sla",
        "channel": "chat",
        "period": "day",
        "threshold_seconds": 60,
        "target": 80,
        "stretch_target": 90,
        "min_sample": 5,
        "points_met": 5,
        "points_exceeded": 10,
    },
    {
        "name": "Primeira resposta por e-mail em até 4 h",
        "metric": "frt",
        "channel": "email",
        "period": "week",
        "target": 4 * 3600,
        "stretch_target": 2 * 3600,
        "min_sample": 5,
        "points_met": 20,
        "points_exceeded": 30,
    },
    {
        "name": "TMA do telefone ≤ 6 min",
        "metric": "aht",
        "channel": "phone",
        "period": "week",
        "target": 360,
        "stretch_target": 300,
        "min_sample": 10,
        "points_met": 20,
        "points_exceeded": 30,
        "gate": "CSAT semanal ≥ 80 %",
    },
    {
        "name": "Nota de monitoria mensal ≥ 85",
        "metric": "qa",
        "period": "month",
        "target": 85,
        "stretch_target": 92,
        "min_sample": 3,
        "points_met": 50,
        "points_exceeded": 80,
    },
    {
        "name": "NPS mensal ≥ 30",
        "metric": "nps",
        "period": "month",
        "target": 30,
        "stretch_target": 50,
        "min_sample": 10,
        "points_met": 50,
        "points_exceeded": 80,
    },
)


def demo_standards(*, active_from: date) -> list[ServiceStandard]:
    """The demo's default standards (created once; existing ones are left as they are)."""
    standards: dict[str, ServiceStandard] = {}
    for spec in DEMO_STANDARDS:
        fields = dict(spec)
        gate = fields.pop("gate", None)
        standard = ServiceStandard.objects.filter(name=fields["name"]).first()
        if standard is None:
            standard = ServiceStandard(
                active_from=active_from,
                quality_gate=standards.get(gate) if gate else None,
                **fields,
            )
            standard.full_clean(exclude=["teams"])
            standard_save(standard=standard, rescore=False)  # the seed evaluates everything
        standards[standard.name] = standard
    return list(standards.values())
