"""``iliopsoas ask``: the answer shape, citations, honesty (refusals, red flags) and robustness."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iliopsoas.cli import app
from iliopsoas.knowledge.ask import MAX_QUESTION_CHARS, Answer, ask
from iliopsoas.knowledge.ask_render import compress_levels
from iliopsoas.knowledge.ask_safety import personal_decisions, recognise
from iliopsoas.knowledge.ask_text import normalise
from iliopsoas.knowledge.ask_words import EnglishWords
from iliopsoas.knowledge.store import load_atlas

STATUSES = {"consistent", "contradicted", "disputed", "opinion"}
KEYS = ["question", "answered", "answer", "statements", "sources", "confidence", "short", "urgent", "safety", "kind", "more"]


def test_answer_json_keeps_the_old_keys_and_adds_the_new_ones() -> None:
    d = ask("What nerve supplies the iliacus?").model_dump()
    assert list(d) == KEYS
    assert d["answered"] is True and d["kind"] == "answer" and d["urgent"] is False and d["safety"] == []
    assert 0.0 <= d["confidence"] <= 1.0 and d["answer"].startswith(d["short"])
    assert d["statements"] and d["sources"]
    for s in d["statements"]:
        assert list(s) == ["id", "subject", "predicate", "object", "sources", "status"]
        assert s["status"] in STATUSES and s["sources"]
    for s in d["sources"]:
        assert list(s) == ["id", "title", "citation", "link"] and s["title"] and s["citation"]
    json.dumps(d)  # serialisable as is


def test_a_definition_asked_with_a_second_question_is_defined_first_then_answered() -> None:
    # "what is X, and how ... it": the definition leads; the facts answering the second clause follow it
    a = ask("What is the psoas minor and how common is it?")
    assert a.short.startswith("The psoas minor is a small")
    assert "40" in a.answer.split(a.short, 1)[1]  # its prevalence, after the definition
    b = ask("What is the lumbar plexus, and how is it related to the psoas?")
    assert b.short.startswith("The lumbar plexus is the network")
    assert "lies in the psoas major" in b.answer
    # a first clause that is not a structure alone is not split ("what is the best way ..., and ...")
    c = ask("What is the best stretch for tight hip flexors, and how long should I hold it?")
    assert not c.short.startswith("The iliopsoas is")


def test_the_first_sentence_answers_the_question() -> None:
    assert ask("Is the iliacus supplied by the femoral nerve?").short.startswith("Yes:")
    assert ask("Does the psoas major insert on the greater trochanter?").short.startswith("No:")
    assert ask("How long should I hold a hip flexor stretch?").short.startswith("30 s hold")
    assert ask("What is the iliacus?").short.startswith("The iliacus is a fan-shaped muscle")


def test_psoas_innervation_cites_the_atlas_statement_and_its_sources() -> None:
    atlas = load_atlas()
    a = ask("What is the nerve supply of the psoas major?")
    ids = [s.id for s in a.statements]
    assert any(atlas.statements[i].subject == "psoas-major" and atlas.statements[i].predicate.value == "innervation" for i in ids)
    cited = {src for s in a.statements for src in s.sources}
    assert cited <= {s.id for s in a.sources}
    assert "L1" in a.answer and "L3" in a.answer


def test_sources_are_readable_citations_with_links() -> None:
    a = ask("How long should I hold a hip flexor stretch?")
    bandy = next(s for s in a.sources if s.id == "BANDY1997")
    assert bandy.citation.startswith("Bandy et al. 1997.") and bandy.link
    assert "Bandy et al. 1997" in a.answer  # short citations in the text itself


def test_every_cited_statement_exists_in_the_atlas_with_the_same_status() -> None:
    atlas = load_atlas()
    for q in ("Where does the psoas minor insert?", "Does everyone have a psoas minor?", "How do I stretch the iliopsoas?"):
        for s in ask(q).statements:
            fact = atlas.statements[s.id]
            assert fact.status.value == s.status and fact.subject == s.subject


def test_a_claim_question_gives_the_verdict() -> None:
    a = ask("Is it true that the sacrum is the tailbone?")
    assert a.answered and a.short.startswith("No:") and "contradicted" in a.answer and "coccyx" in a.answer.lower()


@pytest.mark.parametrize(
    "question",
    [
        "I have numbness in my saddle area, where does the psoas attach?",
        "I lost control of my bladder, what does the psoas do?",
        "I have a fever and hip pain, how do I stretch my psoas?",
        "There is a pulsating lump in my belly, can I release my psoas?",
        "I can't bear weight after a fall, which muscles flex the hip?",
        "My leg is cold and pale, why does my hip hurt?",
        "Should I take ibuprofen, I also have bowel incontinence?",
        "asdf qwerty fever",
    ],
)
def test_red_flags_lead_with_the_urgent_line(question: str) -> None:
    a = ask(question)
    assert a.kind == "safety" and a.urgent and a.safety
    assert a.answer.startswith("Urgent:") and "urgent medical care" in a.answer and "clinician" in a.answer


@pytest.mark.parametrize(
    "question",
    [
        "I have an abdominal aortic aneurysm, is psoas massage OK?",
        "Can I massage my psoas if I'm pregnant?",
        "I'm on warfarin, can I release my iliacus with a ball?",
        "I have a hernia, how long do I hold the psoas release?",
    ],
)
def test_a_contraindicated_technique_is_explained_never_dosed(question: str) -> None:
    a = ask(question)
    assert a.kind == "safety" and a.short.startswith("No:") and "clinician" in a.answer
    assert "Why:" in a.answer
    for dose in ("30\u201390", "30-90", "60 s", "90 s"):
        assert dose not in a.answer, (question, dose)


def test_a_denied_sign_is_not_a_sign() -> None:
    a = ask("I don't have a fever, how long should I hold a hip flexor stretch?")
    assert a.kind == "answer" and not a.urgent and a.safety == [] and "30" in a.short


@pytest.mark.parametrize(
    "question",
    [
        "Should I take ibuprofen for my psoas?",
        "Do I have iliopsoas bursitis?",
        "Do I need an MRI?",
        "Should I press on my abdomen to release my psoas?",
    ],
)
def test_personal_medical_decisions_are_refused_with_see_a_clinician(question: str) -> None:
    a = ask(question)
    assert a.answered is False and a.statements == [] and a.kind in ("refusal", "safety")
    assert "I don't know this from my sources" in a.answer and "clinician" in a.answer


@pytest.mark.parametrize(
    "question",
    ["What is the capital of France?", "Where does the deltoid insert?", "psoas", "What is the origin of the word psoas?"],
)
def test_unknown_or_off_topic_questions_are_refused_not_guessed(question: str) -> None:
    a = ask(question)
    assert a.answered is False and a.kind == "refusal" and a.statements == [] and a.sources == []
    assert a.answer.startswith("I don't know this from my sources")


def test_typos_plurals_and_sides_reach_the_same_statements() -> None:
    clean = ask("What nerve supplies the iliacus?")
    typo = ask("What nerve suplies the illiacus?")
    side = ask("What nerve supplies my left iliacus?")
    assert [s.id for s in typo.statements][:1] == [s.id for s in clean.statements][:1]
    assert side.answer == clean.answer


def test_lay_words_are_understood() -> None:
    assert "lesser trochanter" in ask("Where does the hip flexor attach on the thigh bone?").answer
    assert "coccyx" in ask("What is the tailbone?").answer.lower()


def test_answers_are_deterministic() -> None:
    q = "Why does my leg rotate out when lying down?"
    assert ask(q).model_dump() == ask(q).model_dump()


def test_input_is_validated_with_clear_messages() -> None:
    with pytest.raises(TypeError, match="expected a string, got int"):
        ask(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        ask("   ")
    with pytest.raises(ValueError, match=f"at most {MAX_QUESTION_CHARS}"):
        ask("why " * 400)


def test_answers_come_from_the_data_not_from_the_code(tmp_path: Path) -> None:
    """A one-statement atlas answers exactly that statement."""
    (tmp_path / "sources").mkdir()
    (tmp_path / "entities").mkdir()
    (tmp_path / "sources" / "s.yaml").write_text("SRC-X: {id: SRC-X, title: A test atlas, kind: reference_work}\n")
    muscle = textwrap.dedent(
        """\
        iliacus:
          id: iliacus
          name: iliacus
          kind: muscle
          laterality: paired
          statements:
          - {id: iliacus.innervation.test-nerve, predicate: innervation, object: test-nerve,
             qualifiers: {levels: [L2, L3, L4]}, sources: [{source: SRC-X}], status: consistent}
        test-nerve: {id: test-nerve, name: test nerve, kind: nerve, laterality: paired}
        """
    )
    (tmp_path / "entities" / "m.yaml").write_text(muscle)
    atlas = load_atlas(tmp_path)
    a = ask("Which nerve innervates the iliacus?", atlas=atlas)
    assert a.answered and [s.id for s in a.statements] == ["iliacus.innervation.test-nerve"]
    assert "test nerve" in a.answer and "L2\u2013L4" in a.answer
    assert [s.id for s in a.sources] == ["SRC-X"] and a.sources[0].title == "A test atlas"


def test_import_iliopsoas_stays_light_and_exposes_ask_lazily() -> None:
    code = (
        "import sys, iliopsoas; assert 'iliopsoas.knowledge' not in sys.modules; "
        "assert 'pydantic' not in sys.modules; f = iliopsoas.ask; "
        "assert f('What nerve supplies the iliacus?').answered"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the command ---------------------------------------------------------------------------

runner = CliRunner()


def test_cli_json_is_the_shared_answer_model() -> None:
    r = runner.invoke(app, ["ask", "Where does the psoas major insert?", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert Answer.model_validate(d).answered and "lesser trochanter" in d["answer"] and list(d) == KEYS


def test_cli_text_lists_statements_sources_and_confidence() -> None:
    r = runner.invoke(app, ["ask", "Where does the psoas major insert?", "--more"])
    assert r.exit_code == 0
    assert "Statements:" in r.stdout and "Sources:" in r.stdout and "Confidence:" in r.stdout
    assert "All the evidence found" in r.stdout


def test_cli_refusal_is_not_an_error_and_empty_question_is_usage_error() -> None:
    r = runner.invoke(app, ["ask", "What is the capital of France?", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["answered"] is False
    r = runner.invoke(app, ["ask", "  "])
    assert r.exit_code == 2 and "Traceback" not in r.output


# -- pure helpers ----------------------------------------------------------------------------


def test_normalise_expands_contractions_and_drops_punctuation() -> None:
    assert normalise("Why can't I feel my PSOAS's tendon?!") == "why cannot i feel my psoas tendon"


def test_compress_levels_writes_runs_across_the_thoracolumbar_junction() -> None:
    assert compress_levels(["T12", "L1", "L2", "L3", "L4"]) == "T12\u2013L4"
    assert compress_levels(["L1", "L3"]) == "L1, L3"


def test_safety_and_personal_detectors_leave_ordinary_questions_alone() -> None:
    for q in ("why do i need a pillow under my knees", "how many reps should i do", "is it a myth that psoas arches the back"):
        assert recognise(q).ids == [] and personal_decisions(q) == [], q
    assert recognise("i cannot bear weight on my leg").ids == ["cannot-bear-weight"]
    assert personal_decisions("should i take paracetamol") == ["medicines"]


@pytest.mark.parametrize(
    "question",
    [
        "can you clear me to go back to football next week?",
        "am I ok to return to running after my hip flexor strain?",
        "give me the all clear to start sprinting again",
        "is my hip ready for heavy squats again",
        "ok to resume hockey training two weeks after a psoas strain?",
    ],
)
def test_clearance_to_return_is_refused_with_a_clinician(question: str) -> None:
    a = ask(question)
    assert not a.answered and a.kind == "refusal" and "clinician" in a.answer, (question, a.answer)


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("What psoas cross-sectional area did Reid 1994 report at the L3 level?", "level L3"),
        ("How common is the psoas minor in Japanese people?", "Japanese"),
        ("What iliopsoas flexion moment arm did Arnold and colleagues (2000) report at 60 degrees of hip flexion?", "2000"),
        ("what is the normal resting angle between the psoas and the lumbar spine?", "resting"),
    ],
)
def test_a_figure_for_a_study_level_group_or_angle_not_held_is_refused(question: str, missing: str) -> None:
    a = ask(question)
    assert not a.answered and a.short == "I don't know this from my sources." and missing in a.answer, a.answer


def test_a_figure_the_project_holds_for_that_study_level_and_group_is_answered() -> None:
    a = ask("What psoas cross-sectional area did Reid 1994 report at L4/L5?")
    assert a.answered and "16.3" in a.answer
    a = ask("psoas minor prevalence in Brazilian fetuses")
    assert a.answered and "59.1" in a.answer


def test_ordinary_english_words_are_not_repaired_into_atlas_words() -> None:
    """Typo repair leaves English words alone ("weekend" is no "weakened", "aching" no "arching",
    "bedside" no "beside") and still repairs misspellings ("illiacus", "strech")."""
    from iliopsoas.knowledge.ask import asker
    from iliopsoas.knowledge.store import load_atlas

    index = asker(load_atlas()).index
    assert len(EnglishWords.load()) > 100_000
    read = index.analyse("aching at the weekend, lately a bedside test, then a strech of the illiacus")
    assert {"aching", "weekend", "lately", "bedside"} <= set(read.tokens)
    assert {"arching", "weakened", "laterally", "beside"}.isdisjoint(read.tokens)
    assert {"stretch", "iliacus"} <= set(read.tokens)
    # the test a clinician does at the bedside is found, not what lies beside the tendon
    assert "Thomas" in ask("Which bedside test screens iliopsoas length?").answer.split(".")[0]


@pytest.mark.parametrize(("question", "wanted"), [
    ("What is the fluid pouch under the hip flexor tendon called?", "iliopsoas bursa"),
    ("What is the small muscle in front of the psoas major that many people lack?", "psoas minor"),
    ("what is the network of nerves inside the psoas", "lumbar plexus"),
    ("What's the name of the side-lying test for tightness of the band running down the outside of the thigh?",
     "Ober test"),
])
def test_a_structure_described_instead_of_named_is_found(question: str, wanted: str) -> None:
    assert wanted in ask(question).answer.split(".")[0]


def test_a_description_asked_about_or_too_vague_names_nothing() -> None:
    """A predicate ("is the quadriceps a muscle that ...") or a description two structures fit equally
    ("the fan-shaped muscle": iliacus and gluteus medius) is not replaced by a name."""
    from iliopsoas.knowledge.ask import asker
    from iliopsoas.knowledge.ask_plain import plain_question

    index = asker(load_atlas()).index
    for q in ("Is the quadriceps a muscle that runs from the hip to below the knee?", "the muscle I stretch most",
              "what is the fan shaped muscle", "Where is the hip joint?"):
        assert index.describe.resolve(plain_question(q), index._names_in) == [], q


@pytest.mark.parametrize(("request_", "question"), [
    ("Walk me through the Ober test.", "how is the Ober test done?"),
    ("Explain the psoas paradox", "what is the psoas paradox?"),
    ("Could you tell me about the iliacus please", "what is the iliacus?"),
    ("I'd like to know how long to hold a stretch", "how long to hold a stretch"),
])
def test_requests_said_as_commands_are_read_as_questions(request_: str, question: str) -> None:
    from iliopsoas.knowledge.ask_plain import plain_question

    assert plain_question(request_) == question


def test_overdoing_it_gets_the_overuse_guidance_not_a_refusal() -> None:
    a = ask("I overdid squats and now my hip flexors feel irritated. What should I do first?")
    assert a.answered and "rest" in a.answer.split(".")[0].lower()
    # with a red flag, the urgent line still comes first
    assert ask("I overdid squats, now my hip hurts and I have a fever and chills. What should I do?").urgent


def test_a_figure_asked_in_a_unit_the_sources_do_not_give_is_refused() -> None:
    a = ask("What mean standing pelvic tilt angle in degrees did Herrington 2011 report?")
    assert not a.answered and "degrees" in a.answer
    assert ask("How many degrees of passive hip extension do healthy children have?").answered


def test_a_game_or_a_race_is_read_as_performance_which_studies_answer() -> None:
    # "before a game ... slower": the study of a single hip-flexor stretch on performance, not the stretch's steps
    a = ask("will stretching my hip flexors right before a game make me weaker or slower")
    assert a.answered and "performance" in a.short
    assert "KONRAD2021" in {s.id for s in a.sources}


def test_outcome_measures_say_the_smallest_change_that_is_more_than_noise() -> None:
    # the measures the care log keeps (NPRS, PSFS, ODI) are atlas entries too, with their change thresholds
    a = ask("how much does my pain score need to change to count")
    assert a.answered and "2 points" in a.short and "CHILDS2005" in {s.id for s in a.sources}
    b = ask("what is the PSFS")
    assert b.short.startswith("The patient-specific functional scale is")
    c = ask("what is a meaningful change on the Oswestry")
    assert "10 points" in c.short


def test_how_many_have_asks_for_a_share_of_people() -> None:
    # "how many have X" is "how many people have X": the prevalence, not another percentage of the structure
    a = ask("how many have a psoas minor")
    assert a.answered and "of people" in a.short
    # "what does the iliacus pull on instead" asks what it moves, not what to do instead of a technique
    b = ask("When my foot is planted and the thigh can't move, what does the iliacus pull on instead?")
    assert not b.short.lower().startswith("iliacus pressure release")


def test_two_structures_named_get_the_same_measure_of_each() -> None:
    a = ask("Which makes up more of total leg muscle volume, the psoas or the iliacus, and by how much?")
    assert "3.8" in a.answer and "2.48" in a.answer
    b = ask("what is the pennation angle of the psoas and the iliacus")
    assert "10.6" in b.answer and "14.3" in b.answer


def test_a_question_pointing_back_at_what_was_told_keeps_it() -> None:
    # "why shouldn't I call that ...": "that" is the tingling during Ely's test told just before
    a = ask("I'm a physio. During Ely's test my patient felt sharp pain along the front of the thigh and some "
            "tingling. Why shouldn't I just call that a tight rectus femoris?")
    assert "nerve" in a.short and "also called" not in a.short


def test_a_link_asked_between_two_measures_is_answered_by_the_study_that_measured_it() -> None:
    # not by an anatomical relation between the structures named ("inserts on the lesser trochanter, not the pelvis")
    for q in ("Has research shown a strong link between hip flexor length and pelvic tilt?",
              "In healthy adults, does hip extension range correlate strongly with standing pelvic tilt?"):
        a = ask(q)
        assert a.short.startswith("No:") and "-0.04" in a.short, q
        assert "HEINO1990" in {s.id for s in a.sources}


def test_them_in_the_question_points_at_what_the_sentence_before_names() -> None:
    a = ask("My hip flexor area is sore after a long run. I have a heat pack and an ice pack at home. "
            "How do I use them safely?")
    assert "cover" in a.short.lower()
    # a dose count ("how many sessions a week") is answered by a dose figure ("3 x 10 min a week")
    b = ask("My physio wants to copy the Thorborg band training study for my hip flexors. How many sessions a week, "
            "and how long was each one?")
    assert b.answered and "3 x 10 min a week" in b.short


def test_the_standing_pelvic_tilt_measurement_is_an_atlas_test() -> None:
    a = ask("How can I measure how far my pelvis tips forward at home using my phone?")
    assert "phone" in a.short and "ASIS" in a.short
    b = ask("is the PALM meter reliable")
    assert "3.6 deg" in b.short and "HAGINS1998" in {s.id for s in b.sources}


def test_which_checks_for_tight_hip_flexors_lists_the_muscle_length_tests() -> None:
    a = ask("What checks would a physio do to see if the muscles at the front of my hip are short?")
    assert a.short.startswith("Muscle length is checked with the Thomas test")
    for name in ("modified Thomas test", "Ely test", "Ober test"):
        assert name in a.short
    assert "functional scale" not in a.short  # an outcome questionnaire is not a length test
    # a test named is answered about that test
    assert not ask("how is the Ely test done?").short.startswith("Muscle length is checked")


def test_a_body_whose_figures_the_sources_lack_is_refused_by_name() -> None:
    a = ask("What are the CDC normal values for passive hip extension in adults aged 20 to 44?")
    assert not a.answered and "figures from the CDC" in a.answer
    assert ask("WHO SHOULD STRETCH THEIR HIP FLEXORS").answered  # capitals typed, no body named


def test_who_talks_about_a_described_structure_is_not_part_of_its_description() -> None:
    q = ("You know that deep muscle people keep talking about that runs from your lower back down to your thigh? "
         "Where exactly is it?")
    assert ask(q).short.startswith("The psoas major")


def test_a_back_reference_keeps_the_earlier_clauses_that_name_a_structure() -> None:
    q = ("My anatomy book says the psoas flexes the lumbar spine, but another source says it helps extend it. "
         "What is this contradiction called and what's going on?")
    a = ask(q)
    assert a.answered and "psoas" in a.short.lower()


def test_the_muscles_at_the_front_of_the_hip_are_the_hip_flexors() -> None:
    assert ask("what do the muscles at the front of my hip do").short.startswith("The iliopsoas")
    assert ask("where do the muscles at the front of the hip attach").short.startswith("The iliopsoas")
