"""Associate pages for alteration work orders, the store's workroom: the queue of a store, taking a
work order on a customer's purchase, and a work order's page with its history and the steps its
state allows (measure, assign, start, submit, quality check, collect, renew the pickup, cancel).

Every write is a service of `installations.services_alterations`, with its rules: any member of
staff with the role reads every work order; an associate takes and works those of their home store
only, managers and admins anywhere. A step refused (bad input, a rule, the work order's state,
another store) shows its page again saying why, with the status the API would answer (422, 409,
403), and writes nothing. The pickup's code is never shown: it is the customer's."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.api.throttling import TOO_MANY_CODES, SecretLookupThrottle
from core.errors import DomainError
from core.models import Location
from core.views import staff_required
from core.workflow import allowed_transitions
from installations import selectors_alterations as selectors
from installations import services_alterations as services
from installations.choices import OPEN_ALTERATION_STATUSES, AlterationStatus
from installations.forms import form_errors
from installations.forms_alterations import (
    ALL,
    AssignForm,
    CancelForm,
    CollectForm,
    MeasureForm,
    NewAlterationForm,
    NewAlterationSearchForm,
    QualityCheckForm,
    QueueForm,
)
from installations.page_access import acts_at, home_location, location_zone, page_step, require

PAGE_SIZE = 50


def _name(user) -> str:
    return user.get_full_name() or user.email


# --- the queue --------------------------------------------------------------------------------


@staff_required
def alteration_queue(request):
    """`?location=` (default: your home store), `?status=` (default: open and ready), `?mine=1`
    (assigned to you), `?q=` (a work order's number or its order's, in every store and state
    unless those are given too)."""
    require(request.user, "installations.view_alteration")
    form = QueueForm(request.GET)
    if not form.is_valid():
        messages.error(request, f"Showing the default queue instead. {form_errors(form)}")
    data = form.cleaned_data
    search, status, mine = data.get("q", ""), data.get("status", ""), data.get("mine", False)
    location = data.get("location")
    if location is None and not search:
        location = home_location(request.user)
    context = {
        "location": location,
        "locations": Location.objects.order_by("name"),
        "search": search,
        "status": status,
        "statuses": form.fields["status"].choices,
        "mine": mine,
        "may_take": request.user.has_perm("installations.add_alteration"),
    }
    if location is None and not search:
        messages.info(request, "Choose a store to see its work queue.")
        return render(request, "installations/alterations.html", context)
    if status == ALL or (search and not status):
        statuses = None
    else:
        statuses = [status] if status else [*OPEN_ALTERATION_STATUSES, AlterationStatus.READY]
    profile = getattr(request.user, "associate", None)
    if mine and profile is None:
        messages.info(request, "You have no associate profile, so no work of your own.")
        return render(request, "installations/alterations.html", context)
    queue = selectors.alteration_queue(
        location=location, statuses=statuses, assigned_to=profile if mine else None, search=search
    )
    page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context |= {
        "listed": True,
        "page": page,
        "rows": selectors.queue_rows(page.object_list),
        "query": query.urlencode(),
    }
    return render(request, "installations/alterations.html", context)


# --- taking a work order ----------------------------------------------------------------------


@staff_required
def alteration_new(request):
    """Find the purchase by its number, choose the item and the alteration, say what to do and,
    if you know, who does it."""
    require(request.user, "installations.add_alteration")
    if request.method == "POST":
        return _new_submit(request)
    return _new_page(request, request.GET)


def _chosen(search, offers):
    ids = search.offer_ids()
    if ids is None:
        return offers[0] if len(offers) == 1 else None
    return next((offer for offer in offers if (offer.line.pk, offer.kind.pk) == ids), None)


def _new_page(request, params, *, status=200):
    search = NewAlterationSearchForm(params or {})
    if not search.is_valid() and request.method == "GET":
        messages.error(request, form_errors(search))
    data = search.cleaned_data
    location = data.get("location") or home_location(request.user)
    context = {"search": search, "location": location, "locations": Location.objects.order_by("name")}
    page = "installations/alteration_new.html"
    if location is None:
        messages.info(request, "Choose the store that does the work.")
        return render(request, page, context, status=status)
    if not acts_at(request.user, location.pk):
        messages.error(request, services.ELSEWHERE)
        return render(request, page, context, status=status)
    context["may_take"] = True
    number = data.get("order")
    if not number:
        return render(request, page, context, status=status)
    order = selectors.order_for_alteration(number)
    if order is None:
        messages.error(request, f"No order {number}.")
        return render(request, page, context, status=status)
    offers = selectors.alteration_offers(order)
    context |= {"order": order, "offers": offers}
    if not offers:
        messages.info(request, f"Nothing on order {order.number} can be altered: no alteration covers its items.")
        return render(request, page, context, status=status)
    chosen = _chosen(search, offers)
    if chosen is None:
        if search.offer_ids() is not None:
            messages.error(request, "Choose one of the items and alterations listed.")
        return render(request, page, context, status=status)
    context |= {
        "chosen": chosen,
        "tailors": list(selectors.alteration_tailors(chosen.kind, location)),
        "specification": params.get("specification", ""),
        "assigned_to": params.get("assigned_to", ""),
    }
    return render(request, page, context, status=status)


def _new_submit(request):
    form = NewAlterationForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was taken. {form_errors(form)}")
        return _new_page(request, request.POST, status=422)
    data = form.cleaned_data
    location = data.get("location") or home_location(request.user)
    if location is None:
        messages.error(request, "Nothing was taken. Choose the store that does the work.")
        return _new_page(request, request.POST, status=422)
    if not acts_at(request.user, location.pk):
        return _new_page(request, request.POST, status=403)  # it says why
    order = selectors.order_for_alteration(data["order"])
    chosen = _chosen(form, selectors.alteration_offers(order)) if order is not None else None
    if chosen is None:
        messages.error(request, "Nothing was taken. Find the order and choose the item and the alteration again.")
        return _new_page(request, request.POST, status=422)
    tailor = None
    if data.get("assigned_to") is not None:
        tailor = selectors.alteration_tailors(chosen.kind, location).filter(pk=data["assigned_to"]).first()
        if tailor is None:
            messages.error(request, "Nothing was taken. Choose one of the tailors listed.")
            return _new_page(request, request.POST, status=422)
    try:
        alteration = services.alteration_request(
            actor=request.user,
            order_line=chosen.line,
            kind=chosen.kind,
            location=location,
            specification=data["specification"],
            assigned_to=tailor,
        )
    except (DomainError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "detail", str(exc)))
        return _new_page(request, request.POST, status=getattr(exc, "status", 403))
    messages.success(
        request,
        f"{chosen.kind.name} of {chosen.line.product.name} taken: {alteration.number}, ready by "
        f"{alteration.due_on:%A} {alteration.due_on.day} {alteration.due_on:%B}; the customer has been told.",
    )
    return redirect("installations-pages:alteration", number=alteration.number)


# --- a work order -----------------------------------------------------------------------------


@staff_required
def alteration_page(request, number):
    require(request.user, "installations.view_alteration")
    return _page(request, get_object_or_404(selectors.alteration_detail(), number=number))


def _step_forms(alteration) -> dict:
    """The forms of the steps the work order's state allows."""
    allowed = set(allowed_transitions(alteration))
    lapsed = selectors.pickup_lapsed(alteration)
    forms = {}
    if "measure" in allowed:
        forms["measure"] = MeasureForm.showing(alteration.measurements, prefix="measure")
    if alteration.status in OPEN_ALTERATION_STATUSES:
        tailors = selectors.alteration_tailors(alteration.kind, alteration.location)
        forms["assign"] = AssignForm(associates=tailors, prefix="assign", initial={"associate": alteration.assigned_to})
    forms["start"] = "start" in allowed
    forms["submit"] = "submit" in allowed
    if "approve" in allowed:
        forms["check"] = QualityCheckForm(prefix="check")
    if "collect" in allowed and not lapsed:
        forms["collect"] = CollectForm(prefix="collect")
    forms["renew"] = lapsed
    if "cancel" in allowed:
        forms["cancel"] = CancelForm(prefix="cancel")
    return {name: form for name, form in forms.items() if form is not False}


