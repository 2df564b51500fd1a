from django.urls import path

from performance import api

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
]
