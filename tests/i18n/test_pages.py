"""The main pages in both languages: translated words and pt-BR formats (30/11/2026, 1.234,5,
85,2 %, 5 min 10 s), times in the viewer's team zone with the zone named."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from performance.models import Evaluation, FeedBatch
from performance.services.evaluation import evaluate_periods
from tests.factories import FeedBatchFactory, make_interactions, make_standard

pytestmark = pytest.mark.django_db

PT = {"accept-language": "pt-BR,pt;q=0.9"}
EN = {"accept-language": "en"}
WEEK_44 = date(2026, 10, 26)
DAY = "2026-10-28"


@pytest.fixture
def scored(alice, source):
    """Week 44 of 2026 for alice in Lisbon: CSAT 75 % (missed), AHT 5 min 10 s (met)."""
    csat = make_standard(
        name="CSAT semanal", metric="csat", period="week", target=80, stretch_target=90.5
    )
    aht = make_standard(
        name="TMA do telefone", metric="aht", channel="phone", period="week", target=360
    )
    make_interactions(
        alice,
        source=source,
        on=date(2026, 10, 27),
        count=12,
        csat=[5, 5, 5, 4, 4, 4, 4, 4, 4, 3, 2, 1],
        handle_seconds=300 + 10,
    )
    evaluate_periods(since=WEEK_44, until=date(2026, 11, 1))
    return {"csat": csat, "aht": aht}


def get(client, url: str, headers: dict, **query) -> str:
    response = client.get(url, query, headers=headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_login_page(client):
    portuguese = get(client, reverse("login"), PT)
    english = get(client, reverse("login"), EN)

    assert "<title>Entrar · Atendo</title>" in portuguese
    assert "Usuário" in portuguese and "Senha" in portuguese
    assert "<title>Log in · Atendo</title>" in english and "Password" in english


def test_home_of_an_agent(client, alice, scored):
    client.force_login(alice.user)

    portuguese = get(client, reverse("home"), PT)
    english = get(client, reverse("home"), EN)

    assert "Atendente da equipe <strong>Lisbon</strong>" in portuguese
    assert "Abrir meu painel de desempenho" in portuguese and "Sair" in portuguese
    assert ">Meu desempenho</a>" in portuguese
    assert "Agent in team <strong>Lisbon</strong>" in english and "Log out" in english


def test_scorecard_in_pt_br(client, alice, scored):
    client.force_login(alice.user)

    html = get(client, reverse("agent-scorecard", args=[alice.id]), PT, date=DAY)

    assert "Seu painel de desempenho" in html
    assert "Qua, 28/10/2026" in html  # as of
    assert "Semana 44 de 2026 (26/10 a 01/11)" in html
    assert "Não atingiu" in html and "Atingiu" in html
    assert "75 %" in html and "≥ 80 %" in html and "≥ 90,5 %" in html
    assert "5 min 10 s" in html and "≤ 6 min 00 s" in html
    assert "Satisfação do cliente (CSAT)" in html and "TMA (tempo médio de atendimento)" in html
    assert "Semana anterior" in html
    assert 'data-label-met="Atingiu"' in html  # the chart's words come from the page


def test_scorecard_in_english(client, alice, scored):
    client.force_login(alice.user)

    html = get(client, reverse("agent-scorecard", args=[alice.id]), EN, date=DAY)

    assert "Your scorecard" in html and "Week 44, 2026 (26 Oct - 01 Nov)" in html
    assert "≥ 90.5 %" in html and "5 min 10 s" in html and "Missed" in html


def test_agent_scorecard_seen_by_the_lead(client, alice, bob, scored):
    client.force_login(bob)

    html = get(client, reverse("agent-scorecard", args=[alice.id]), PT, date=DAY)

    assert "Mapa de calor da equipe" in html and "Painel de desempenho" in html
    # ids in URLs stay plain digits, whatever the language
    assert f'href="/teams/heatmap/?team={alice.team_id}"' in html


def test_evaluation_interactions(client, alice, scored):
    evaluation = Evaluation.objects.get(agent=alice, standard=scored["aht"], period_start=WEEK_44)
    client.force_login(alice.user)

    html = get(client, reverse("evaluation-interactions", args=[evaluation.id]), PT)

    assert "Por trás do número" in html and "Como é calculado." in html
    assert "A média do tempo de atendimento" in html
    assert "Ter, 27/10, 12:00" in html  # started, in Europe/Lisbon
    assert "Tempo de atendimento" in html and "5 min 10 s" in html


def test_heatmap(client, alice, bob, scored):
    client.force_login(bob)

    portuguese = get(client, reverse("team-heatmap"), PT, period="2026-W44")
    english = get(client, reverse("team-heatmap"), EN, period="2026-W44")

    assert "Mapa de calor da equipe" in portuguese
    assert "Semana 44 de 2026 (26/10 a 01/11)" in portuguese
    assert "Atingiu ou superou" in portuguese and "Semana anterior" not in portuguese
    assert '<span class="heat-value">75 %</span>' in portuguese
    assert "Team heatmap" in english and "Met or exceeded" in english


def test_monthly_heatmap_names_the_month_in_lowercase(client, bob, scored):
    client.force_login(bob)

    html = get(client, reverse("team-heatmap"), PT, kind="month", period="2026-10")

    assert 'data-testid="period">outubro de 2026</h2>' in html


def test_upload_page(client, bob, source):
    client.force_login(bob)

    portuguese = get(client, reverse("feed-upload"), PT)

    assert "Importar um arquivo" in portuguese and "Enviar e processar" in portuguese
    assert "Como é um arquivo de importação" in portuguese
    assert "Upload and process" in get(client, reverse("feed-upload"), EN)


@pytest.fixture
def big_batch(bob, source):
    batch = FeedBatchFactory(
        source=source,
        uploaded_by=bob,
        rows_read=12345,
        created_count=12000,
        updated_count=300,
        unchanged_count=40,
        rejected_count=5,
    )
    # received_at is set on creation (auto_now_add): an update places it.
    FeedBatch.objects.filter(id=batch.id).update(
        received_at=datetime(2026, 11, 30, 17, 5, tzinfo=UTC)
    )
    batch.refresh_from_db()
    return batch


def test_batch_list_in_the_viewers_zone(client, carol, sao_paulo, big_batch):
    """carol leads São Paulo (UTC-3): 17:05 UTC reads 14:05, zone named, counts grouped."""
    FeedBatch.objects.filter(id=big_batch.id).update(uploaded_by=carol)
    client.force_login(carol)

    html = get(client, reverse("feed-batches"), PT)

    assert "Lotes" in html and "Importar um arquivo" in html
    assert "30/11/2026 14:05" in html and "(America/Sao_Paulo)" in html
    assert ">12.345</td>" in html and ">12.000</td>" in html
    assert f'href="/feeds/batches/{big_batch.id}/"' in html
    assert "Concluído" in html


def test_batch_list_in_english(client, bob, big_batch):
    client.force_login(bob)

    html = get(client, reverse("feed-batches"), EN)

    assert "2026-11-30 17:05" in html and "(Europe/Lisbon)" in html
    assert ">12,345</td>" in html and "Completed" in html


def test_batch_detail(client, carol, big_batch):
    FeedBatch.objects.filter(id=big_batch.id).update(uploaded_by=carol)
    client.force_login(carol)

    html = get(client, reverse("feed-batch", args=[big_batch.id]), PT)

    assert f"Lote nº {big_batch.id}" in html
    assert "Recebido em 30/11/2026 14:05 (America/Sao_Paulo)" in html
    assert 'data-testid="rows">12.345</dd>' in html
    assert "Linhas rejeitadas" in html


def test_admin_index_and_lists(client, dave, big_batch):
    client.force_login(dave)

    index = get(client, reverse("admin:index"), PT)
    batches = get(client, reverse("admin:performance_feedbatch_changelist"), PT)

    assert "Fontes de importação" in index and "Padrões de atendimento" in index
    assert "Lotes" in batches and "Linhas lidas" in batches
    assert "Reprocessar os lotes selecionados" in batches
