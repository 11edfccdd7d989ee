from django.urls import path

from orders import views

app_name = "orders-pages"

urlpatterns = [
    path("orders/<str:number>/", views.order_detail, name="order"),
    path("exceptions/", views.exception_list, name="exceptions"),
    path("exceptions/<int:pk>/remedy/", views.exception_remedy, name="exception-remedy"),
    path("at-risk/", views.at_risk_list, name="at-risk"),
    path("pickups/", views.pickups_today, name="pickups"),
    path("pickups/<str:number>/", views.pickup_page, name="pickup"),
]
