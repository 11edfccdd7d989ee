"""The associate page of a training session: who is seated and who waits in which place, and the
steps its state allows: enrol a customer, record who came once it has started, move or resize it,
call it off.

Every write is a service of `installations.services_training`, with the API's rules: any member
of staff with the role reads every session; an associate writes on those of their home store only,
managers and admins anywhere. A step refused (bad input, a rule, the session's state, another
store) shows the page again saying why, with the status the API would answer, and writes nothing."""

from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.views import staff_required
from installations import selectors_training as selectors
from installations import services_training as services
from installations.api.training import ELSEWHERE
from installations.choices import EnrolmentStatus, SessionStatus
from installations.forms_training import AttendanceForm, EnrolForm, SessionCancelForm, SessionChangeForm
from installations.page_access import acts_at, location_zone, page_step, require


def _session(pk):
    return get_object_or_404(selectors.session_detail(), pk=pk)


def _seated(session):
    return [e for e in session.enrolments.all() if e.status == EnrolmentStatus.ENROLLED]


def _forms(request, session, zone) -> dict:
    """The forms of the steps the session's state and the user's role allow."""
    if session.status != SessionStatus.SCHEDULED or not acts_at(request.user, session.location_id):
        return {}
    user, forms = request.user, {}
    if session.starts_at > timezone.now():
        if user.has_perm("installations.add_enrolment"):
            forms["enrol"] = EnrolForm(prefix="enrol")
        if user.has_perm("installations.change_trainingsession"):
            forms["change"] = SessionChangeForm.showing(session, zone, prefix="change")
            forms["cancel"] = SessionCancelForm(prefix="cancel")
    elif user.has_perm("installations.change_enrolment"):
        forms["attendance"] = AttendanceForm(seated=_seated(session), prefix="attendance")
    return forms


@staff_required
def training_session_page(request, pk):
    require(request.user, "installations.view_trainingsession")
    return _page(request, _session(pk))


def _page(request, session, *, status=200, sent=None):
    """The session's page; `sent` is a step's form as just sent, shown again with what was typed."""
    zone = location_zone(session.location)
    forms = _forms(request, session, zone)
    if forms and sent:
        forms |= {name: form for name, form in sent.items() if name in forms}
    enrolments = list(session.enrolments.all())
    context = {
        "session": session,
        "tz": zone,
        "seated": [e for e in enrolments if e.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.ATTENDED)],
        "waiting": sorted(
            (e for e in enrolments if e.status == EnrolmentStatus.WAITLISTED), key=lambda e: e.waiting_position
        ),
        "others": [e for e in enrolments if e.status in (EnrolmentStatus.CANCELLED, EnrolmentStatus.ABSENT)],
        "forms": forms,
    }
    return render(request, "installations/training_session.html", context, status=status)


def _step(request, pk, *, name, permission, form, work, success):
    """One step on session `pk` (see `page_access.page_step`)."""
    require(request.user, permission)
    session = _session(pk)
    return page_step(
        request,
        session,
        location_id=session.location_id,
        elsewhere=ELSEWHERE,
        page=_page,
        name=name,
        form=form,
        work=work,
        success=success,
        back=lambda: redirect("installations-pages:training-session", pk=session.pk),
    )


def _enrolled(enrolment) -> str:
    where = "a seat" if enrolment.status == EnrolmentStatus.ENROLLED else "a place on the waiting list"
    return f"{enrolment.customer.full_name} has {where}; they have been told."


@require_POST
@staff_required
def training_enrol_view(request, pk):
    return _step(
        request,
        pk,
        name="enrol",
        permission="installations.add_enrolment",
        form=lambda session, data: EnrolForm(data, prefix="enrol"),
        work=lambda session, form: services.training_enrol(
            actor=request.user, session=session, customer=form.cleaned_data["customer"]
        ),
        success=_enrolled,
    )


@require_POST
@staff_required
def training_attendance_view(request, pk):
    return _step(
        request,
        pk,
        name="attendance",
        permission="installations.change_enrolment",
        form=lambda session, data: AttendanceForm(data, seated=_seated(session), prefix="attendance"),
        work=lambda session, form: services.training_attendance(
            actor=request.user, session=session, attended_customer_ids=form.attended()
        ),
        success=lambda done: "Attendance recorded; the session is held.",
    )


@require_POST
@staff_required
def training_change_view(request, pk):
    def success(done) -> str:
        if not done.changed:
            return "Nothing was changed."
        said = []
        if {"starts_at", "ends_at"} & done.changed:
            said.append("moved; everyone enrolled or waiting has been told the new time")
        if "capacity" in done.changed:
            said.append(f"{done.capacity} seats now; anyone a new seat went to has been told")
        return "Saved: " + ", and ".join(said) + "."

    return _step(
        request,
        pk,
        name="change",
        permission="installations.change_trainingsession",
        form=lambda session, data: SessionChangeForm(data, zone=location_zone(session.location), prefix="change"),
        work=lambda session, form: services.training_session_change(
            actor=request.user, session=session, changes=form.changes(), reason=form.cleaned_data["reason"]
        ),
        success=success,
    )


@require_POST
@staff_required
def training_cancel_view(request, pk):
    return _step(
        request,
        pk,
        name="cancel",
        permission="installations.change_trainingsession",
        form=lambda session, data: SessionCancelForm(data, prefix="cancel"),
        work=lambda session, form: services.training_session_cancel(
            actor=request.user, session=session, reason=form.cleaned_data["reason"]
        ),
        success=lambda done: "The session is called off; everyone enrolled or waiting has been told why.",
    )
