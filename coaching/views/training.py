"""Training pages: an agent's training (to do, completed), an assignment with its lesson
reader (each lesson marked read as the agent goes) and quiz; a lead's team training (per
module and the open assignments) and the assign form; an admin's preview of a module."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coaching import selectors
from coaching.markdown import lesson_html
from coaching.models import Lesson, TrainingModule
from coaching.services.training import lesson_mark_done, quiz_submit, training_assign
from coaching.views.common import add_errors, lead_or_404
from performance.forms import NativeDateInput
from performance.roles import is_admin, is_agent


class AssignForm(forms.Form):
    module = forms.ModelChoiceField(
        queryset=TrainingModule.objects.filter(active=True),
        empty_label=_("Choose…"),
        label=_("Training module"),
    )
    agents = forms.ModelMultipleChoiceField(
        queryset=None, widget=forms.CheckboxSelectMultiple, label=_("Agents")
    )
    due_on = forms.DateField(label=_("Due on"), required=False, widget=NativeDateInput())

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agents"].queryset = selectors.queue_agents(user).order_by(
            "user__first_name", "user__username"
        )
        self.fields["agents"].label_from_instance = lambda agent: (
            f"{agent.display_name} ({agent.team.name})"
        )


@login_required
@require_GET
def my_training(request: HttpRequest) -> HttpResponse:
    if not is_agent(request.user):
        raise Http404(gettext("You have no training of your own: you are not set up as an agent."))
    return render(
        request,
        "coaching/training_me.html",
        {"training": selectors.agent_training(request.user.agent)},
    )


def _assignment_page(
    request: HttpRequest, assignment, *, errors: list[str] = (), status: int = 200
) -> HttpResponse:
    view = selectors.assignment_view(assignment)
    lesson = None
    if (lesson_id := request.GET.get("lesson", "")).isdigit():
        lesson = next((row for row in view.lessons if row.pk == int(lesson_id)), None)
    elif not request.GET.get("quiz"):
        lesson = view.next_lesson
    context = {
        "view": view,
        "assignment": assignment,
        "own": assignment.agent.user_id == request.user.pk,
        "lesson": lesson,
        "lesson_html": lesson_html(lesson.body) if lesson else "",
        "errors": list(errors),
    }
    return render(request, "coaching/assignment.html", context, status=status)


@login_required
@require_GET
def assignment_detail(request: HttpRequest, assignment_id: int) -> HttpResponse:
    return _assignment_page(
        request, selectors.assignment_for_user_or_404(request.user, assignment_id)
    )


def _own_or_404(request: HttpRequest, assignment_id: int):
    assignment = selectors.assignment_for_user_or_404(request.user, assignment_id)
    if assignment.agent.user_id != request.user.pk:
        raise Http404(gettext("Only the agent it is assigned to works through a training."))
    return assignment


@login_required
@require_POST
def lesson_done_view(request: HttpRequest, assignment_id: int, lesson_id: int) -> HttpResponse:
    assignment = _own_or_404(request, assignment_id)
    lesson = Lesson.objects.filter(pk=lesson_id, module_id=assignment.module_id).first()
    if lesson is None:
        raise Http404(gettext("No such lesson"))
    try:
        assignment = lesson_mark_done(assignment=assignment, lesson=lesson, user=request.user)
    except ValidationError as error:
        return _assignment_page(request, assignment, errors=error.messages, status=400)
    if assignment.is_completed:
        messages.success(request, gettext("Training completed: well done!"))
    view = selectors.assignment_view(assignment)
    following = view.next_lesson
    url = reverse("coaching:assignment", args=[assignment.pk])
    if following is not None:
        return redirect(f"{url}?lesson={following.pk}")
    return redirect(f"{url}?quiz=1" if view.quiz_open else url)


@login_required
@require_POST
def quiz_submit_view(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = _own_or_404(request, assignment_id)
    answers: dict[int, list[int]] = {}
    for key in request.POST:
        if key.startswith("question-") and key[9:].isdigit():
            chosen = [value for value in request.POST.getlist(key) if value.isdigit()]
            answers[int(key[9:])] = [int(value) for value in chosen]
    try:
        attempt = quiz_submit(assignment=assignment, answers=answers, user=request.user)
    except ValidationError as error:
        request.GET = request.GET.copy()
        request.GET["quiz"] = "1"
        return _assignment_page(request, assignment, errors=error.messages, status=400)
    if attempt.passed:
        message = gettext("Quiz passed with %(score)s %%.") % {"score": f"{attempt.score:g}"}
        assignment.refresh_from_db()
        if assignment.is_completed:
            message += " " + gettext("Training completed: well done!")
        messages.success(request, message)
    else:
        messages.error(
            request,
            gettext("%(score)s %%: not enough to pass (%(mark)s %%). Read the lessons again.")
            % {"score": f"{attempt.score:g}", "mark": assignment.module.pass_mark},
        )
    return redirect("coaching:assignment", assignment_id=assignment.pk)


@login_required
@require_GET
def team_training(request: HttpRequest) -> HttpResponse:
    lead_or_404(request)
    return render(
        request,
        "coaching/training_team.html",
        {
            "report": selectors.team_training_report(request.user),
            "open": selectors.team_assignments(request.user)[:200],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def training_assign_view(request: HttpRequest) -> HttpResponse:
    lead_or_404(request)
    if request.method == "GET":
        initial = {}
        if (module_id := request.GET.get("module", "")).isdigit():
            initial["module"] = module_id
        if agent_ids := [value for value in request.GET.getlist("agent") if value.isdigit()]:
            initial["agents"] = agent_ids
        form = AssignForm(user=request.user, initial=initial)
        return render(request, "coaching/training_assign.html", {"form": form})
    form = AssignForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            made, skipped = training_assign(
                agents=list(form.cleaned_data["agents"]),
                module=form.cleaned_data["module"],
                assigned_by=request.user,
                due_on=form.cleaned_data["due_on"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            message = ngettext(
                "%(count)s agent assigned.", "%(count)s agents assigned.", len(made)
            ) % {"count": len(made)}
            if skipped:
                message += " " + gettext("Already assigned, left as they were: %(names)s.") % {
                    "names": ", ".join(agent.display_name for agent in skipped)
                }
            messages.success(request, message)
            return redirect("coaching:team-training")
    return render(request, "coaching/training_assign.html", {"form": form}, status=400)


@login_required
@require_GET
def module_preview(request: HttpRequest, module_id: int) -> HttpResponse:
    """For admins writing a module: its lessons as agents will read them, and the quiz."""
    if not is_admin(request.user):
        raise Http404(gettext("Only admins preview training modules."))
    module = TrainingModule.objects.filter(pk=module_id).first()
    if module is None:
        raise Http404(gettext("No such training module"))
    lessons = [(lesson, lesson_html(lesson.body)) for lesson in module.lessons.all()]
    questions = list(module.questions.prefetch_related("choices"))
    return render(
        request,
        "coaching/module_preview.html",
        {"module": module, "lessons": lessons, "questions": questions},
    )
