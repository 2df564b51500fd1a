"""The demo's training: four pt-BR modules linked to the demo standards (by metric), with
lessons and a quiz, and assignments in every state made through the real services: by the
Lisboa lead, by open flags, in progress, overdue, and completed (paid by rewards)."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from coaching.models import (
    Choice,
    CoachingFlag,
    Lesson,
    Question,
    TrainingAssignment,
    TrainingModule,
)
from coaching.services.training import (
    lesson_mark_done,
    quiz_submit,
    training_assign,
    training_assign_for_flags,
)
from performance.models import Agent, ServiceStandard

# (title, summary, minutes, points, metric of the linked standards, lessons, quiz)
# A quiz question: (text, [(choice, correct), ...]).
MODULES = (
    (
        "Empatia no atendimento por telefone",
        "Como ouvir, confirmar e fechar a ligação para o cliente sair satisfeito.",
        20,
        30,
        "csat",
        (
            (
                "Ouvir antes de resolver",
                "O cliente quer ser **ouvido** antes de ouvir a solução.\n\n"
                "- Deixe o cliente terminar a explicação.\n"
                '- Repita com suas palavras: *"Então o boleto veio com o valor errado, certo?"*\n'
                "- Só então proponha o caminho.",
            ),
            (
                "Tom de voz e pausas",
                "Fale no ritmo do cliente. Avise antes de colocar em espera e diga quanto tempo "
                "vai levar. Uma espera anunciada pesa bem menos na pesquisa de satisfação.",
            ),
            (
                "Fechamento",
                'Antes de encerrar, confirme: *"Ficou alguma dúvida?"*. Informe o protocolo e '
                "o próximo passo, com prazo.",
            ),
        ),
        (
            (
                "O que fazer antes de propor a solução?",
                [("Confirmar o entendimento do problema", True), ("Transferir a ligação", False)],
            ),
            (
                "O que reduz o impacto de uma espera?",
                [
                    ("Avisar antes e dizer quanto tempo vai levar", True),
                    ("Voltar a cada 30 segundos", True),
                    ("Colocar em espera sem avisar", False),
                ],
            ),
        ),
    ),
    (
        "Resolução no primeiro contato",
        "Resolver de vez: menos rechamadas, clientes mais satisfeitos.",
        25,
        40,
        "fcr",
        (
            (
                "Por que a rechamada acontece",
                "As causas mais comuns de rechamada:\n\n"
                "1. solução pela metade;\n2. prazo não informado;\n3. cliente não entendeu o "
                "que fazer.\n\nConsulte o histórico do cliente antes de responder.",
            ),
            (
                "A base de conhecimento",
                "Use a base de conhecimento em vez de improvisar. Se o artigo estiver "
                "desatualizado, avise a supervisão: é assim que a base melhora.",
            ),
        ),
        (
            (
                "O que ajuda a resolver no primeiro contato?",
                [
                    ("Consultar o histórico do cliente", True),
                    ("Usar a base de conhecimento", True),
                    ("Encerrar rápido para baixar o TMA", False),
                ],
            ),
            (
                "Ao final do atendimento, você deve:",
                [("Informar o próximo passo e o prazo", True), ("Só agradecer", False)],
            ),
        ),
    ),
    (
        "Respostas por e-mail que resolvem",
        "Escrever respostas claras, completas e no prazo.",
        15,
        25,
        "frt",
        (
            (
                "Estrutura da resposta",
                "Uma boa resposta tem **saudação**, **resposta direta** à pergunta, "
                "**próximos passos** e **assinatura**. Evite blocos longos: use listas.",
            ),
            (
                "O prazo da primeira resposta",
                "Responda em até 4 horas, mesmo que seja para dizer que o caso está em análise "
                "e quando o cliente terá retorno.",
            ),
        ),
        (
            (
                "Qual é a meta de primeira resposta por e-mail?",
                [("Até 4 horas", True), ("Até 2 dias", False), ("Sem prazo", False)],
            ),
        ),
    ),
    (
        "O padrão de nível de serviço",
        "O que é o 80 em 60 s do chat e como cada atendente contribui.",
        10,
        15,
        "sla",
        (
            (
                "Lendo o 80 em 60 s",
                "O nível de serviço do chat é a parcela de conversas com primeira resposta em "
                "até 60 segundos. A meta é 80 %.\n\n| Respondidas em 60 s | Nível |\n|---|---|\n"
                "| 80 de 100 | 80 % |\n| 60 de 100 | 60 % |",
            ),
        ),
        (
            (
                "Com 70 de 100 conversas respondidas em até 60 s, o nível de serviço é:",
                [("70 %", True), ("80 %", False)],
            ),
        ),
    ),
)


def _modules() -> list[TrainingModule]:
    made = []
    for title, summary, minutes, points, metric, lessons, quiz in MODULES:
        module = TrainingModule.objects.create(
            title=title, summary=summary, estimated_minutes=minutes, points=points
        )
        module.standards.set(ServiceStandard.objects.filter(metric=metric))
        for position, (lesson_title, body) in enumerate(lessons, start=1):
            Lesson.objects.create(module=module, position=position, title=lesson_title, body=body)
        for position, (text, choices) in enumerate(quiz, start=1):
            question = Question.objects.create(module=module, position=position, text=text)
            Choice.objects.bulk_create(
                Choice(question=question, text=choice, correct=correct)
                for choice, correct in choices
            )
        made.append(module)
    return made


def _right(module: TrainingModule) -> dict[int, list[int]]:
    return {
        question.pk: [choice.pk for choice in question.choices.all() if choice.correct]
        for question in module.questions.prefetch_related("choices")
    }


def _complete(assignment: TrainingAssignment, *, days_ago: int, today: date) -> None:
    agent_user = assignment.agent.user
    module = assignment.module
    wrong = {
        question.pk: [question.choices.filter(correct=False).first().pk]
        for question in module.questions.all()
    }
    quiz_submit(assignment=assignment, answers=wrong, user=agent_user)
    quiz_submit(assignment=assignment, answers=_right(module), user=agent_user)
    for lesson in module.lessons.all():
        lesson_mark_done(assignment=assignment, lesson=lesson, user=agent_user)
    # Assigned a few days before it was completed, as a team would have lived it; completed
    # within the week and month under way, so no closed leaderboard window (and no top-N
    # badge of one) changes behind the demo's reconciliation.
    days_ago = min(days_ago, today.weekday(), today.day - 1)
    completed_at = timezone.now() - timedelta(days=days_ago)
    TrainingAssignment.objects.filter(pk=assignment.pk).update(
        created_at=completed_at - timedelta(days=4), completed_at=completed_at
    )


@transaction.atomic
def demo_training_seed(today: date) -> dict[str, int]:
    lead = get_user_model().objects.filter(username="lead").first()
    if lead is None:
        return {}
    modules = _modules()
    empathy, fcr, email, sla = modules
    team_agents = list(
        Agent.objects.select_related("user", "team")
        .filter(team__leads=lead, active=True)
        .exclude(user=lead)
        .order_by("user__username")
    )
    demo_agent = next((agent for agent in team_agents if agent.user.username == "agent"), None)
    others = [agent for agent in team_agents if agent is not demo_agent]
    # The open flags of the lead's team assign their standards' modules.
    training_assign_for_flags(
        CoachingFlag.objects.filter(agent__in=team_agents, status="open").order_by("pk")
    )
    # A small demo (--agents 3) may have no one beside the demo agent to assign.
    made: list[TrainingAssignment] = []
    if others[:6]:
        made, _ = training_assign(
            agents=others[:6], module=empathy, assigned_by=lead, due_on=today + timedelta(days=10)
        )
    for index, assignment in enumerate(made):
        if index < 3:
            _complete(assignment, days_ago=index * 2, today=today)
        elif index == 3:
            lesson_mark_done(
                assignment=assignment,
                lesson=empathy.lessons.first(),
                user=assignment.agent.user,
            )
    # Overdue: due two days ago (beat marks it and tells the agent).
    if others[6:8]:
        overdue, _ = training_assign(agents=others[6:8], module=sla, assigned_by=lead, due_on=today)
        TrainingAssignment.objects.filter(pk__in=[row.pk for row in overdue]).update(
            due_on=today - timedelta(days=2), status=TrainingAssignment.Status.OVERDUE
        )
    if demo_agent is not None:
        done, _ = training_assign(
            agents=[demo_agent], module=email, assigned_by=lead, due_on=today + timedelta(days=7)
        )
        for assignment in done:
            _complete(assignment, days_ago=3, today=today)
        # Her open FCR flag assigned this one; she has read the first lesson.
        training_assign(
            agents=[demo_agent], module=fcr, assigned_by=lead, due_on=today + timedelta(days=5)
        )
        started = TrainingAssignment.objects.filter(agent=demo_agent, module=fcr).first()
        lesson_mark_done(assignment=started, lesson=fcr.lessons.first(), user=demo_agent.user)
        training_assign(
            agents=[demo_agent], module=empathy, assigned_by=lead, due_on=today + timedelta(days=12)
        )
    return {
        status: TrainingAssignment.objects.filter(status=status).count()
        for status in TrainingAssignment.Status.values
    }
