from aicenter.api import api
from aicenter.api_summaries import SUMMARIES


def operations() -> list[dict]:
    schema = api.get_openapi_schema()
    return [operation for path in schema["paths"].values() for operation in path.values()]


def test_every_api_operation_has_a_human_summary_and_a_tag(client):
    client.get("/api/v1/openapi.json")  # the URLconf names the operations once loaded
    summaries = [operation["summary"] for operation in operations()]
    assert sorted(summaries) == sorted(SUMMARIES.values())
    assert "Create a dataset" in summaries
    assert not [summary for summary in summaries if summary.endswith("Endpoint")]
    assert all(operation.get("tags") for operation in operations())
