from django.urls import path

from performance.api import evaluations, feeds, standards

urlpatterns = [
    path(
        "feeds/<slug:slug>/batches",
        feeds.FeedBatchUploadApi.as_view(),
        name="api-feed-batch-upload",
    ),
    path("batches/<int:batch_id>", feeds.FeedBatchDetailApi.as_view(), name="api-batch-detail"),
    path(
        "batches/<int:batch_id>/errors",
        feeds.FeedBatchErrorsApi.as_view(),
        name="api-batch-errors",
    ),
    path("standards/", standards.StandardListCreateApi.as_view(), name="api-standards"),
    path(
        "standards/<int:standard_id>/",
        standards.StandardDetailApi.as_view(),
        name="api-standard-detail",
    ),
    path("evaluations/", evaluations.EvaluationListApi.as_view(), name="api-evaluations"),
    path(
        "agents/<int:agent_id>/scorecard",
        evaluations.AgentScorecardApi.as_view(),
        name="api-agent-scorecard",
    ),
]
