"""The demo's quality monitoring: two pt-BR QA forms (voice and chat), a few hundred reviews
over the demo's months by the quality analyst and the team leads, through the real services
(each score written on its interaction as a review batch), some drafts, the agents'
acknowledgements, disputes in every state and a weekly review plan whose last two weeks are
drawn. Reviews are dated a day or two after the interaction they score."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from coaching.models import (
    QAAssignment,
    QADispute,
    QAForm,
    QAItem,
    QAPlan,
    QAPlanChannel,
    QAReview,
    QASection,
)
from coaching.selectors.quality import calibration_spread
from coaching.services.quality import (
    NO,
    NOT_APPLICABLE,
    YES,
    review_answers_save,
    review_finish,
    review_start,
    reviews_finish,
    stored_answer,
    version_rules,
)
from coaching.services.quality_calibration import (
    calibration_close,
    calibration_open,
    calibration_review,
)
from coaching.services.quality_disputes import dispute_accept, dispute_open, dispute_reject
from coaching.services.quality_plans import assignment_review, plans_sample_due
from performance.demo import ADMIN_LOGIN, AGENT_LOGIN, MONITOR_LOGIN
from performance.models import Agent, Channel, Interaction, Team

# (section title, items): an item is its fields plus "miss", the comment a reviewer writes
# when it is missed.
VOICE_FORM = {
    "name": "Monitoria de voz",
    "channel": "phone",
    "description": "Roteiro de monitoria das ligações receptivas (SAC e suporte).",
    "sections": [
        (
            "Abertura",
            [
                {
                    "text": "Saudação padrão com o nome do atendente e da empresa",
                    "weight": 2,
                    "guidance": "“Bom dia, Atendo, Ana falando. Como posso ajudar?”",
                    "miss": "Atendeu só com “alô”, sem se apresentar.",
                },
                {
                    "text": "Confirmou a identidade do cliente antes de tratar da conta (LGPD)",
                    "weight": 2,
                    "critical": True,
                    "allows_na": False,
                    "guidance": "Três dados: nome completo, parte do CPF e data de nascimento. "
                    "Nunca ler dados da conta para o cliente confirmar.",
                    "miss": "Leu o CPF completo para o cliente confirmar.",
                },
            ],
        ),
        (
            "Diagnóstico",
            [
                {
                    "text": "Escuta ativa: deixou o cliente explicar sem interromper",
                    "kind": QAItem.Kind.SCALE,
                    "scale_max": 5,
                    "weight": 3,
                    "miss": "Interrompeu o cliente algumas vezes antes de entender o problema.",
                },
                {
                    "text": "Sondagem: fez as perguntas certas para entender o motivo do contato",
                    "weight": 3,
                    "miss": "Não perguntou desde quando o problema acontece.",
                },
            ],
        ),
        (
            "Solução",
            [
                {
                    "text": "Informação correta e completa, conforme a base de conhecimento",
                    "weight": 4,
                    "miss": "Informou prazo de estorno de 5 dias; o correto são 2 faturas.",
                },
                {
                    "text": "Resolveu no primeiro contato ou explicou o prazo de retorno",
                    "weight": 3,
                    "miss": "Encerrou sem dizer quando o cliente teria retorno.",
                },
                {
                    "text": "Ofereceu o autoatendimento (app ou URA) para a próxima vez",
                    "weight": 1,
                    "bonus": True,
                    "miss": "",
                },
            ],
        ),
        (
            "Encerramento e postura",
            [
                {
                    "text": "Resumiu o combinado e confirmou o entendimento do cliente",
                    "weight": 2,
                    "miss": "Faltou recapitular o que foi combinado.",
                },
                {
                    "text": "Informou o número de protocolo",
                    "weight": 2,
                    "miss": "Não informou o protocolo no encerramento.",
                },
                {
                    "text": "Tratamento cordial, sem termos inadequados ou tom ríspido",
                    "weight": 2,
                    "critical": True,
                    "allows_na": False,
                    "miss": "Tom ríspido quando o cliente pediu para falar com o supervisor.",
                },
            ],
        ),
    ],
}

CHAT_FORM = {
    "name": "Monitoria de chat",
    "channel": "chat",
    "description": "Roteiro de monitoria dos atendimentos por chat e mensageria.",
    "sections": [
        (
            "Abertura",
            [
                {
                    "text": "Primeira resposta personalizada, sem só colar a macro",
                    "weight": 2,
                    "miss": "Respondeu só com a macro padrão, sem usar o nome do cliente.",
                },
                {
                    "text": "Não pediu dados sensíveis pelo chat (senha, cartão completo)",
                    "weight": 2,
                    "critical": True,
                    "allows_na": False,
                    "miss": "Pediu o número completo do cartão pelo chat.",
                },
            ],
        ),
        (
            "Comunicação",
            [
                {
                    "text": "Português correto, sem abreviações nem gírias",
                    "kind": QAItem.Kind.SCALE,
                    "scale_max": 5,
                    "weight": 3,
                    "miss": "Usou “vc” e “blz” em duas mensagens.",
                },
                {
                    "text": "Tempo entre as mensagens adequado (avisou quando precisou pesquisar)",
                    "weight": 2,
                    "miss": "Ficou 6 minutos sem responder e sem avisar que estava pesquisando.",
                },
            ],
        ),
        (
            "Solução",
            [
                {
                    "text": "Solução correta e completa na mesma conversa",
                    "weight": 4,
                    "miss": "Transferiu para o telefone um caso que podia resolver no chat.",
                },
                {
                    "text": "Enviou o link de autoatendimento certo",
                    "weight": 1,
                    "bonus": True,
                    "miss": "",
                },
            ],
        ),
        (
            "Encerramento",
            [
                {
                    "text": "Despedida cordial com o número de protocolo",
                    "weight": 2,
                    "miss": "Encerrou a conversa sem despedida nem protocolo.",
                },
            ],
        ),
    ],
}

OVERALL = (
    "Bom atendimento no geral; atenção aos pontos comentados.",
    "Atendimento seguro e cordial. Parabéns!",
    "Cliente saiu satisfeito, mas o roteiro de encerramento ficou incompleto.",
    "Precisa reforçar o procedimento de confirmação de dados.",
    "Ótima condução do diagnóstico.",
)
# Reviews per agent per 30 days, how many the analyst leaves as drafts, and the share the
# leads review themselves.
REVIEWS_PER_MONTH = 3
DRAFTS = 4
LEAD_SHARE = 0.15


def demo_forms() -> list[QAForm]:
    """The two forms, created once (an existing one of the same name is kept as it is)."""
    forms = []
    for spec in (VOICE_FORM, CHAT_FORM):
        channel = Channel.objects.filter(code=spec["channel"]).first()
        form, created = QAForm.objects.get_or_create(
            name=spec["name"], defaults={"channel": channel, "description": spec["description"]}
        )
        if created:
            for position, (title, items) in enumerate(spec["sections"], start=1):
                section = QASection.objects.create(form=form, title=title, position=position)
                for item_position, item in enumerate(items, start=1):
                    fields = {key: value for key, value in item.items() if key != "miss"}
                    QAItem.objects.create(section=section, position=item_position, **fields)
        forms.append(form)
    return forms


def _misses() -> dict[str, str]:
    return {
        item["text"]: item["miss"]
        for spec in (VOICE_FORM, CHAT_FORM)
        for _title, items in spec["sections"]
        for item in items
    }


@transaction.atomic
def demo_quality_seed(today: date, *, days: int, seed: int) -> dict[str, int]:
    """Returns how many reviews it finished, left as drafts and were acknowledged (nothing
    when the demo's analyst is missing or reviews exist already)."""
    monitor = get_user_model().objects.filter(username=MONITOR_LOGIN.username).first()
    if monitor is None or QAReview.objects.exists():
        return {}
    forms = {form.channel_id: form for form in demo_forms()}
    rng = random.Random(f"{seed}|quality")
    leads = {team.pk: team.leads.order_by("pk").first() for team in Team.objects.all()}
    closed_before = timezone.make_aware(datetime.combine(today - timedelta(days=2), time.min))
    per_agent = max(1, round(REVIEWS_PER_MONTH * days / 30))
    chosen: list[tuple[Interaction, Any]] = []
    agents = Agent.objects.select_related("user").filter(team__isnull=False, active=True)
    for agent in agents.order_by("pk"):
        candidates = list(
            Interaction.objects.filter(
                agent=agent, channel__in=list(forms), started_at__lt=closed_before
            )
            .order_by("started_at", "pk")
            .values_list("pk", flat=True)
        )
        picked = rng.sample(candidates, min(per_agent, len(candidates)))
        if agent.user.username == AGENT_LOGIN.username and candidates:
            # The demo agent's latest contact is reviewed too: a review they can still contest.
            picked = list(dict.fromkeys([*picked, candidates[-1]]))
        for interaction_id in picked:
            lead = leads.get(agent.team_id)
            reviewer = lead if lead is not None and rng.random() < LEAD_SHARE else monitor
            chosen.append((interaction_id, reviewer))
    misses = _misses()
    skill: dict[int, float] = defaultdict(lambda: rng.uniform(0.72, 0.96))
    by_reviewer: dict[int, list[QAReview]] = defaultdict(list)
    reviewers = {}
    dated: dict[int, datetime] = {}
    for interaction_id, reviewer in chosen:
        interaction = Interaction.objects.get(pk=interaction_id)
        review = review_start(
            reviewer=reviewer, interaction_id=interaction_id, form=forms[interaction.channel]
        )
        answers = _answers(review, skill[interaction.agent_id], rng, misses)
        review_answers_save(review, reviewer=reviewer, answers=answers, comment=rng.choice(OVERALL))
        by_reviewer[reviewer.pk].append(review)
        reviewers[reviewer.pk] = reviewer
        dated[review.pk] = interaction.started_at + timedelta(hours=rng.randint(20, 60))
    drafts = sorted(
        (
            r
            for r in by_reviewer.get(monitor.pk, [])
            if r.agent.user.username != AGENT_LOGIN.username
        ),
        key=lambda review: dated[review.pk],
    )[-DRAFTS:]
    draft_ids = {review.pk for review in drafts}
    finished: list[QAReview] = []
    for reviewer_id, reviews in sorted(by_reviewer.items()):
        to_finish = [review for review in reviews if review.pk not in draft_ids]
        finished += reviews_finish(
            to_finish, reviewer=reviewers[reviewer_id], reference=f"demo-reviews-{reviewer_id}"
        )
    acknowledged = _backdate(finished, drafts, dated, today, rng)
    disputes = _disputes(finished, leads, rng)
    drawn = _plan(monitor, today)
    _calibration(monitor, leads, forms, rng)
    mystery = _mystery(monitor, rng)
    return {
        "mystery": mystery,
        "drawn": drawn,
        "finished": len(finished),
        "drafts": len(drafts),
        "acknowledged": acknowledged,
        **disputes,
    }


DISPUTE_COMMENTS = (
    "Na gravação eu confirmo os dados do cliente no início, antes de abrir a conta.",
    "O cliente pediu para encerrar; por isso não fiz o resumo.",
    "A informação estava de acordo com o comunicado interno da semana.",
)
DECISIONS = {
    QADispute.Status.ACCEPTED: "Ouvi de novo a gravação: o atendente tem razão.",
    QADispute.Status.REJECTED: "A gravação confirma a nota: o procedimento não foi seguido.",
}


def _disputes(
    finished: list[QAReview], leads: dict[int, Any], rng: random.Random
) -> dict[str, int]:
    """Disputes in every state: a few accepted and rejected weeks ago (one in a second round),
    and open ones on the latest reviews, the demo agent's among them, for the leads to decide."""
    counts = {"disputes_open": 0, "disputes_accepted": 0, "disputes_rejected": 0}
    contestable = [
        review
        for review in QAReview.objects.filter(pk__in=[r.pk for r in finished])
        .select_related("agent__user", "agent__team", "version__form", "interaction")
        .order_by("finished_at", "pk")
        if leads.get(review.agent.team_id) is not None
        and leads[review.agent.team_id].pk != review.reviewer_id
        and review.score < 100
        and _missed_keys(review)
    ]
    if not contestable:
        return counts
    now = timezone.now()
    recent = [review for review in contestable if review.finished_at > now - timedelta(days=4)]
    older = [review for review in contestable if review.finished_at < now - timedelta(days=14)]
    open_reviews = recent[-2:]
    demo_agent = [r for r in recent if r.agent.user.username == AGENT_LOGIN.username]
    if demo_agent and demo_agent[-1] not in open_reviews:
        open_reviews = [*open_reviews[-1:], demo_agent[-1]]
    for review in open_reviews:
        _contest(review, rng, now=now)
        counts["disputes_open"] += 1
    decided = rng.sample(older, min(6, len(older)))
    for index, review in enumerate(decided):
        lead = leads[review.agent.team_id]
        opened = review.finished_at + timedelta(hours=rng.randint(4, 60))
        dispute = _contest(review, rng, now=opened)
        if index % 2 == 0:
            missed = _missed_keys(review)
            dispute = dispute_accept(
                dispute,
                user=lead,
                answers={key: (answer, "") for key, answer in missed[:1]},
                reason=DECISIONS[QADispute.Status.ACCEPTED],
            )
        else:
            dispute = dispute_reject(
                dispute, user=lead, reason=DECISIONS[QADispute.Status.REJECTED]
            )
        counts[f"disputes_{dispute.status}"] += 1
        QADispute.objects.filter(pk=dispute.pk).update(
            opened_at=opened, decided_at=opened + timedelta(hours=rng.randint(3, 48))
        )
    return counts


def _missed_keys(review: QAReview) -> list[tuple[str, Any]]:
    """The review's missed items, each with the answer that would have earned it in full;
    failed critical items first (they zero the score, so an accepted dispute must fix one)."""
    rules = {rule.key: rule for rule in version_rules(review.version)}
    missed = []
    answers = sorted(
        review.answers.values_list("key", "answer"),
        key=lambda pair: (not rules[pair[0]].critical, pair[0]),
    )
    for key, answer in answers:
        rule = rules[key]
        if rule.kind == QAItem.Kind.SCALE and answer.isdigit() and int(answer) < rule.scale_max:
            missed.append((key, rule.scale_max))
        elif answer == NO and not rule.bonus:
            missed.append((key, YES))
    return missed


def _contest(review: QAReview, rng: random.Random, *, now: datetime) -> QADispute:
    keys = [key for key, _answer in _missed_keys(review)][:2]
    return dispute_open(
        review, user=review.agent.user, items=keys, comment=rng.choice(DISPUTE_COMMENTS), now=now
    )


def _calibration(monitor, leads: dict[int, Any], forms: dict[str, QAForm], rng) -> None:
    """One closed calibration session: the analyst and the Lisboa lead scored a recent Lisboa
    call blind; the admin, facilitating, recorded the reference agreed."""
    lisboa = Team.objects.filter(name="Lisboa").first()
    lead = leads.get(lisboa.pk) if lisboa else None
    facilitator = get_user_model().objects.filter(username=ADMIN_LOGIN.username).first()
    if lead is None or facilitator is None or "phone" not in forms:
        return
    call = (
        Interaction.objects.filter(agent__team=lisboa, channel="phone")
        .exclude(pk__in=QAReview.objects.values("interaction_id"))
        .exclude(pk__in=QAAssignment.objects.values("interaction_id"))
        .order_by("-started_at")
        .first()
    )
    if call is None:
        return
    participants = [monitor, lead]
    session = calibration_open(
        by=facilitator,
        title="Calibração de voz: ligação de cobrança",
        interaction_id=call.pk,
        form=forms["phone"],
        participant_ids=[person.pk for person in participants],
    )
    misses = _misses()
    for person in participants:
        review = calibration_review(session, reviewer=person)
        answers = _answers(review, rng.uniform(0.6, 0.9), rng, misses)
        review_finish(review, reviewer=person, answers=answers)
    spread = calibration_spread(session)
    reference = {item.key: (item.counts[0][0], "") for item in spread}
    rules = {rule.key: rule for rule in version_rules(session.version)}
    calibration_close(
        session,
        by=facilitator,
        answers={
            key: (stored_answer(rules[key], answer), "") for key, (answer, _c) in reference.items()
        },
        notes="Combinado: a confirmação de dados vale só com os três dados pedidos.",
    )


MYSTERY_FORM = {
    "name": "Cliente oculto: telefone",
    "channel": "phone",
    "description": "Ligações de clientes ocultos contratados: a jornada de compra inteira.",
    "sections": [
        (
            "Jornada",
            [
                {"text": "Atendeu em até 3 toques e se apresentou", "weight": 2},
                {"text": "Entendeu a necessidade antes de oferecer", "weight": 3},
                {"text": "Ofereceu o plano certo para o perfil do cliente", "weight": 4},
                {"text": "Explicou preço, fidelidade e prazos sem omitir nada", "weight": 3},
                {"text": "Convidou para fechar a compra", "weight": 2},
            ],
        ),
    ],
}


def _mystery(monitor, rng) -> int:
    """A mystery-shopping form and a dozen shoppers' calls reviewed on it (their scores go to
    the calls' mystery-shopper score, reported apart from monitoria)."""
    channel = Channel.objects.filter(code="phone").first()
    if channel is None:
        return 0
    form, created = QAForm.objects.get_or_create(
        name=MYSTERY_FORM["name"],
        defaults={
            "kind": QAForm.Kind.MYSTERY,
            "channel": channel,
            "description": MYSTERY_FORM["description"],
        },
    )
    if created:
        for position, (title, items) in enumerate(MYSTERY_FORM["sections"], start=1):
            section = QASection.objects.create(form=form, title=title, position=position)
            for item_position, item in enumerate(items, start=1):
                QAItem.objects.create(section=section, position=item_position, **item)
    calls = list(
        Interaction.objects.filter(channel="phone")
        .exclude(pk__in=QAReview.objects.values("interaction_id"))
        .exclude(pk__in=QAAssignment.objects.values("interaction_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    reviews = []
    for interaction_id in rng.sample(calls, min(12, len(calls))):
        review = review_start(reviewer=monitor, interaction_id=interaction_id, form=form)
        answers = _answers(review, rng.uniform(0.6, 0.95), rng, {})
        review_answers_save(review, reviewer=monitor, answers=answers)
        reviews.append(review)
    if reviews:
        reviews_finish(reviews, reviewer=monitor, reference="demo-mystery-shopping")
    return len(reviews)


def _plan(monitor, today: date) -> int:
    """A weekly plan over every team (two calls and a chat per agent), its last two closed
    weeks drawn for the analyst: the queue the demo analyst opens."""
    plan, created = QAPlan.objects.get_or_create(
        name="Amostra semanal", defaults={"period": QAPlan.Period.WEEK, "due_days": 5}
    )
    if created:
        plan.teams.set(Team.objects.all())
        plan.analysts.set([monitor])
        for channel, per_agent in (("phone", 2), ("chat", 1)):
            if Channel.objects.filter(code=channel).exists():
                QAPlanChannel.objects.create(plan=plan, channel_id=channel, per_agent=per_agent)
    drawn = plans_sample_due(today=today)
    older = QAAssignment.objects.filter(plan=plan).order_by("period_start").first()
    if older is None:
        return drawn
    # The analyst is half-way through the older week's sample.
    rng = random.Random("demo|plan")
    misses = _misses()
    reviews = []
    for assignment in QAAssignment.objects.filter(
        plan=plan, period_start=older.period_start
    ).order_by("pk")[::2]:
        review = assignment_review(assignment, reviewer=monitor)
        answers = _answers(review, rng.uniform(0.75, 0.95), rng, misses)
        review_answers_save(review, reviewer=monitor, answers=answers, comment=rng.choice(OVERALL))
        reviews.append(review)
    if reviews:
        reviews_finish(reviews, reviewer=monitor, reference="demo-plan-reviews")
    return drawn


def _answers(
    review: QAReview, skill: float, rng: random.Random, misses: dict[str, str]
) -> dict[str, tuple[Any, str]]:
    texts = {
        item["key"]: item["text"]
        for section in review.version.structure["sections"]
        for item in section["items"]
    }
    answers: dict[str, tuple[Any, str]] = {}
    for rule in version_rules(review.version):
        miss = misses.get(texts[rule.key], "")
        if rule.allows_na and not rule.bonus and rng.random() < 0.08:
            answers[rule.key] = (NOT_APPLICABLE, "")
        elif rule.kind == QAItem.Kind.SCALE:
            value = max(0, min(rule.scale_max, round(rule.scale_max * rng.gauss(skill, 0.12))))
            answers[rule.key] = (value, miss if value < rule.scale_max - 1 else "")
        elif rule.critical:
            failed = rng.random() < 0.025
            answers[rule.key] = (NO, miss) if failed else (YES, "")
        elif rng.random() < (skill - 0.25 if rule.bonus else skill):
            answers[rule.key] = (YES, "")
        else:
            answers[rule.key] = (NO, miss)
    return answers


def _backdate(
    finished: list[QAReview],
    drafts: list[QAReview],
    dated: dict[int, datetime],
    today: date,
    rng: random.Random,
) -> int:
    """Date each review after its interaction, as if done over the months (only the demo
    does this), and acknowledge most older ones; the demo agent keeps a couple to read."""
    now = timezone.now()
    week_ago = now - timedelta(days=7)
    demo_agent_latest = sorted(
        (review for review in finished if review.agent.user.username == AGENT_LOGIN.username),
        key=lambda review: dated[review.pk],
    )[-2:]
    keep_unread = {review.pk for review in demo_agent_latest}
    acknowledged = 0
    for review in finished:
        when = min(dated[review.pk], now)
        ack = None
        if review.pk not in keep_unread and when < week_ago and rng.random() < 0.8:
            ack = when + timedelta(hours=rng.randint(2, 72))
            acknowledged += 1
        QAReview.objects.filter(pk=review.pk).update(
            created_at=when - timedelta(minutes=25),
            updated_at=when,
            finished_at=when,
            acknowledged_at=ack,
        )
    for review in drafts:
        when = min(dated[review.pk], now)
        QAReview.objects.filter(pk=review.pk).update(created_at=when, updated_at=when)
    return acknowledged
