"""The atlas's claims, seed statements and conflicts agree with the claims ledger.

The ledger (``shared/reference/seed-claims.md``) lists every claim of the four seed articles with a
verdict, a summary table of counts and the conflicts K1-K13. The atlas must carry all of it, in its
own words: no paraphrase may share a run of 12 words with a seed article.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from iliopsoas.knowledge import load_atlas
from iliopsoas.knowledge.store import Atlas

VERDICTS = {
    "consistent": "consistent",
    "contradicted": "contradicted",
    "disputed/evidence-weak": "disputed",
    "opinion/marketing": "opinion",
}
_ROW = re.compile(
    r"^\| (C(\d{3})-\d{2}) \| .* \| (consistent|contradicted|disputed/evidence-weak|opinion/marketing) \| (.*) \|$"
)
_SUMMARY = re.compile(r"^\| (\d{3}|\*\*all\*\*) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$")
RUN = 12


@pytest.fixture(scope="module")
def atlas() -> Atlas:
    return load_atlas()


@pytest.fixture(scope="module")
def ledger_text(reference_dir: Path) -> str:
    return (reference_dir / "seed-claims.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ledger(ledger_text: str) -> dict[str, tuple[str, str, str]]:
    """claim id -> (article, verdict, basis)."""
    rows = {}
    for line in ledger_text.splitlines():
        m = _ROW.match(line)
        if m:
            rows[m.group(1)] = (m.group(2), VERDICTS[m.group(3)], m.group(4))
    return rows


@pytest.fixture(scope="module")
def summary(ledger_text: str) -> dict[str, tuple[int, ...]]:
    """seed ('000'...'003', 'all') -> (claims, consistent, contradicted, disputed, opinion)."""
    out = {}
    for line in ledger_text.splitlines():
        m = _SUMMARY.match(line)
        if m:
            out["all" if m.group(1).startswith("*") else m.group(1)] = tuple(int(g) for g in m.groups()[1:])
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))


@pytest.fixture(scope="module")
def seed_runs(seeds_dir: Path) -> set[tuple[str, ...]]:
    runs: set[tuple[str, ...]] = set()
    files = sorted(seeds_dir.glob("*.txt"))
    assert len(files) == 4, f"expected the 4 seed articles in {seeds_dir}, found {len(files)}"
    for f in files:
        w = _words(f.read_text(encoding="utf-8"))
        runs |= {tuple(w[i : i + RUN]) for i in range(len(w) - RUN + 1)}
    return runs


def _shared_run(text: str, runs: set[tuple[str, ...]]) -> str | None:
    w = _words(text)
    for i in range(len(w) - RUN + 1):
        if tuple(w[i : i + RUN]) in runs:
            return " ".join(w[i : i + RUN])
    return None


# ----------------------------------------------------------------------------- ledger parity


def test_ledger_parses_into_221_claims(ledger, summary):
    assert len(ledger) == summary["all"][0] == 221


def test_every_ledger_claim_is_in_the_atlas_with_its_verdict(atlas, ledger):
    missing = sorted(set(ledger) - set(atlas.claims))
    assert not missing, f"claims absent from claims.yaml: {missing}"
    extra = sorted(set(atlas.claims) - set(ledger))
    assert not extra, f"claims.yaml has ids the ledger lacks: {extra}"
    wrong = {
        cid: (atlas.claims[cid].verdict.value, verdict)
        for cid, (_, verdict, _) in ledger.items()
        if atlas.claims[cid].verdict.value != verdict
    }
    assert not wrong, f"verdict differs from the ledger (atlas, ledger): {wrong}"
    assert all(atlas.claims[cid].article == art for cid, (art, _, _) in ledger.items())


@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "all"])
def test_counts_match_the_ledger_summary_table(atlas, ledger, summary, seed):
    order = ["consistent", "contradicted", "disputed", "opinion"]

    def counts(pairs):
        c = Counter(v for art, v in pairs if seed == "all" or art == seed)
        return (sum(c.values()), *(c[v] for v in order))

    assert counts((art, v) for art, v, _ in ledger.values()) == summary[seed]
    assert counts((c.article, c.verdict.value) for c in atlas.claims.values()) == summary[seed]


def test_summary_totals_are_102_11_62_46(summary):
    assert summary["all"] == (221, 102, 11, 62, 46)


def test_claim_sources_cover_the_ledger_source_keys(atlas, ledger):
    """Every source key written in a claim's basis that the atlas knows is cited by the claim."""
    keys = {k for k in atlas.sources if not k.startswith("seed-")}
    gaps = {}
    for cid, (_, _, basis) in ledger.items():
        named = {
            k for k in keys if re.search(r"(?<![A-Za-z0-9-])" + re.escape(k) + r"(?![A-Za-z0-9-])", basis)
        }
        cited = {s.source for s in atlas.claims[cid].sources}
        if named - cited:
            gaps[cid] = sorted(named - cited)
        assert cited <= set(atlas.sources), (
            f"{cid} cites unknown sources {sorted(cited - set(atlas.sources))}"
        )
    assert not gaps, f"basis keys not cited as sources: {gaps}"


