from django.urls import path

from returns import views

app_name = "returns-pages"

urlpatterns = [
    path("returns/", views.return_list, name="returns"),
    path("returns/analytics/", views.return_analytics, name="analytics"),
    path("returns/<str:number>/", views.return_page, name="return"),
    path("returns/<str:number>/receive/", views.return_receive, name="receive"),
    path("returns/<str:number>/inspect/", views.return_inspect, name="inspect"),
    path("returns/<str:number>/refund/", views.return_refund, name="refund"),
    path("returns/<str:number>/decide/", views.return_decide, name="decide"),
]
