"""Routes of the tasks API, included under /api/v1/ by circle/urls.py."""

from __future__ import annotations

from django.urls import URLPattern, path

from matching import apis

urlpatterns: list[URLPattern] = [
    path("tasks/", apis.TasksApi.as_view(), name="tasks"),
    path("tasks/<int:task_id>/", apis.TaskDetailApi.as_view(), name="task-detail"),
    path("tasks/<int:task_id>/matches/", apis.TaskMatchesApi.as_view(), name="task-matches"),
    path("tasks/<int:task_id>/accept/", apis.TaskAcceptApi.as_view(), name="task-accept"),
    path("tasks/<int:task_id>/complete/", apis.TaskCompleteApi.as_view(), name="task-complete"),
    path("tasks/<int:task_id>/confirm/", apis.TaskConfirmApi.as_view(), name="task-confirm"),
    path("tasks/<int:task_id>/cancel/", apis.TaskCancelApi.as_view(), name="task-cancel"),
    path("helpers/me/tasks/", apis.HelperFeedApi.as_view(), name="helper-feed"),
    path("helpers/me/tasks/accepted/", apis.HelperTasksApi.as_view(), name="helper-tasks"),
    path("task-series/", apis.SeriesApi.as_view(), name="task-series"),
    path("task-series/<int:series_id>/end/", apis.SeriesEndApi.as_view(), name="task-series-end"),
    path(
        "members/<int:member_id>/preferences/",
        apis.PreferencesApi.as_view(),
        name="member-preferences",
    ),
    path(
        "members/<int:member_id>/preferences/<int:helper_id>/",
        apis.PreferenceApi.as_view(),
        name="member-preference",
    ),
    path("circles/<slug:slug>/feedback/", apis.CircleFeedbackApi.as_view(), name="feedback"),
    path(
        "concerns/<int:concern_id>/suspend-helper/",
        apis.ConcernSuspendHelperApi.as_view(),
        name="concern-suspend-helper",
    ),
]
