"""The floor the API is measured against: a minimal Django view per endpoint that runs one raw SQL
query for the same rows and columns the API returns, and answers with JsonResponse.

No authentication, permissions, filters, serializers or cursor encoding: whatever the API spends
beyond this is the price of those. The views are mounted only by bench/urls.py.
"""

from urllib.parse import urlencode

from django.db import connection
from django.http import Http404, JsonResponse

PAGE_SIZE = 50

CUSTOMER_COLUMNS = "id, number, given_name, family_name, email, phone, preferred_channel, created_at"
CUSTOMER_LIST_FIRST_SQL = f"""
    SELECT {CUSTOMER_COLUMNS} FROM core_customer
    ORDER BY family_name, given_name, id
    LIMIT %s"""
CUSTOMER_LIST_AFTER_SQL = f"""
    SELECT {CUSTOMER_COLUMNS} FROM core_customer
    WHERE family_name > %s
    ORDER BY family_name, given_name, id
    LIMIT %s"""

CUSTOMER_DETAIL_SQL = """
    SELECT c.id, c.number, c.given_name, c.family_name, c.email, c.alternate_email, c.phone,
           c.alternate_phone, c.time_zone, c.language, c.preferred_channel, c.consent_email,
           c.consent_sms, c.consent_push,
           COALESCE((SELECT json_agg(json_build_object(
                        'id', a.id, 'label', a.label, 'line1', a.line1, 'line2', a.line2, 'city', a.city,
                        'postcode', a.postcode, 'region', a.region, 'country', a.country,
                        'latitude', a.latitude::text, 'longitude', a.longitude::text,
                        'is_default', a.is_default) ORDER BY a.is_default DESC, a.id)
                     FROM core_customeraddress a WHERE a.customer_id = c.id), '[]') AS addresses,
           COALESCE((SELECT json_agg(json_build_object('source', e.source, 'external_id', e.external_id)
                                     ORDER BY e.id)
                     FROM core_customerexternalid e WHERE e.customer_id = c.id), '[]') AS external_ids,
           c.created_at, c.updated_at
    FROM core_customer c
    WHERE c.id = %s"""

TIMELINE_SQL = """
    SELECT t.id, t.kind, t.channel, t.occurred_at, t.summary, t.order_number,
           u.id, u.first_name, u.last_name, u.email,
           l.id, l.code, l.name,
           p.id, p.sku, p.name,
           ct.app_label, ct.model, t.subject_id
    FROM core_touchpoint t
    LEFT JOIN core_user u ON u.id = t.associate_id
    LEFT JOIN core_location l ON l.id = t.location_id
    LEFT JOIN core_product p ON p.id = t.product_id
    LEFT JOIN django_content_type ct ON ct.id = t.subject_type_id
    WHERE t.customer_id = %s
    ORDER BY t.occurred_at DESC, t.id DESC
    LIMIT %s"""


def _page(request, results, more, cursor):
    nxt = f"{request.path}?{urlencode(cursor)}" if more else None
    return JsonResponse({"next": nxt, "previous": None, "results": results})


def customer_list(request):
    after = request.GET.get("after")
    with connection.cursor() as cursor:
        if after:
            cursor.execute(CUSTOMER_LIST_AFTER_SQL, [after, PAGE_SIZE + 1])
        else:
            cursor.execute(CUSTOMER_LIST_FIRST_SQL, [PAGE_SIZE + 1])
        names = [col.name for col in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    results = rows[:PAGE_SIZE]
    return _page(request, results, len(rows) > PAGE_SIZE, {"after": results[-1]["family_name"] if results else ""})


def customer_detail(request, pk):
    with connection.cursor() as cursor:
        cursor.execute(CUSTOMER_DETAIL_SQL, [pk])
        names = [col.name for col in cursor.description]
        row = cursor.fetchone()
    if row is None:
        raise Http404
    data = dict(zip(names, row, strict=True))
    data["etag"] = f'"{data["id"]}-{data["updated_at"].timestamp():.6f}"'
    return JsonResponse(data, headers={"ETag": data["etag"]})


def customer_timeline(request, pk):
    with connection.cursor() as cursor:
        cursor.execute(TIMELINE_SQL, [pk, PAGE_SIZE + 1])
        rows = cursor.fetchall()
    results = []
    for (
        tid,
        kind,
        channel,
        occurred_at,
        summary,
        order_number,
        user_id,
        first_name,
        last_name,
        user_email,
        location_id,
        location_code,
        location_name,
        product_id,
        sku,
        product_name,
        app_label,
        model,
        subject_id,
    ) in rows[:PAGE_SIZE]:
        full_name = f"{first_name} {last_name}".strip() if user_id else ""
        results.append(
            {
                "id": tid,
                "kind": kind,
                "channel": channel,
                "occurred_at": occurred_at,
                "summary": summary,
                "order_number": order_number,
                "associate": {"id": user_id, "name": full_name or user_email} if user_id else None,
                "location": {"id": location_id, "code": location_code, "name": location_name} if location_id else None,
                "product": {"id": product_id, "sku": sku, "name": product_name} if product_id else None,
                "subject": {"type": f"{app_label}.{model}", "id": subject_id} if app_label else None,
            }
        )
    last = results[-1] if results else None
    cursor = {"before": last["occurred_at"].isoformat(), "id": last["id"]} if last else {}
    return _page(request, results, len(rows) > PAGE_SIZE, cursor)