def _page(request, alteration, *, status=200, sent=None):
    """The work order's page; `sent` is a step's form as just sent, shown again with what was typed."""
    zone = location_zone(alteration.location)
    may_change = request.user.has_perm("installations.change_alteration") and acts_at(
        request.user, alteration.location_id
    )
    forms = _step_forms(alteration) if may_change else None
    if forms and sent:
        forms |= {name: form for name, form in sent.items() if name in forms}
    context = {
        "alteration": alteration,
        "tz": zone,
        "today": timezone.localdate(timezone=zone),
        "open": alteration.status in OPEN_ALTERATION_STATUSES,
        "pickup_lapsed": selectors.pickup_lapsed(alteration),
        "history": selectors.alteration_history(alteration),
        "forms": forms,
    }
    return render(request, "installations/alteration.html", context, status=status)


def _step(request, number, *, name, work, success, form=None, echo=True):
    """One step of the work order `number` (see `page_access.page_step`)."""
    require(request.user, "installations.change_alteration")
    alteration = get_object_or_404(selectors.alteration_detail(), number=number)
    return page_step(
        request,
        alteration,
        location_id=alteration.location_id,
        elsewhere=services.ELSEWHERE,
        page=_page,
        name=name,
        form=form,
        work=work,
        success=success,
        back=lambda: redirect("installations-pages:alteration", number=alteration.number),
        echo=echo,
    )


