"""The care log as a FHIR R4 Bundle (and back), for a clinician's system.

What maps to what (one ``collection`` Bundle, resources linked by ``urn:uuid`` full URLs):

* the person -> one ``Patient`` with no identifiers (the log holds none);
* each distinct program a session ran -> ``CarePlan`` (one ``activity`` per step: name, dose in
  words, evidence grade; the whole program JSON in an extension, so nothing is lost);
* each session -> ``Encounter`` (period, status) plus ``Observation``s of pain (NPRS, LOINC 72514-3)
  before and after it;
* each logged set -> ``Procedure`` (completed, or not-done when skipped; set, side, reps and hold in
  extensions), ``basedOn`` the CarePlan, in the session's Encounter;
* each measurement -> ``Observation`` (NPRS by LOINC; PSFS and the Thomas-test and tilt angles by our
  own code system, angles in UCUM ``deg``);
* each safety screen and each outcome questionnaire -> ``QuestionnaireResponse`` (item per question).

Everything the log holds and FHIR has no field for travels in extensions under ``urn:iliopsoas:``, so
``bundle_to_export(export_to_bundle(doc))`` gives back ``doc`` (the round trip is tested). The atlas
quiz cards are study progress, not care: they stay out of the bundle (``data export`` as JSON or CSV
carries them). Written by ``iliopsoas data export --format fhir``, read by ``iliopsoas data import``. Bundles
are validated with the ``fhir.resources`` models of FHIR R4B (4.3), which keeps these resources as in
R4 (4.0.1); only elements present in both versions are used.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

EXT = "urn:iliopsoas:ext:"
LOINC = "http://loinc.org"
NPRS_LOINC = "72514-3"  # Pain severity - 0-10 verbal numeric rating [Score] - Reported
MEASURE_SYSTEM = "urn:iliopsoas:measure"
EXERCISE_SYSTEM = "urn:iliopsoas:exercise"
SCREEN_QUESTIONNAIRE = "urn:iliopsoas:questionnaire:safety-screen"
_ENCOUNTER_STATUS = {"completed": "finished", "stopped": "finished", "interrupted": "cancelled",
                     "running": "in-progress"}
_STEP_EXTS = (("kind", "kind", "valueCode"), ("set_index", "set-index", "valueInteger"), ("side", "side", "valueCode"),
              ("reps", "reps", "valueInteger"), ("hold_s", "hold-s", "valueDecimal"))


class FhirError(ValueError):
    """A bundle that is not valid FHIR or not one this program wrote (the message says where)."""


def _uid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _ext(name: str, **value: Any) -> dict[str, Any]:
    return {"url": EXT + name, **value}


def _exts(resource: Mapping[str, Any]) -> dict[str, Any]:
    """``{name: value}`` of a resource's ``urn:iliopsoas:`` extensions."""
    out: dict[str, Any] = {}
    for e in resource.get("extension") or ():
        if str(e.get("url", "")).startswith(EXT):
            out[e["url"][len(EXT):]] = next(v for k, v in e.items() if k.startswith("value"))
    return out


