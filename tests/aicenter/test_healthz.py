import pytest


@pytest.mark.django_db
def test_healthz_reports_database_broker_and_store(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "store": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_naming_a_broken_store(client, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    settings.STORE = {"kind": "local", "root": str(blocker)}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["store"].startswith("error:")
    assert response.json()["database"] == "ok"
