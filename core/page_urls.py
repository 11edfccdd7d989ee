from django.urls import path

from core import views

app_name = "pages"

urlpatterns = [
    path("", views.today, name="today"),
    path("customers/", views.customer_search, name="customer-search"),
    path("customers/<str:number>/", views.customer_detail, name="customer-detail"),
]
