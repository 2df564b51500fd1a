from django.urls import path

from performance import api, api_standards

urlpatterns = [
    path(
        "feeds/<slug:slug>/batches",
        api.FeedBatchUploadApi.as_view(),
        name="api-feed-batch-upload",
    ),
    path("batches/<int:batch_id>", api.FeedBatchDetailApi.as_view(), name="api-batch-detail"),
    path(
        "batches/<int:batch_id>/errors",
        api.FeedBatchErrorsApi.as_view(),
        name="api-batch-errors",
    ),
    path("standards/", api_standards.StandardListCreateApi.as_view(), name="api-standards"),
    path(
        "standards/<int:standard_id>/",
        api_standards.StandardDetailApi.as_view(),
        name="api-standard-detail",
    ),
    path("evaluations/", api_standards.EvaluationListApi.as_view(), name="api-evaluations"),
    path(
        "agents/<int:agent_id>/scorecard",
        api_standards.AgentScorecardApi.as_view(),
        name="api-agent-scorecard",
    ),
]
