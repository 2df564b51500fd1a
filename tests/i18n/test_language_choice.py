"""Which language a page speaks: the saved preference, else Accept-Language, else pt-BR; the
switch in the header is a plain form (no JavaScript) and works before logging in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from performance.models import UserPreference

pytestmark = pytest.mark.django_db

HOME = reverse("home")
LOGIN = reverse("login")
SWITCH = reverse("language-switch")


def html_lang(response) -> str:
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.fixture
def site_default_pt_br(settings):
    settings.LANGUAGE_CODE = "pt-br"


def test_with_nothing_chosen_the_site_speaks_pt_br(client, site_default_pt_br):
    response = client.get(LOGIN)

    assert html_lang(response) == "pt-br"
    assert "Entrar no Atendo" in response.content.decode()
    assert response["Content-Language"] == "pt-br"


def test_the_browser_language_wins_over_the_site_default(client, site_default_pt_br):
    response = client.get(LOGIN, headers={"accept-language": "en-US,en;q=0.9"})

    assert html_lang(response) == "en"
    assert "Log in to Atendo" in response.content.decode()


def test_a_portuguese_browser_reads_pt_br(client):
    response = client.get(LOGIN, headers={"accept-language": "pt-BR,pt;q=0.9"})

    assert "Entrar no Atendo" in response.content.decode()


def test_the_saved_preference_wins_over_the_browser(client, alice):
    UserPreference.objects.create(user=alice.user, language="pt-br")
    client.force_login(alice.user)

    response = client.get(HOME, headers={"accept-language": "en"})

    assert html_lang(response) == "pt-br"
    assert "Seu painel de desempenho" in response.content.decode()


def test_without_a_preference_a_logged_in_user_follows_the_browser(client, alice):
    client.force_login(alice.user)

    english = client.get(HOME, headers={"accept-language": "en"}).content.decode()
    portuguese = client.get(HOME, headers={"accept-language": "pt-BR"}).content.decode()

    assert "Your scorecard" in english
    assert "Seu painel de desempenho" in portuguese


def test_the_switch_is_a_plain_form_in_the_header(client, alice):
    client.force_login(alice.user)

    html = client.get(HOME, headers={"accept-language": "pt-BR"}).content.decode()

    header = html.split("</header>")[0]
    assert f'<form method="post" action="{SWITCH}" class="language-switch">' in header
    assert '<input type="hidden" name="next" value="/">' in header
    assert '<button type="submit" name="language" value="en" lang="en"' in header
    assert 'aria-label="English"' in header and ">EN</button>" in header


def test_the_switch_saves_the_preference_and_goes_back(client, alice):
    client.force_login(alice.user)

    response = client.post(
        SWITCH, {"language": "en", "next": HOME}, headers={"accept-language": "pt-BR"}
    )

    assert response.status_code == 302 and response.url == HOME
    assert UserPreference.objects.get(user=alice.user).language == "en"
    page = client.get(HOME, headers={"accept-language": "pt-BR"}).content.decode()
    assert "Your scorecard" in page


def test_the_saved_preference_comes_back_at_the_next_login(client, alice):
    UserPreference.objects.create(user=alice.user, language="en")
    alice.user.set_password("secret-pass-1")
    alice.user.save()

    response = client.post(
        LOGIN,
        {"username": "alice", "password": "secret-pass-1"},
        headers={"accept-language": "pt-BR"},
        follow=True,
    )

    assert "Your scorecard" in response.content.decode()


def test_the_switch_works_on_the_login_page(client, site_default_pt_br):
    login_page = client.get(LOGIN).content.decode()
    assert 'name="language" value="en"' in login_page

    response = client.post(SWITCH, {"language": "en", "next": LOGIN})

    assert response.status_code == 302
    assert "Log in to Atendo" in client.get(LOGIN).content.decode()
    assert not UserPreference.objects.exists()


def test_an_unknown_language_changes_nothing(client, alice):
    client.force_login(alice.user)

    response = client.post(SWITCH, {"language": "xx", "next": HOME})

    assert response.status_code == 302
    assert not UserPreference.objects.exists()


def test_the_switch_never_redirects_off_site(client, alice):
    client.force_login(alice.user)

    response = client.post(SWITCH, {"language": "en", "next": "https://evil.example/"})

    assert response.status_code in (302, 204)
    assert "evil.example" not in response.get("Location", "")


def test_django_admin_follows_the_language(client, dave):
    client.force_login(dave)

    portuguese = client.get(reverse("admin:index"), headers={"accept-language": "pt-BR"})
    english = client.get(reverse("admin:index"), headers={"accept-language": "en"})

    assert "Administração do Django" in portuguese.content.decode()
    assert "Fontes de importação" in portuguese.content.decode()
    assert "Desempenho" in portuguese.content.decode()
    assert "Feed sources" in english.content.decode()


def test_api_errors_speak_the_language_asked_for(client, alice):
    client.force_login(alice.user)
    url = reverse("api-agent-scorecard", args=[alice.id])

    body = client.get(url, {"period": "2026-13"}, headers={"accept-language": "pt-BR"}).json()

    assert body["period"] == [
        "'2026-13' não é um dia (2026-10-29), uma semana ISO (2026-W44) ou um mês (2026-10)."
    ]
