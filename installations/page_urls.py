from django.urls import path

from installations import views

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
]