@require_POST
@staff_required
def alteration_measure_view(request, number):
    return _step(
        request,
        number,
        name="measure",
        form=lambda alteration, data: MeasureForm(data, prefix="measure"),
        work=lambda alteration, form: services.alteration_measure(
            actor=request.user, alteration=alteration, measurements=form.measurements()
        ),
        success=lambda done: f"{done.number}: {len(done.measurements)} measurement(s) recorded.",
    )


@require_POST
@staff_required
def alteration_assign_view(request, number):
    return _step(
        request,
        number,
        name="assign",
        form=lambda alteration, data: AssignForm(
            data, associates=selectors.alteration_tailors(alteration.kind, alteration.location), prefix="assign"
        ),
        work=lambda alteration, form: services.alteration_assign(
            actor=request.user, alteration=alteration, associate=form.cleaned_data["associate"]
        ),
        success=lambda done: f"{done.number} assigned to {_name(done.assigned_to.user)}.",
    )


@require_POST
@staff_required
def alteration_start_view(request, number):
    return _step(
        request,
        number,
        name="start",
        work=lambda alteration, _: services.alteration_start(actor=request.user, alteration=alteration),
        success=lambda done: f"{done.number}: work started.",
    )


@require_POST
@staff_required
def alteration_submit_view(request, number):
    return _step(
        request,
        number,
        name="submit",
        work=lambda alteration, _: services.alteration_submit(actor=request.user, alteration=alteration),
        success=lambda done: f"{done.number} submitted for the quality check.",
    )


def _checked(done) -> str:
    if done.status == AlterationStatus.READY:
        return f"{done.number} passed the check and is ready for pickup; the customer has been sent the code."
    return f"{done.number} failed the check and is back in progress."


@require_POST
@staff_required
def alteration_quality_check_view(request, number):
    return _step(
        request,
        number,
        name="check",
        form=lambda alteration, data: QualityCheckForm(data, prefix="check"),
        work=lambda alteration, form: services.alteration_quality_check(
            actor=request.user, alteration=alteration, passed=form.passed, note=form.cleaned_data["note"]
        ),
        success=_checked,
    )


@require_POST
@staff_required
def alteration_collect_view(request, number):
    """The hand-over checks a secret, so it is rate limited like the API's look-ups of codes."""
    require(request.user, "installations.change_alteration")
    if not SecretLookupThrottle().allow_request(request, None):
        messages.error(request, TOO_MANY_CODES)
        return _page(request, get_object_or_404(selectors.alteration_detail(), number=number), status=429)
    return _step(
        request,
        number,
        name="collect",
        echo=False,  # never put a code typed back on the page
        form=lambda alteration, data: CollectForm(data, prefix="collect"),
        work=lambda alteration, form: services.alteration_collect(
            actor=request.user, alteration=alteration, code=form.cleaned_data["code"]
        ),
        success=lambda done: f"{done.number} collected by {done.customer.full_name}; "
        f"the fee of {done.fee} {done.currency} is taken.",
    )


@require_POST
@staff_required
def alteration_pickup_renew_view(request, number):
    return _step(
        request,
        number,
        name="renew",
        work=lambda alteration, _: services.alteration_pickup_renew(actor=request.user, alteration=alteration),
        success=lambda done: f"{done.number} has a new pickup, {done.pickup.number}; "
        "the customer has been sent its code and deadline.",
    )


@require_POST
@staff_required
def alteration_cancel_view(request, number):
    return _step(
        request,
        number,
        name="cancel",
        form=lambda alteration, data: CancelForm(data, prefix="cancel"),
        work=lambda alteration, form: services.alteration_cancel(
            actor=request.user, alteration=alteration, reason=form.cleaned_data["reason"]
        ),
        success=lambda done: f"{done.number} cancelled; the customer has been told why.",
    )