# ----------------------------------------------------------------------------- own words


def test_no_claim_text_shares_a_12_word_run_with_a_seed(atlas, seed_runs):
    copied = {cid: run for cid, c in atlas.claims.items() if (run := _shared_run(c.text, seed_runs))}
    assert not copied, f"claim text copies a seed sentence: {copied}"


def test_seed_statements_and_resolutions_are_in_our_own_words(atlas, seed_runs):
    texts = {k.id: k.resolution + " " + k.title for k in atlas.conflicts.values()}
    for f in atlas.statements.values():
        if f.id.startswith("seed-"):
            lit = str(f.literal.value) if f.literal and f.literal.value is not None else ""
            texts[f.id] = f"{lit} {f.note or ''}"
    copied = {k: run for k, t in texts.items() if (run := _shared_run(t, seed_runs))}
    assert not copied, f"copies a seed sentence: {copied}"


# ----------------------------------------------------------------------------- seed statements


def test_seed_statements_carry_their_claims_verdict_and_article(atlas):
    for c in atlas.claims.values():
        for sid in c.statements:
            assert sid in atlas.statements, f"{c.id} lists unknown statement {sid}"
            f = atlas.statements[sid]
            assert f.status.value == c.verdict.value, (
                f"{sid}: status {f.status.value} != {c.id} {c.verdict.value}"
            )
            assert f"seed-{c.article}" in f.source_ids, f"{sid} is not sourced to seed-{c.article}"
            assert sid.startswith(f"seed-{c.article}.")


def test_every_seed_statement_expresses_some_claim(atlas):
    expressed = {sid for c in atlas.claims.values() for sid in c.statements}
    orphans = sorted(s for s in atlas.statements if s.startswith("seed-") and s not in expressed)
    assert not orphans, f"seed statements no claim lists: {orphans}"


def test_contradicted_claims_all_have_statements(atlas):
    bare = [c.id for c in atlas.claims.values() if c.verdict.value == "contradicted" and not c.statements]
    assert not bare


def test_every_contradicted_seed_statement_names_what_contradicts_it(atlas):
    silent = [
        f.id
        for f in atlas.statements.values()
        if f.id.startswith("seed-") and f.status.value == "contradicted" and not f.conflicts_with
    ]
    assert not silent, f"contradicted statements with no conflicts_with: {silent}"


def test_psoas_minor_prevalence_of_001_and_002_conflict(atlas):
    s1 = atlas.statements["seed-001.psoas-minor.variant.prevalence"]
    s2 = atlas.statements["seed-002.psoas-minor.variant.prevalence"]
    assert (s1.literal.min, s1.literal.max) == (40, 60)
    assert s2.literal.value == 60 and s2.qualifiers["absent_pct"] == 40
    assert s2.id in s1.conflicts_with and s1.id in s2.conflicts_with
    for s in (s1, s2):
        lit = [c for c in s.conflicts_with if c.startswith("psoas-minor.variant.")]
        assert lit, f"{s.id} conflicts with no literature prevalence statement"
        assert "K1" in s.conflicts


def test_sacrum_called_tailbone_is_contradicted_and_conflicts_with_the_coccyx(atlas):
    s = atlas.statements["seed-000.sacrum.lay-term.tailbone"]
    assert s.status.value == "contradicted" and s.subject == "sacrum"
    coccyx = [
        atlas.statements[c]
        for c in s.conflicts_with
        if atlas.statements[c].subject == "coccyx" and atlas.statements[c].predicate.value == "lay_term"
    ]
    assert coccyx and all(f.status.value == "consistent" for f in coccyx)


