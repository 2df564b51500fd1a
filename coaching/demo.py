"""The demo's coaching sessions, run by the Lisboa lead through the real services: held ones
weeks ago on open weekly flags (written up, acknowledged, their after-periods closed so the
effectiveness shows), one held last week that the demo agent still has to acknowledge,
upcoming ones and a cancelled one."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import translation

from coaching.models import CoachingFlag, CoachingSession
from coaching.services.sessions import (
    action_item_add,
    action_item_set_done,
    session_acknowledge,
    session_cancel,
    session_record,
    session_schedule,
)
from performance.models import Team

NOTES = (
    (
        "Ouvimos juntos duas ligações da semana. Na primeira, o cliente precisou ligar de "
        "novo porque a solução ficou pela metade; combinamos confirmar o entendimento antes "
        "de encerrar o atendimento.",
        "Vai usar o roteiro de confirmação em todas as ligações.",
        "Reouvir 3 ligações com a monitoria",
        "Separar duas ligações exemplares para a próxima conversa",
    ),
    (
        "Revisamos as pesquisas de satisfação com nota baixa. O ponto comum foi a demora "
        "para retornar depois de transferir; o atendente passa a avisar o cliente do prazo.",
        "Avisar prazos de retorno; acompanhar as notas da próxima semana.",
        "Enviar resumo do atendimento por e-mail ao cliente",
        "Rever com a equipe de back-office os prazos de retorno",
    ),
    (
        "Conversamos sobre o TMA alto nas ligações de segunda-feira: muitas consultas ao "
        "sistema de cobrança. Mostrei os atalhos da base de conhecimento.",
        "Usar os atalhos; reavaliar em três semanas.",
        "Marcar os artigos mais usados da base de conhecimento",
        "Pedir ao TI acesso do atendente ao painel de cobrança",
    ),
)


def _at(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _write_up(session: CoachingSession, lead, index: int, *, acknowledged: bool) -> None:
    notes, outcome, agent_item, coach_item = NOTES[index % len(NOTES)]
    day = session.scheduled_at.date()
    session_record(
        session=session,
        notes=notes,
        outcome=outcome,
        follow_up_on=day + timedelta(days=14),
        held=True,
        by=lead,
    )
    first = action_item_add(
        session=session, description=agent_item, owner="agent", due_on=day + timedelta(days=7)
    )
    action_item_add(session=session, description=coach_item, owner="coach", due_on=None)
    if acknowledged:
        action_item_set_done(item=first, done=True)
        session_acknowledge(
            session=session, user=session.agent.user, comment="Combinado, obrigado pelo retorno."
        )


@transaction.atomic
def demo_sessions_seed(today: date) -> dict[str, int]:
    """Returns how many sessions of each status it made (none without the demo lead).
    Agendas are worded in the site's language, as a lead of the demo would write them."""
    with translation.override(settings.LANGUAGE_CODE):
        return _sessions_seed(today)


def _sessions_seed(today: date) -> dict[str, int]:
    lead = get_user_model().objects.filter(username="lead").first()
    team = Team.objects.filter(leads=lead).order_by("name").first() if lead else None
    if team is None:
        return {}
    zone = ZoneInfo(team.time_zone)
    this_monday = _monday(today)
    open_weekly = (
        CoachingFlag.objects.select_related("agent__user", "standard")
        .filter(agent__team=team, status="open", standard__period="week")
        .exclude(agent__user=lead)
        .order_by("opened_on", "agent__user__username", "id")
    )
    # Held seven to nine weeks ago (after their flags opened): three weeks have closed since.
    seen: set[int] = set()
    held_agents = []
    for flag in open_weekly:
        if flag.agent_id in seen or flag.agent.user.username == "agent":
            continue
        if flag.opened_on > this_monday - timedelta(weeks=9):
            continue
        seen.add(flag.agent_id)
        held_agents.append(flag)
        if len(held_agents) == 4:
            break
    for index, flag in enumerate(held_agents):
        day = this_monday - timedelta(weeks=9 - index % 3) + timedelta(days=1 + index % 3)
        session = session_schedule(
            agent=flag.agent,
            coach=lead,
            scheduled_at=_at(day, 10 + index, 0, zone),
            duration_minutes=30,
            flags=[flag],
            invite=False,
        )
        _write_up(session, lead, index, acknowledged=True)
    demo_flags = list(
        CoachingFlag.objects.select_related("agent__user", "standard")
        .filter(agent__user__username="agent", status="open")
        .order_by("standard__period", "opened_on")
    )
    weekly = [flag for flag in demo_flags if flag.standard.period == "week"]
    others = [flag for flag in demo_flags if flag.standard.period != "week"]
    if weekly:
        session = session_schedule(
            agent=weekly[0].agent,
            coach=lead,
            scheduled_at=_at(this_monday - timedelta(days=5), 15, 0, zone),
            flags=weekly[:1],
            invite=False,
        )
        _write_up(session, lead, 0, acknowledged=False)
    if demo_flags:
        session_schedule(
            agent=demo_flags[0].agent,
            coach=lead,
            scheduled_at=_at(this_monday + timedelta(days=9), 11, 0, zone),
            duration_minutes=45,
            flags=others[:1],
            invite=False,
        )
    upcoming: dict[int, CoachingFlag] = {}
    for flag in open_weekly:
        if flag.agent_id not in seen and flag.agent.user.username != "agent":
            upcoming.setdefault(flag.agent_id, flag)
    upcoming_flags = list(upcoming.values())[:2]
    for index, flag in enumerate(upcoming_flags):
        session_schedule(
            agent=flag.agent,
            coach=lead,
            scheduled_at=_at(this_monday + timedelta(days=8), 14, 30 * index, zone),
            flags=[flag],
            invite=False,
        )
    if upcoming_flags:
        called_off = session_schedule(
            agent=upcoming_flags[0].agent,
            coach=lead,
            scheduled_at=_at(this_monday + timedelta(days=10), 9, 30, zone),
            invite=False,
        )
        session_cancel(
            session=called_off,
            reason="Atendente em treinamento externo nesse dia; remarcado para a semana seguinte.",
            by=lead,
        )
    return {
        status: CoachingSession.objects.filter(status=status).count()
        for status in CoachingSession.Status.values
    }