def export_to_bundle(doc: Mapping[str, Any], outcomes: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """A FHIR Bundle (JSON dict) from ``CareLog.export_json()``, with its stored questionnaires
    (``doc["outcomes"]``, or ``outcomes`` when given)."""
    from iliopsoas.care.sets import dosage_text

    entries: list[dict[str, Any]] = []

    def add(resource: dict[str, Any]) -> str:
        url = _uid()
        entries.append({"fullUrl": url, "resource": resource})
        return url

    patient = add({"resourceType": "Patient", "active": True})
    subject = {"reference": patient}
    plans: dict[str, str] = {}
    for s in doc.get("sessions") or ():
        plan_url = None
        if s.get("plan") is not None:
            key = json.dumps(s["plan"], sort_keys=True)
            if key not in plans:
                steps = s["plan"].get("steps") or []
                plans[key] = add({
                    "resourceType": "CarePlan", "status": "active", "intent": "plan", "subject": subject,
                    "title": "Hip-flexor program",
                    "description": s["plan"].get("disclaimer") or "Home exercise program",
                    "activity": [{"detail": {
                        "code": {"coding": [{"system": EXERCISE_SYSTEM, "code": st["id"]}], "text": st["name"]},
                        "status": "scheduled",
                        "description": f"{st.get('dosage_text') or dosage_text(st.get('dosage') or {})}; "
                                       f"evidence {st['evidence']['grade']}",
                    }} for st in steps] or None,
                    "extension": [_ext("plan-json", valueString=key)],
                })
            plan_url = plans[key]
        period = {"start": s["started_at"], **({"end": s["finished_at"]} if s.get("finished_at") else {})}
        exts = [_ext("session-status", valueCode=s["status"])]
        if s.get("note") is not None:
            exts.append(_ext("note", valueString=s["note"]))
        if plan_url:
            exts.append(_ext("careplan", valueReference={"reference": plan_url}))
        enc = add({"resourceType": "Encounter", "status": _ENCOUNTER_STATUS.get(s["status"], "unknown"),
                   "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH",
                             "display": "home health"},
                   "subject": subject, "period": period, "extension": exts})
        for when, value in (("before", s.get("nprs_before")), ("after", s.get("nprs_after"))):
            if value is None:
                continue
            add({"resourceType": "Observation", "status": "final", "subject": subject, "encounter": {"reference": enc},
                 "code": {"coding": [{"system": LOINC, "code": NPRS_LOINC}], "text": f"pain {when} the session (NPRS)"},
                 "effectiveDateTime": s["started_at"] if when == "before" else (s.get("finished_at") or s["started_at"]),
                 "valueInteger": int(value), "extension": [_ext("session-timing", valueCode=when)]})
        for t in s.get("steps") or ():
            exts = [_ext(name, **{vkey: t[field]}) for field, name, vkey in _STEP_EXTS if t.get(field) is not None]
            add({"resourceType": "Procedure", "status": "completed" if t["status"] == "done" else "not-done",
                 "subject": subject, "encounter": {"reference": enc},
                 **({"basedOn": [{"reference": plan_url}]} if plan_url else {}),
                 "code": {"coding": [{"system": EXERCISE_SYSTEM, "code": t["step_id"]}], "text": t["step_id"]},
                 "performedDateTime": t["completed_at"], "extension": exts})
    for m in doc.get("measures") or ():
        unit = "deg" if m["kind"].endswith("_deg") else None
        code = ({"coding": [{"system": LOINC, "code": NPRS_LOINC}, {"system": MEASURE_SYSTEM, "code": m["kind"]}]}
                if m["kind"] == "nprs" else {"coding": [{"system": MEASURE_SYSTEM, "code": m["kind"]}]})
        obs: dict[str, Any] = {"resourceType": "Observation", "status": "final", "subject": subject,
                               "code": {**code, "text": m["kind"]}, "effectiveDateTime": m["taken_at"],
                               "valueQuantity": {"value": m["value"], **(
                                   {"unit": "deg", "system": "http://unitsofmeasure.org", "code": "deg"} if unit else
                                   {"unit": "score"})}}
        if m.get("side"):
            obs["bodySite"] = {"text": m["side"]}
        if m.get("note") is not None:
            obs["note"] = [{"text": m["note"]}]
        add(obs)
    for sc in doc.get("screens") or ():
        add({"resourceType": "QuestionnaireResponse", "status": "completed", "subject": subject,
             "questionnaire": SCREEN_QUESTIONNAIRE, "authored": sc["taken_at"],
             "item": [{"linkId": k, "answer": [{"valueBoolean": bool(v)}]} for k, v in sorted(sc["answers"].items())] or None,
             "extension": [_ext("screen-scope", valueCode=sc["scope"]), _ext("screen-level", valueCode=sc["level"]),
                           _ext("screen-blocked", valueBoolean=bool(sc["blocked"]))]})
    for o in (doc.get("outcomes") if outcomes is None else outcomes) or ():
        add({"resourceType": "QuestionnaireResponse", "status": "completed", "subject": subject,
             "questionnaire": f"urn:iliopsoas:questionnaire:{o['measure']}", "authored": o["taken_at"],
             "item": [{"linkId": k, **({"answer": [{"valueDecimal": v}]} if v is not None else {})}
                      for k, v in o["answers"].items()] or None,
             "extension": [_ext("answers-json", valueString=json.dumps(o["answers"], sort_keys=True)),
                           *([_ext("score", valueDecimal=o["score"])] if o.get("score") is not None else []),
                           *([_ext("note", valueString=o["note"])] if o.get("note") is not None else [])]})
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [_drop_none(e) for e in entries]}
    validate(bundle)
    return bundle


