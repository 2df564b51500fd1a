"""Quality monitoring pages: a reviewer's monitoria (drafts, finished reviews, and the
interactions they may review, searchable), the review itself (a form that works with the
keyboard alone while a draft; every item and comment once finished), an agent's own reviews
with their acknowledgement, and the QA form preview admins open from the admin."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.http import content_disposition_header
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from coaching import selectors
from coaching.models import (
    QAAssignment,
    QACalibration,
    QADispute,
    QAForm,
    QAFormVersion,
    QAReview,
)
from coaching.selectors import quality as reads
from coaching.selectors.quality_reports import export_rows, qa_report, report_reviews
from coaching.services.quality import (
    review_acknowledge,
    review_answers_save,
    review_finish,
    review_start,
    stored_answer,
    version_rules,
)
from coaching.services.quality_calibration import (
    calibration_close,
    calibration_open,
    calibration_review,
)
from coaching.services.quality_disputes import (
    dispute_accept,
    dispute_deadline,
    dispute_open,
    dispute_reject,
)
from coaching.services.quality_plans import assignment_review
from coaching.views.common import add_errors
from config.exports import XLSX_TYPE, Table, csv_bytes, xlsx_bytes
from performance.access import agents_reviewable_by, interactions_reviewable_by, teams_reviewed_by
from performance.models import Agent, Channel, Team
from performance.roles import is_admin, is_agent, is_reviewer, is_team_lead
from performance.templatetags.metric_format import local_time
from performance.views.common import htmx_swap, query_errors

INTERACTIONS_PER_PAGE = 25
QUEUE_SHOWN = 50
REVIEWS_PER_PAGE = 25
COMMENT_MAX_LENGTH = 4000


def _reviewer_or_404(request: HttpRequest) -> None:
    if not is_reviewer(request.user):
        raise Http404(gettext("Only quality analysts and team leads review interactions."))


class InteractionQuery(forms.Form):
    reference = forms.CharField(
        required=False,
        max_length=128,
        label=_("Protocol or external id"),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    agent = forms.ModelChoiceField(
        queryset=Agent.objects.none(), required=False, empty_label=_("All agents"), label=_("Agent")
    )
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.order_by("name"),
        required=False,
        empty_label=_("All channels"),
        label=_("Channel"),
        to_field_name="code",
    )
    day = forms.DateField(
        required=False, label=_("Day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, label=_("Page"))

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = agents_reviewable_by(user).order_by(
            "user__first_name", "user__last_name", "pk"
        )
        self.fields["agent"].label_from_instance = lambda agent: agent.display_name


def _filters(request: HttpRequest) -> str:
    """The page's query without its page number, for the pagination links."""
    filters = request.GET.copy()
    filters.pop("page", None)
    return filters.urlencode()


class StartForm(forms.Form):
    interaction = forms.IntegerField(min_value=1)
    form = forms.ModelChoiceField(queryset=QAForm.objects.filter(active=True))


@login_required
@require_GET
@vary_on_headers("HX-Request")
def monitoring(request: HttpRequest) -> HttpResponse:
    """A reviewer's monitoria: their drafts, what they finished lately, and the interactions
    they may review (by protocol or external id, agent, channel and day)."""
    _reviewer_or_404(request)
    query = InteractionQuery(request.GET or None, user=request.user)
    errors: list[str] = []
    found = reads.interactions_for_review(request.user)
    if query.is_bound:
        if query.is_valid():
            data = query.cleaned_data
            found = reads.interactions_for_review(
                request.user,
                reference=data["reference"],
                agent_id=data["agent"].pk if data["agent"] else None,
                channel=data["channel"].code if data["channel"] else "",
                day=data["day"],
            )
        else:
            errors = query_errors(query)
    page = Paginator(found, INTERACTIONS_PER_PAGE).get_page(request.GET.get("page"))
    forms_by_channel: dict[str, list[QAForm]] = {}
    for interaction in page.object_list:
        if interaction.channel not in forms_by_channel:
            forms_by_channel[interaction.channel] = list(
                reads.forms_for_channel(interaction.channel)
            )
    context = {
        "query": query,
        "errors": errors,
        "page": page,
        "rows": [
            (interaction, forms_by_channel[interaction.channel]) for interaction in page.object_list
        ],
        "filters": _filters(request),
    }
    if htmx_swap(request):
        return render(request, "coaching/quality.html#interactions", context)
    context["drafts"] = reads.reviewer_drafts(request.user).order_by("-updated_at")
    context["disputes"] = reads.disputes_to_decide(request.user)
    context["queue"] = reads.analyst_queue(request.user)[:QUEUE_SHOWN]
    context["today"] = timezone.localdate()
    context["finished"] = reads.reviewer_finished(request.user)[:10]
    return render(request, "coaching/quality.html", context)


