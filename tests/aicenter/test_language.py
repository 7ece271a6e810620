"""The page's language: from the browser, or as chosen in the header or on the profile page."""

from django.conf import settings
from django.urls import reverse


def test_a_page_follows_the_browsers_language(owner_client):
    response = owner_client.get(reverse("profile"), headers={"accept-language": "ja,en;q=0.5"})
    assert '<html lang="ja">' in response.text


def test_a_browser_asking_for_another_language_gets_english(owner_client):
    response = owner_client.get(reverse("profile"), headers={"accept-language": "de"})
    assert '<html lang="en">' in response.text


def test_the_chosen_language_is_remembered_over_the_browsers(owner_client):
    response = owner_client.post(
        reverse("set_language"), {"language": "ja", "next": reverse("profile")}
    )
    assert response.status_code == 302
    assert response.url == reverse("profile")
    assert owner_client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"
    again = owner_client.get(reverse("profile"), headers={"accept-language": "en"})
    assert '<html lang="ja">' in again.text


def test_the_header_and_the_profile_page_offer_both_languages(owner_client):
    page = owner_client.get(reverse("profile")).text
    assert page.count('action="/language/"') == 2
    assert '<option value="en" lang="en" selected>English</option>' in page
    assert '<option value="ja" lang="ja">日本語</option>' in page


def test_the_login_page_offers_the_languages_too(client):
    page = client.get(reverse("login")).text
    assert '<option value="ja" lang="ja">日本語</option>' in page


def test_a_chosen_language_never_sends_the_person_to_another_site(owner_client):
    response = owner_client.post(
        reverse("set_language"), {"language": "ja", "next": "https://elsewhere.example/"}
    )
    assert not response.url.startswith("https://elsewhere.example")
