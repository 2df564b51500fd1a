"""A standard's rule fields are declared once (RuleFields); every consumer reads them there,
so a field added to the declaration reaches the versions, engine, preview, admin and API."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import pytest

from performance.admin.standards import ServiceStandardAdmin, ServiceStandardAdminForm
from performance.api.standards import (
    StandardInputSerializer,
    StandardOutputSerializer,
    StandardVersionOutputSerializer,
)
from performance.models import RULE_FIELD_NAMES, RULE_FIELDS, RuleFields, StandardVersion
from performance.services.evaluation.engine import Rule, standard_plans
from performance.services.standards import standard_save
from tests.factories import make_standard

VERSION_IDENTITY = {"version_id", "number", "effective_from"}
CHANGED = {
    "target": 70.0,
    "stretch_target": 95.0,
    "threshold_seconds": 30,
    "min_sample": 3,
    "points_met": 11,
    "points_exceeded": 21,
    "points_missed_penalty": 5,
    "coaching_missed": 1,
    "coaching_window": 4,
    "coaching_resolve_after": 3,
}


def test_the_declaration_lists_every_rule_field():
    assert tuple(field.name for field in RuleFields._meta.local_fields) == RULE_FIELD_NAMES
    assert tuple(field.attname for field in RuleFields._meta.local_fields) == RULE_FIELDS
    assert set(CHANGED) | {"quality_gate_id"} == set(RULE_FIELDS)


def test_the_engine_rule_has_exactly_the_rule_fields():
    assert {f.name for f in fields(Rule)} - VERSION_IDENTITY == set(RULE_FIELDS)


def test_the_admin_form_and_fieldsets_show_every_rule_field(rf, dave):
    form_fields = set(ServiceStandardAdminForm._meta.fields)
    assert set(RULE_FIELD_NAMES) <= form_fields
    admin = ServiceStandardAdmin(ServiceStandardAdminForm._meta.model, None)
    shown = set()
    for _, options in admin.get_fieldsets(rf.get("/")):
        for entry in options["fields"]:
            shown.update(entry if isinstance(entry, tuple) else [entry])
    assert set(RULE_FIELD_NAMES) <= shown


@pytest.mark.parametrize(
    "serializer",
    [StandardInputSerializer, StandardOutputSerializer, StandardVersionOutputSerializer],
)
def test_every_serializer_carries_every_rule_field(serializer):
    assert set(RULE_FIELD_NAMES) <= set(serializer().fields)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CHANGED))
def test_a_change_to_any_rule_field_makes_a_version_the_engine_reads(name):
    standard = make_standard(metric="sla", threshold_seconds=60, target=80)
    setattr(standard, name, CHANGED[name])
    version = standard_save(standard=standard, effective_from=date(2026, 2, 1), rescore=False)
    assert version.number == 2
    assert getattr(version, name) == CHANGED[name]
    assert StandardVersion.objects.get(pk=version.pk).rule() == standard.rule()
    (plan,) = standard_plans([standard.pk])
    assert getattr(plan.rules[-1], name) == CHANGED[name]
    assert {f: getattr(plan.rules[-1], f) for f in RULE_FIELDS} == standard.rule()


@pytest.mark.django_db
def test_a_new_gate_makes_a_version():
    gate = make_standard(metric="qa", target=3)
    standard = make_standard(metric="csat")
    standard.quality_gate = gate
    version = standard_save(standard=standard, rescore=False)
    assert (version.number, version.quality_gate_id) == (2, gate.pk)