def test_iliacus_crosses_hip_and_sacroiliac_joints_in_seeds_000_and_003(atlas):
    for seed in ("000", "003"):
        joints = {
            f.object
            for f in atlas.facts_about("iliacus", "crosses_joint")
            if f.id.startswith(f"seed-{seed}.")
        }
        assert joints == {"hip-joint", "sacroiliac-joint"}, (seed, joints)


def test_psoas_crosses_three_joints_in_seed_000(atlas):
    facts = [f for f in atlas.facts_about("psoas-major", "crosses_joint") if f.id.startswith("seed-000.")]
    assert {f.object for f in facts} == {"lumbar-intervertebral-joints", "sacroiliac-joint", "hip-joint"}
    assert all(f.qualifiers["joint_count"] == 3 and f.status.value == "disputed" for f in facts)


def test_psoas_and_lordosis_002_stands_against_000_001_003(atlas):
    k5 = atlas.conflicts["K5"]
    by_seed: dict[str, set[str]] = {}
    for sid in k5.statements:
        if sid.startswith("seed-"):
            by_seed.setdefault(sid[5:8], set()).add(atlas.statements[sid].status.value)
    assert set(by_seed) == {"000", "001", "002", "003"}
    assert by_seed["002"] == {"consistent"}
    for seed in ("000", "001", "003"):
        assert "consistent" not in by_seed[seed], seed


def test_quoted_dosages_are_structured(atlas):
    hook = [atlas.statements[s] for s in atlas.claims["C003-49"].statements]
    assert {f.subject for f in hook} == {"psoas-major", "iliacus"}
    for f in hook:
        assert (f.qualifiers["dosage"]["hold_s_min"], f.qualifiers["dosage"]["hold_s_max"]) == (30, 90)
    (strength,) = [atlas.statements[s] for s in atlas.claims["C002-26"].statements]
    d = strength.qualifiers["dosage"]
    assert (d["reps_min"], d["reps_max"], d["sets_min"], d["sets_max"], d["per_day"]) == (15, 20, 2, 3, 1)


# ----------------------------------------------------------------------------- conflicts


@pytest.mark.parametrize("kid", [f"K{i}" for i in range(1, 14)])
def test_every_ledger_conflict_exists_with_two_or_more_statements(atlas, ledger_text, kid):
    assert re.search(rf"^### {kid} ", ledger_text, re.M), f"{kid} missing from the ledger itself"
    k = atlas.conflicts[kid]
    assert len(set(k.statements)) >= 2
    unknown = [s for s in k.statements if s not in atlas.statements]
    assert not unknown, f"{kid} names unknown statements {unknown}"
    assert k.claims and all(c in atlas.claims for c in k.claims)
    for sid in k.statements:
        assert kid in atlas.statements[sid].conflicts


def test_conflicts_set_seeds_against_each_other_or_the_literature(atlas):
    for k in atlas.conflicts.values():
        seeds = {s[5:8] for s in k.statements if s.startswith("seed-")}
        literature = [s for s in k.statements if not s.startswith("seed-")]
        assert seeds, f"{k.id} has no seed statement"
        assert len(seeds) >= 2 or literature, f"{k.id} opposes nothing"


# ----------------------------------------------------------------------------- literature sources


def _literature_ids(atlas: Atlas) -> set[str]:
    return set(yaml.safe_load((atlas.data_dir / "sources" / "literature.yaml").read_text(encoding="utf-8")))


def test_literature_sources_are_all_cited(atlas):
    cited = {s.source for c in atlas.claims.values() for s in c.sources}
    cited |= {s for f in atlas.statements.values() for s in f.source_ids}
    unused = sorted(_literature_ids(atlas) - cited)
    assert not unused, f"literature.yaml sources nobody cites: {unused}"


def test_literature_sources_are_not_section_4_keys(atlas, reference_dir):
    facts = (reference_dir / "anatomy-facts.md").read_text(encoding="utf-8").replace("\u2011", "-")
    section4 = facts[facts.index("## 4. Sources") :]
    keys = set(re.findall(r"^\* ([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*) ", section4, re.M))
    assert {"SP-IP", "TMA-PM", "IC-META"} <= keys
    assert not (_literature_ids(atlas) & keys)
