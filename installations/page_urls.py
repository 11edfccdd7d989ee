from django.urls import path

from installations import views, views_alterations, views_training

app_name = "installations-pages"

urlpatterns = [
    path("installations/calendar/", views.week_calendar, name="calendar"),
    path("installations/today/", views.jobs_today, name="today"),
    path("installations/book/", views.book, name="book"),
    path("installations/appointments/<str:number>/", views.appointment_page, name="appointment"),
    path("installations/appointments/<str:number>/start/", views.appointment_start_view, name="start"),
    path("installations/appointments/<str:number>/complete/", views.appointment_complete_view, name="complete"),
    path("installations/appointments/<str:number>/cancel/", views.appointment_cancel_view, name="cancel"),
    path("installations/appointments/<str:number>/reschedule/", views.appointment_reschedule_view, name="reschedule"),
    path("installations/appointments/<str:number>/schedule/", views.appointment_schedule_view, name="schedule"),
    path("installations/training/<int:pk>/", views_training.training_session_page, name="training-session"),
    path("installations/training/<int:pk>/enrol/", views_training.training_enrol_view, name="training-enrol"),
    path(
        "installations/training/<int:pk>/attendance/",
        views_training.training_attendance_view,
        name="training-attendance",
    ),
    path("installations/training/<int:pk>/change/", views_training.training_change_view, name="training-change"),
    path("installations/training/<int:pk>/cancel/", views_training.training_cancel_view, name="training-cancel"),
    path("installations/alterations/", views_alterations.alteration_queue, name="alterations"),
    path("installations/alterations/new/", views_alterations.alteration_new, name="alteration-new"),
    path("installations/alterations/<str:number>/", views_alterations.alteration_page, name="alteration"),
    path(
        "installations/alterations/<str:number>/measure/",
        views_alterations.alteration_measure_view,
        name="alteration-measure",
    ),
    path(
        "installations/alterations/<str:number>/assign/",
        views_alterations.alteration_assign_view,
        name="alteration-assign",
    ),
    path(
        "installations/alterations/<str:number>/start/",
        views_alterations.alteration_start_view,
        name="alteration-start",
    ),
    path(
        "installations/alterations/<str:number>/submit/",
        views_alterations.alteration_submit_view,
        name="alteration-submit",
    ),
    path(
        "installations/alterations/<str:number>/quality-check/",
        views_alterations.alteration_quality_check_view,
        name="alteration-quality-check",
    ),
    path(
        "installations/alterations/<str:number>/collect/",
        views_alterations.alteration_collect_view,
        name="alteration-collect",
    ),
    path(
        "installations/alterations/<str:number>/renew-pickup/",
        views_alterations.alteration_pickup_renew_view,
        name="alteration-renew-pickup",
    ),
    path(
        "installations/alterations/<str:number>/cancel/",
        views_alterations.alteration_cancel_view,
        name="alteration-cancel",
    ),
]
