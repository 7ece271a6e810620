"""The page's language: from the browser, or as chosen in the header or on the profile page."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import override

from pipelines.models import Status
from tests.factories import api_client


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


def test_the_apis_error_sentences_follow_the_request_but_its_fields_do_not(viewer, project):
    client = api_client(viewer)
    url = f"/api/v1/projects/{project.id}/datasets"
    english = client.post(url, {"name": "x"}, content_type="application/json")
    japanese = client.post(
        url, {"name": "x"}, content_type="application/json", headers={"accept-language": "ja"}
    )
    assert english.status_code == japanese.status_code == 403
    assert english.json()["detail"] == "This needs the editor role in the project."
    assert japanese.json()["detail"] == "この操作にはプロジェクトの編集者ロールが必要です。"
    assert japanese.json().keys() == english.json().keys()


def test_run_statuses_use_ai_centers_japanese_words_and_keep_their_values():
    assert Status.SUCCESSFUL == "successful"
    with override("ja"):
        assert str(Status.SUCCESSFUL.label) == "成功"
        assert str(Status.FAILED.label) == "失敗"
        assert str(Status.KILLED.label) == "強制終了"