@login_required
@require_POST
def assignment_review_view(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Open (or start) the review of an interaction a plan assigned to the user."""
    _reviewer_or_404(request)
    assignment = QAAssignment.objects.filter(pk=assignment_id, analyst=request.user).first()
    if assignment is None:
        raise Http404(gettext("No such assignment"))
    try:
        review = assignment_review(assignment, reviewer=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("coaching:quality")
    return redirect("coaching:review", review.pk)


@login_required
@require_GET
def plans_progress(request: HttpRequest) -> HttpResponse:
    """Review plans against what was drawn and reviewed, per team and period."""
    _reviewer_or_404(request)
    return render(
        request,
        "coaching/quality_plans.html",
        {"rows": reads.plan_progress(request.user, today=timezone.localdate())},
    )


@login_required
@require_POST
def review_start_view(request: HttpRequest) -> HttpResponse:
    _reviewer_or_404(request)
    form = StartForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose an interaction and a form to review it on."))
        return redirect("coaching:quality")
    try:
        review = review_start(
            reviewer=request.user,
            interaction_id=form.cleaned_data["interaction"],
            form=form.cleaned_data["form"],
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("coaching:quality")
    return redirect("coaching:review", review.pk)


def _posted_answers(request: HttpRequest, version: QAFormVersion) -> dict[str, tuple[Any, str]]:
    """The version's items' answers and comments as posted, read as the services take them
    (`stored_answer`); an item with neither is left out."""
    answers: dict[str, tuple[Any, str]] = {}
    for rule in version_rules(version):
        answer = request.POST.get(f"answer-{rule.key}", "").strip()
        comment = request.POST.get(f"comment-{rule.key}", "")[:COMMENT_MAX_LENGTH]
        if answer or comment.strip():
            answers[rule.key] = (stored_answer(rule, answer), comment)
    return answers


def _as_posted(item: reads.ReviewedItem, posted: dict[str, tuple[Any, str]]) -> reads.ReviewedItem:
    if item.key not in posted:
        return replace(item, answer="", comment="")
    answer, comment = posted[item.key]
    return replace(item, answer="" if answer is None else str(answer), comment=comment)


def _leads_agent(user, review: QAReview) -> bool:
    """Whether the user coaches the review's agent (opens flags, assigns training)."""
    if is_admin(user):
        return True
    team_id = review.agent.team_id
    return bool(
        team_id and is_team_lead(user) and Team.objects.filter(pk=team_id, leads=user).exists()
    )


def _review_page(
    request: HttpRequest,
    review: QAReview,
    *,
    errors: dict[str, list[str]] | None = None,
    posted: dict[str, tuple[Any, str]] | None = None,
    comment: str | None = None,
    dispute_errors: dict[str, list[str]] | None = None,
    dispute_comment: str = "",
    status: int = 200,
) -> HttpResponse:
    errors = errors or {}
    sections = reads.review_sections(review)
    if posted is not None:
        # Show what was posted, not what is stored, beside the reasons it was refused.
        sections = [
            replace(
                section,
                items=[
                    replace(_as_posted(item, posted), problems=tuple(errors.get(item.key, ())))
                    for item in section.items
                ],
            )
            for section in sections
        ]
    editable = review.status == QAReview.Status.DRAFT and review.reviewer_id == request.user.pk
    disputes = list(review.disputes.select_related("decided_by").order_by("round"))
    open_dispute = next((d for d in disputes if d.status == QADispute.Status.OPEN), None)
    deciding = open_dispute is not None and reads.may_decide_dispute(request.user, review)
    own = review.agent.user_id == request.user.pk
    items = {item.key: item for section in sections for item in section.items}
    context = {
        "disputes": [
            (dispute, [items[key] for key in dispute.items if key in items]) for dispute in disputes
        ],
        "dispute_deadline": dispute_deadline(review) if own else None,
        "deciding": open_dispute if deciding else None,
        "contested": [items[key] for key in open_dispute.items if key in items] if deciding else [],
        "dispute_errors": dispute_errors or {},
        "dispute_comment": dispute_comment,
        "review": review,
        "sections": sections,
        "item_errors": [key for key in errors if key != "__all__"],
        "errors": errors.get("__all__", []),
        "editable": editable,
        "comment": review.comment if comment is None else comment,
        "own": own,
        "misses": reads.repeated_misses(review) if not own else [],
        "leads_agent": _leads_agent(request.user, review),
        "points": reads.form_points(review.version.structure),
    }
    return render(request, "coaching/review.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    review = reads.review_for_user_or_404(request.user, review_id)
    if request.method == "GET":
        return _review_page(request, review)
    if review.reviewer_id != request.user.pk or review.status != QAReview.Status.DRAFT:
        raise Http404(gettext("You cannot change this review."))
    answers = _posted_answers(request, review.version)
    comment = request.POST.get("comment", "")[:COMMENT_MAX_LENGTH]
    finishing = request.POST.get("action") == "finish"
    try:
        if finishing:
            review = review_finish(review, reviewer=request.user, answers=answers, comment=comment)
        else:
            review_answers_save(review, reviewer=request.user, answers=answers, comment=comment)
    except ValidationError as error:
        problems = (
            error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        )
        review.refresh_from_db()
        return _review_page(
            request, review, errors=problems, posted=answers, comment=comment, status=400
        )
    if finishing and review.calibration_id:
        messages.success(request, gettext("Calibration review finished: its score is not kept."))
        return redirect("coaching:calibration", review.calibration_id)
    if finishing:
        messages.success(
            request,
            gettext("Review finished: %(agent)s's interaction now scores %(score)s.")
            % {"agent": review.agent.display_name, "score": floatformat(review.score, "-2")},
        )
        return redirect("coaching:quality")
    messages.success(request, gettext("Draft saved."))
    return redirect("coaching:review", review.pk)


@login_required
@require_GET
def my_reviews(request: HttpRequest) -> HttpResponse:
    """An agent's finished reviews, latest first, the ones to acknowledge marked."""
    if not is_agent(request.user):
        raise Http404(gettext("Only agents have reviews of their own."))
    reviews = reads.agent_reviews(request.user.agent)
    page = Paginator(reviews, REVIEWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "coaching/my_reviews.html",
        {
            "page": page,
            "to_acknowledge": reviews.filter(acknowledged_at__isnull=True).count(),
            "filters": _filters(request),
        },
    )


@login_required
@require_POST
def review_acknowledge_view(request: HttpRequest, review_id: int) -> HttpResponse:
    review = reads.review_for_user_or_404(request.user, review_id)
    try:
        review_acknowledge(review, user=request.user)
    except ValidationError as error:
        raise Http404(error.messages[0]) from None
    messages.success(request, gettext("Review acknowledged."))
    return redirect("coaching:review", review.pk)


def _problems(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}


@login_required
@require_POST
def review_dispute_view(request: HttpRequest, review_id: int) -> HttpResponse:
    """The agent contests items of their finished review."""
    review = reads.review_for_user_or_404(request.user, review_id)
    if review.agent.user_id != request.user.pk:
        raise Http404(gettext("Only the reviewed agent contests a review."))
    comment = request.POST.get("comment", "")[:COMMENT_MAX_LENGTH]
    try:
        dispute_open(review, user=request.user, items=request.POST.getlist("item"), comment=comment)
    except ValidationError as error:
        return _review_page(
            request,
            review,
            dispute_errors=_problems(error),
            dispute_comment=comment,
            status=400,
        )
    messages.success(request, gettext("Dispute sent: you will be told of the decision."))
    return redirect("coaching:review", review.pk)


@login_required
@require_POST
def dispute_decide_view(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """Accept (with the contested items' new answers) or reject (with a reason) a dispute."""
    dispute = (
        QADispute.objects.filter(pk=dispute_id, review__in=reads.reviews_visible_to(request.user))
        .select_related("review")
        .first()
    )
    if dispute is None or not reads.may_decide_dispute(request.user, dispute.review):
        raise Http404(gettext("No such dispute"))
    review = reads.review_for_user_or_404(request.user, dispute.review_id)
    reason = request.POST.get("reason", "")[:COMMENT_MAX_LENGTH]
    try:
        if request.POST.get("action") == "accept":
            answers = {
                key: value
                for key, value in _posted_answers(request, review.version).items()
                if key in dispute.items
            }
            dispute_accept(dispute, user=request.user, answers=answers, reason=reason)
            messages.success(request, gettext("Dispute accepted: the review's score changed."))
        else:
            dispute_reject(dispute, user=request.user, reason=reason)
            messages.success(request, gettext("Dispute rejected: the review stands."))
    except ValidationError as error:
        return _review_page(
            request, review, dispute_errors=_problems(error), dispute_comment=reason, status=400
        )
    return redirect("coaching:review", review.pk)


@login_required
@require_GET
def qa_form_preview(request: HttpRequest, form_id: int) -> HttpResponse:
    """For admins writing a QA form: its sections and items as analysts will score them."""
    if not is_admin(request.user):
        raise Http404(gettext("Only admins preview QA forms."))
    form = QAForm.objects.select_related("channel").filter(pk=form_id).first()
    if form is None:
        raise Http404(gettext("No such QA form"))
    structure = selectors.form_structure(form)
    return render(
        request,
        "coaching/qa_form_preview.html",
        {
            "form": form,
            "structure": structure,
            "points": selectors.form_points(structure),
            "versions": form.versions.count(),
        },
    )


# --- calibration ------------------------------------------------------------------------------


class CalibrationForm(forms.Form):
    title = forms.CharField(max_length=120, label=_("Title"))
    interaction = forms.CharField(
        max_length=128,
        label=_("Interaction (external id)"),
        help_text=_("An interaction of a team you review."),
    )
    form = forms.ModelChoiceField(
        queryset=QAForm.objects.filter(active=True).order_by("name"),
        label=_("Form"),
        empty_label=_("Choose…"),
    )
    participants = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Reviewers who score it blind"),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = reads.calibration_candidates(user)
        self.fields["participants"].label_from_instance = lambda person: (
            person.get_full_name() or person.username
        )


@login_required
@require_http_methods(["GET", "POST"])
def calibrations(request: HttpRequest) -> HttpResponse:
    """The calibration sessions the user runs or takes part in, and a new one."""
    _reviewer_or_404(request)
    form = CalibrationForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            interaction = (
                interactions_reviewable_by(request.user)
                .filter(external_id=data["interaction"].strip())
                .order_by("-started_at")
                .first()
            )
            if interaction is None:
                form.add_error("interaction", gettext("You may not review this interaction."))
            else:
                try:
                    calibration = calibration_open(
                        by=request.user,
                        title=data["title"],
                        interaction_id=interaction.pk,
                        form=data["form"],
                        participant_ids=[person.pk for person in data["participants"]],
                    )
                except ValidationError as error:
                    add_errors(form, error)
                else:
                    messages.success(request, gettext("Calibration session opened."))
                    return redirect("coaching:calibration", calibration.pk)
        status = 400
    sessions = reads.calibrations_visible_to(request.user).order_by("-created_at")[:50]
    return render(
        request,
        "coaching/calibrations.html",
        {"sessions": sessions, "form": form},
        status=status,
    )


def _calibration_page(
    request: HttpRequest,
    calibration: QACalibration,
    *,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    own = calibration.reviews.filter(reviewer=user).exclude(pk=calibration.reference_id).first()
    sees = reads.may_see_spread(user, calibration)
    spread = reads.calibration_spread(calibration) if sees else []
    alignment = reads.calibration_alignment(calibration)
    people = {
        person.pk: person.get_full_name() or person.username
        for person in calibration.participants.all()
    }
    closing = calibration.status == "open" and calibration.facilitator_id == user.pk
    rules = {
        item.key: item
        for section in reads.review_sections_of_version(calibration.version)
        for item in section.items
    }
    context = {
        "calibration": calibration,
        "own": own,
        "participant": user.pk in people,
        "sees": sees,
        "spread": spread,
        "finished": calibration.reviews.filter(status="finished")
        .exclude(pk=calibration.reference_id)
        .count(),
        "people": people.values(),
        "alignment": [(people.get(row.reviewer_id, "?"), row) for row in alignment],
        "closing": closing,
        # The close form starts from the answer most reviewers gave.
        "reference_items": [
            replace(rules[item.key], answer=item.counts[0][0] if item.counts else "")
            for item in spread
        ]
        if closing
        else [],
        "errors": errors or {},
    }
    return render(request, "coaching/calibration.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def calibration_detail(request: HttpRequest, calibration_id: int) -> HttpResponse:
    calibration = reads.calibration_for_user_or_404(request.user, calibration_id)
    if request.method == "GET":
        return _calibration_page(request, calibration)
    try:
        if request.POST.get("action") == "close":
            calibration_close(
                calibration,
                by=request.user,
                answers=_posted_answers(request, calibration.version),
                notes=request.POST.get("notes", "")[:COMMENT_MAX_LENGTH],
            )
            messages.success(request, gettext("Calibration session closed."))
            return redirect("coaching:calibration", calibration.pk)
        review = calibration_review(calibration, reviewer=request.user)
    except ValidationError as error:
        return _calibration_page(request, calibration, errors=_problems(error), status=400)
    return redirect("coaching:review", review.pk)


@login_required
@require_GET
def calibration_alignment_page(request: HttpRequest) -> HttpResponse:
    _reviewer_or_404(request)
    return render(
        request,
        "coaching/calibration_alignment.html",
        {"rows": reads.alignment_over_time(request.user)},
    )


# --- reports ----------------------------------------------------------------------------------


class ReportQuery(forms.Form):
    kind = forms.ChoiceField(choices=QAForm.Kind.choices, required=False, label=_("Reviews of"))
    since = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    team = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("All my teams"), label=_("Team")
    )
    form = forms.ModelChoiceField(
        queryset=QAForm.objects.order_by("name"),
        required=False,
        empty_label=_("All forms"),
        label=_("Form"),
    )

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_reviewed_by(user).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        today = timezone.localdate()
        data["kind"] = data.get("kind") or QAForm.Kind.MONITORING
        data["until"] = data.get("until") or today
        data["since"] = data.get("since") or (data["until"] - timedelta(days=REPORT_DAYS))
        if data["since"] > data["until"]:
            raise forms.ValidationError(gettext("The start comes after the end."))
        if (data["until"] - data["since"]).days > MAX_REPORT_DAYS:
            raise forms.ValidationError(
                gettext("Choose at most %(days)s days.") % {"days": MAX_REPORT_DAYS}
            )
        return data


REPORT_DAYS = 90
MAX_REPORT_DAYS = 731


def _report_filters(query: ReportQuery) -> dict[str, Any]:
    data = query.cleaned_data
    return {
        "since": data["since"],
        "until": data["until"],
        "team_id": data["team"].pk if data["team"] else None,
        "form_id": data["form"].pk if data["form"] else None,
        "kind": data["kind"],
    }


@login_required
@require_GET
def quality_reports(request: HttpRequest) -> HttpResponse:
    """QA scores by month, team, agent, form, section and item; the items each team misses
    most; and the period's reviews as CSV or .xlsx."""
    _reviewer_or_404(request)
    query = ReportQuery(request.GET, user=request.user)
    if not query.is_valid():
        return render(
            request,
            "coaching/quality_reports.html",
            {"query": query, "errors": query_errors(query)},
            status=400,
        )
    filters = _report_filters(query)
    return render(
        request,
        "coaching/quality_reports.html",
        {
            "query": query,
            "report": qa_report(request.user, **filters),
            "export_query": request.GET.urlencode(),
            **filters,
        },
    )


EXPORT_TEXT_COLUMNS = 6


@never_cache
@login_required
@require_GET
def quality_reports_export(request: HttpRequest, file_format: str) -> HttpResponse:
    _reviewer_or_404(request)
    if file_format not in ("csv", "xlsx"):
        raise Http404(gettext("Reviews download as .csv or .xlsx."))
    query = ReportQuery(request.GET, user=request.user)
    if not query.is_valid():
        return render(
            request,
            "coaching/quality_reports.html",
            {"query": query, "errors": query_errors(query)},
            status=400,
        )
    filters = _report_filters(query)
    reviews = export_rows(report_reviews(request.user, **filters))
    header = (
        gettext("Interaction started"),
        gettext("Interaction"),
        gettext("Protocol"),
        gettext("Channel"),
        gettext("Agent"),
        gettext("Team"),
        gettext("Form"),
        gettext("Version"),
        gettext("Reviewer"),
        gettext("Finished"),
        gettext("Score"),
        gettext("Acknowledged"),
        gettext("Disputes"),
        gettext("Overall comment"),
    )
    rows = tuple(
        (
            local_time(review.interaction.started_at),
            review.interaction.external_id,
            review.interaction.case_id,
            review.interaction.channel,
            review.agent.display_name,
            review.agent.team.name if review.agent.team else "",
            review.version.form.name,
            review.version.number,
            review.reviewer.get_full_name() or review.reviewer.username,
            local_time(review.finished_at) if review.finished_at else "",
            review.score if review.score is not None else "",
            local_time(review.acknowledged_at) if review.acknowledged_at else "",
            review.disputes_count,
            review.comment,
        )
        for review in reviews
    )
    produced_at = timezone.now()
    span = f"{filters['since'].isoformat()}_{filters['until'].isoformat()}"
    table = Table(
        title=gettext("QA reviews: %(since)s to %(until)s")
        % {"since": date_format(filters["since"]), "until": date_format(filters["until"])},
        status=ngettext("%(count)s review", "%(count)s reviews", len(rows)) % {"count": len(rows)},
        produced=gettext("Produced at %(when)s") % {"when": local_time(produced_at)},
        header=header,
        rows=rows,
        sheet_name=span,
    )
    name = pgettext("file name", "qa-reviews-%(span)s") % {"span": span}
    if file_format == "csv":
        body = csv_bytes(table, decimal_separator=get_format("DECIMAL_SEPARATOR"))
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        filename = f"{name}.csv"
    else:
        body = xlsx_bytes(table, produced_at=produced_at, text_columns=EXPORT_TEXT_COLUMNS)
        response = HttpResponse(body, content_type=XLSX_TYPE)
        filename = f"{name}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