def _drop_none(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    return x


def validate(bundle: Mapping[str, Any]) -> None:
    """Raise :class:`FhirError` naming the first problem unless ``bundle`` is a valid FHIR Bundle."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise FhirError(f"not a valid FHIR Bundle at {where or 'the top level'}: {err.get('msg')}") from None


def bundle_to_export(bundle: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(care-log export, outcomes)`` from a bundle written by :func:`export_to_bundle`; the export
    holds the outcomes too (``doc["outcomes"]``), so it imports whole in one transaction."""
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        raise FhirError('not a FHIR Bundle (expected "resourceType": "Bundle")')
    validate(bundle)
    try:
        return _read_bundle(bundle)
    except (KeyError, IndexError, TypeError, ValueError, StopIteration, AttributeError, RecursionError) as exc:
        raise FhirError(f"a valid FHIR Bundle, but not one this program can read ({type(exc).__name__}: "
                        f"{str(exc)[:100]}); expected one written by `iliopsoas data export --format fhir`") from None


def _read_bundle(bundle: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    by_url = {e["fullUrl"]: e["resource"] for e in bundle.get("entry") or () if "fullUrl" in e}
    sessions: dict[str, dict[str, Any]] = {}
    measures, screens, outcomes = [], [], []
    for url, r in by_url.items():
        if r["resourceType"] == "Encounter":
            x = _exts(r)
            plan = None
            if "careplan" in x:
                cp = by_url.get(x["careplan"]["reference"])
                plan = json.loads(_exts(cp)["plan-json"]) if cp else None
            sessions[url] = {"started_at": r["period"]["start"], "finished_at": r["period"].get("end"),
                             "status": x.get("session-status", "completed"), "nprs_before": None, "nprs_after": None,
                             "note": x.get("note"), "plan": plan, "steps": []}
    for r in by_url.values():
        kind, x = r["resourceType"], _exts(r)
        if kind == "Observation" and "session-timing" in x:
            sessions[r["encounter"]["reference"]][f"nprs_{x['session-timing']}"] = r["valueInteger"]
        elif kind == "Observation":
            code = next(c["code"] for c in r["code"]["coding"] if c["system"] == MEASURE_SYSTEM)
            measures.append({"taken_at": r["effectiveDateTime"], "kind": code, "value": r["valueQuantity"]["value"],
                             "side": (r.get("bodySite") or {}).get("text"),
                             "note": (r.get("note") or [{}])[0].get("text")})
        elif kind == "Procedure":
            sessions[r["encounter"]["reference"]]["steps"].append({
                "step_id": r["code"]["coding"][0]["code"], "kind": x.get("kind"), "set_index": x.get("set-index"),
                "side": x.get("side"), "reps": x.get("reps"), "hold_s": x.get("hold-s"),
                "status": "done" if r["status"] == "completed" else "skipped", "completed_at": r["performedDateTime"]})
        elif kind == "QuestionnaireResponse" and r.get("questionnaire") == SCREEN_QUESTIONNAIRE:
            screens.append({"taken_at": r["authored"], "scope": x["screen-scope"], "level": x["screen-level"],
                            "blocked": x["screen-blocked"],
                            "answers": {i["linkId"]: i["answer"][0]["valueBoolean"] for i in r.get("item") or ()}})
        elif kind == "QuestionnaireResponse":
            outcomes.append({"taken_at": r["authored"], "measure": r["questionnaire"].rsplit(":", 1)[-1],
                             "answers": json.loads(x["answers-json"]), "score": x.get("score"), "note": x.get("note")})
    for s in sessions.values():
        s["steps"].sort(key=lambda t: t["completed_at"])
    taken = sorted(outcomes, key=lambda o: o["taken_at"])
    doc = {"format": "iliopsoas-care-log", "sessions": sorted(sessions.values(), key=lambda s: s["started_at"]),
           "screens": sorted(screens, key=lambda s: s["taken_at"]), "measures": sorted(measures, key=lambda m: m["taken_at"]),
           "outcomes": taken}
    return doc, taken
