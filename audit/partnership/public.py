"""The public partnership report's numbers: one disclosure model over a multi-agency review.

A partnership publishes its headline learning, and per agency the numbers are small (a
handful of children, some known to two agencies), so the public version goes through the
same disclosure control as the findings report (:mod:`audit.reporting.disclosure`): every
count it prints is defined here as a sum of inner cells of the records it counts, and
:meth:`~audit.reporting.disclosure.Model.protect` withholds small counts and enough others
that none can be worked out (an exact attacker, HiGHS), leaving out a part whose counts
cannot otherwise be protected. Nothing is registered by hand chapter by chapter.

The records are the review's children. For the panel and for each agency that knows a child
(a *party*), a frame cross-classifies the children by whether the party counted them (panel
held, audit submitted; for an agency also "known but not audited" and "not known") and the
party's overall judgement; a frame per section holds the party's section result for the
children it counted; frames for safety, alerts, learning themes and actions complete it.
A careful reader's knowledge is added where it is true of the review: every frame counts the
same children, every counted child has an overall judgement, a child an agency found not
safeguarded is one at least one agency did, and so on.

Left out of the public version by design (the first step of the GSS guidance: redesign
before suppressing): question-by-question tables, how each agency's grades compare with the
panel's, the agencies' pooled answers, the learning's and the actions' own words (each is
about one child), the trend across audits and the list of children. The internal report
keeps them all.

The counts' values come from :mod:`audit.partnership.figures` and are checked against it:
a figure printed in both versions is the same figure.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

from audit.partnership.figures import ANY_AGENCY, PartnershipFigures, Share
from audit.reporting import disclosure
from audit.reporting.disclosure import DisclosureError, Model, total
from audit.rubric import NOT_APPLICABLE, PANEL
from audit.stats import Proportion

NONE = "none"
"""No value recorded (a counted child without an overall judgement or section result)."""
METHOD = "method"
SAFETY = "safety"
THEMES = "themes"
ACTIONS = "actions"

LEFT_OUT_BY_DESIGN = (
    "question-by-question answers",
    "how each agency's own grades compare with the panel's",
    "the agencies' answers pooled",
    "the words of each piece of learning and each action (each is about one child)",
    "the trend across the programme's audits",
    "the list of children",
)
"""What the public version never prints, whatever the counts (see the module's docstring)."""


def party_group(party: str) -> str:
    """Return the group a party's figures are left out with: the panel's or an agency's chapter."""
    return "panel" if party == PANEL else f"agency:{party}"


def define(f: PartnershipFigures, *, knowledge: bool = True) -> Model:
    """Define every count the public partnership report prints in one disclosure model."""
    m = Model(knowledge=knowledge)
    rubric = f.rubric
    levels = [level.id for level in rubric.scale.levels]
    good_levels = [lv for lv in levels if rubric.scale.is_good(lv)]
    children = sorted({c.case for c in f.counts["children"].cells})
    answers: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for cell in f.cells:
        answers[(cell.party, cell.measure)][cell.case] = cell.answer

    def cases(key: str) -> set[str]:
        return {c.case for c in f.counts[key].cells}

    # -- each party's children and overall judgement
    opened = cases("panels/open")
    frames = {}
    for party, name in ((PANEL, "the panel"), *f.agencies):
        group = m.group(party_group(party), _chapter_label(party, name))
        counted = cases(f"{party}/children")
        if party == PANEL:
            states = ("counted", "open", "not_started")

            def state(case: str, counted: set[str] = counted) -> str:
                return "counted" if case in counted else "open" if case in opened else "not_started"

        else:
            states = ("counted", "known", "not_known")
            known = cases(f"known/{party}")

            def state(case: str, counted: set[str] = counted, known: set[str] = known) -> str:
                return "counted" if case in counted else "known" if case in known else "not_known"

        overall = answers[(party, "overall")]
        frame = m.frame(
            f"party:{party}",
            {"state": states, "overall": [*levels, NONE]},
            possible=lambda c: c["state"] == "counted" or c["overall"] == NONE,
        )
        for case in children:
            where = state(case)
            value = overall.get(case, NONE) if where == "counted" else NONE
            frame.add(state=where, overall=value if value in levels else NONE)
        frames[party] = frame
        m.know(
            frame.where(state="counted", overall=NONE),
            why=f"every child counted for {name} has an overall judgement",
        )
        if party == PANEL:
            m.cell("children", frame.where(), anchor=True, group=METHOD, weight=50)
            m.cell(f"{PANEL}/children", frame.where(state="counted"), sensitive=False, group=METHOD)
            m.cell("panels/open", frame.where(state="open"), sensitive=False, group=METHOD)
        else:
            m.link(frame, frames[PANEL], [], why=f"{name}'s frame counts every child of the review")
            m.cell(f"known/{party}", frame.where(state=["counted", "known"]), group=group)
            m.cell(f"{party}/children", frame.where(state="counted"), sensitive=False, group=group)
        for level in levels:
            m.cell(
                f"{party}/overall/value/{level}",
                frame.where(state="counted", overall=level),
                group=group,
            )
        m.share(
            f"{party}/overall/good",
            frame.where(state="counted", overall=good_levels),
            frame.where(state="counted", overall=levels),
            anchor=party == PANEL,
            group=group,
            weight=20 if party == PANEL else 5,
        )
        _sections(m, f, party, name, frame, answers, levels, good_levels)

    _safety(m, f, frames, answers)
    _learning(m, f, frames[PANEL])
    _actions(m, f)
    _check(m, f)
    return m


def _chapter_label(party: str, name: str) -> str:
    if party == PANEL:
        return "the panel's agreed judgements, stage by stage"
    return f"{name}'s chapter"


def _sections(
    m: Model,
    f: PartnershipFigures,
    party: str,
    name: str,
    party_frame: disclosure.Frame,
    answers: dict[tuple[str, str], dict[str, str]],
    levels: list[str],
    good_levels: list[str],
) -> None:
    """Each section's result for the party: its grade question's, or every check met."""
    results = f.panel if party == PANEL else f.by_agency[party]
    counted = party_frame.where(state="counted")
    counted_cases = sorted(c.case for c in f.counts[f"{party}/children"].cells)
    for row in results.sections:
        section = row.section
        if row.basis == "grade" and row.cases is not None:
            question = section.grade_question or ""
            values = [*levels, NOT_APPLICABLE, NONE]
            good, judged = good_levels, levels
            measure = question
        elif row.basis == "checks" and row.cases is not None:
            values = ["good", "not_good", NOT_APPLICABLE, NONE]
            good, judged = ["good"], ["good", "not_good"]
            measure = f"section:{section.id}"
        else:
            continue
        own = answers[(party, measure)]
        frame = m.frame(f"section:{party}:{section.id}", {"value": values})
        for case in counted_cases:
            value = own.get(case, NONE)
            frame.add(value=value if value in values else NONE)
        m.know(frame.where(), "==", counted, why=f"{name} gave each child it counted one result")
        m.know(frame.where(value=NONE), why=f"{name} answered {section.id} for every child")
        m.share(
            row.cases.good,
            frame.where(value=good),
            frame.where(value=judged),
            group=party_group(party),
            weight=10 if party == PANEL else 3,
        )


def _safety(
    m: Model,
    f: PartnershipFigures,
    frames: dict[str, disclosure.Frame],
    answers: dict[tuple[str, str], dict[str, str]],
) -> None:
    """Children found not adequately safeguarded, by the panel, each agency and any; alerts."""
    not_safe = {party: set(answers[(party, "not_safe")]) for party in (PANEL, ANY_AGENCY)}
    panel_counted = frames[PANEL].where(state="counted")
    frame = m.frame(
        "safety",
        {"panel": ("not_safe", "safe", "not_held"), "agencies": ("not_safe", "safe")},
    )
    held = {c.case for c in f.counts[f"{PANEL}/children"].cells}
    for case in sorted({c.case for c in f.counts["children"].cells}):
        panel = "not_safe" if case in not_safe[PANEL] else "safe" if case in held else "not_held"
        frame.add(panel=panel, agencies="not_safe" if case in not_safe[ANY_AGENCY] else "safe")
    m.know(frame.where(), "==", frames[PANEL].where(), why="the safety frame counts every child")
    m.know(
        frame.where(panel=["not_safe", "safe"]),
        "==",
        panel_counted,
        why="the panel judged safety for every child whose panel was held",
    )
    m.cell("safety/panel/not_safe", frame.where(panel="not_safe"), group=SAFETY)
    anyone = frame.where(agencies="not_safe")
    m.cell("safety/any_agency/not_safe", anyone, group=SAFETY)
    own_frames = []
    for agency, name in f.agencies:
        mine = answers[(agency, "not_safe")]
        own = m.frame(f"safety:{agency}", {"value": ("not_safe", "safe")})
        for case in sorted(c.case for c in f.counts[f"{agency}/children"].cells):
            own.add(value="not_safe" if case in mine else "safe")
        own_frames.append(own)
        m.know(
            own.where(),
            "==",
            frames[agency].where(state="counted"),
            why=f"{name} judged safety for every child it audited",
        )
        m.know(
            own.where(value="not_safe"),
            "<=",
            anyone,
            why=f"a child {name} found not safeguarded is one at least one agency did",
        )
        m.cell(f"safety/{agency}/not_safe", own.where(value="not_safe"), group=party_group(agency))
    if own_frames:
        m.know(
            anyone,
            "<=",
            total(o.where(value="not_safe") for o in own_frames),
            why="a child any agency found not safeguarded is one some agency did",
        )
    alerts = m.frame("alerts", {"recorded": ("yes", "no")})
    recorded = {c.measure for c in f.counts["alerts/recorded"].cells}
    for cell in f.counts["alerts/raised"].cells:
        alerts.add(recorded="yes" if cell.measure in recorded else "no")
    m.cell("alerts/raised", alerts.where(), group=SAFETY)
    m.cell("alerts/recorded", alerts.where(recorded="yes"), group=SAFETY)
    m.know(
        alerts.where(),
        ">=",
        frame.where(panel="not_safe")
        + frame.where(panel=["safe", "not_held"], agencies="not_safe"),
        why="every child found not adequately safeguarded raised an alert",
    )


def _learning(m: Model, f: PartnershipFigures, panel: disclosure.Frame) -> None:
    """Pieces of learning (the panels' work) and children with learning on each theme."""
    learning = m.frame("learning", {"kind": ("item",)})
    items = f.count("learning/items")
    if items:
        learning.add(items, kind="item")
    m.cell("learning/items", learning.where(), sensitive=False, group=THEMES)
    counted = sorted(c.case for c in f.counts[f"{PANEL}/children"].cells)
    for theme_id, _name, key in f.themes:
        tagged = {c.case for c in f.counts[key].cells}
        frame = m.frame(f"theme:{theme_id}", {"tagged": ("yes", "no")})
        for case in counted:
            frame.add(tagged="yes" if case in tagged else "no")
        stray = sorted(tagged - set(counted))  # learning on a child whose panel is not held
        if stray:
            raise DisclosureError(f"learning on {theme_id} for a child without a panel: {stray}")
        m.know(frame.where(), "==", panel.where(state="counted"), why="themes of held panels")
        m.cell(key, frame.where(tagged="yes"), group=THEMES)


def _actions(m: Model, f: PartnershipFigures) -> None:
    """Actions each agency owns: the partnership's own work, printed whatever their size."""
    owners = sorted({k.split("/")[1] for k in f.counts if k.startswith("actions/")})
    frame = m.frame(
        "actions", {"agency": owners or [""], "state": ("overdue", "open", "done", "other")}
    )
    for agency in owners:
        overdue = {c.measure for c in f.counts[f"actions/{agency}/overdue"].cells}
        still = {c.measure for c in f.counts[f"actions/{agency}/open"].cells}
        done = {c.measure for c in f.counts[f"actions/{agency}/done"].cells}
        for cell in f.counts[f"actions/{agency}/all"].cells:
            action = cell.measure
            state = (
                "overdue"
                if action in overdue
                else "open"
                if action in still
                else "done"
                if action in done
                else "other"
            )
            frame.add(agency=agency, state=state)
        options: dict[str, Any] = {"sensitive": False, "group": ACTIONS}
        m.cell(f"actions/{agency}/all", frame.where(agency=agency), **options)
        m.cell(
            f"actions/{agency}/open",
            frame.where(agency=agency, state=["overdue", "open"]),
            **options,
        )
        m.cell(f"actions/{agency}/overdue", frame.where(agency=agency, state="overdue"), **options)
        m.cell(f"actions/{agency}/done", frame.where(agency=agency, state="done"), **options)


def _check(m: Model, f: PartnershipFigures) -> None:
    """Every count the model defines under a figure's key has the figure's value."""
    for key, cell in m.cells.items():
        figure = f.counts.get(key)
        if figure is not None and figure.value != cell.value:
            raise DisclosureError(f"{key}: {cell.value} in the model, {figure.value} counted")


# --------------------------------------------------------------------------- writing


class PublicView:
    """How the public partnership report writes the figures: through the protected view.

    The same calls as :class:`audit.partnership.figures.InternalView`, so the chapters are
    written once: ``count`` in tables ("<5", "[c]"), ``words`` in sentences ("fewer than 5
    children"), ``share`` only when its count, total and remainder are all printed.
    """

    public = True

    def __init__(self, figures: PartnershipFigures, view: disclosure.View) -> None:
        self.figures = figures
        self.view = view

    def count(self, key: str) -> str:
        """Write a count in a table."""
        return self.view.count(key)

    def words(self, key: str, noun: str = "", plural: str | None = None) -> str:
        """Write a count in a sentence, its noun agreeing with it as written."""
        return self.view.words(key, noun, plural)

    def one(self, key: str) -> bool:
        """Tell whether the count is written as a 1 (a singular sentence)."""
        return self.view.one(key)

    def zero(self, key: str) -> bool:
        """Tell whether the count is written as a 0 ("no child")."""
        return not self.view.hidden(key) and self.view.value(key) == 0

    def hidden(self, key: str) -> bool:
        """Tell whether a count is withheld or left out."""
        return self.view.hidden(key)

    def left_out(self, group: str) -> bool:
        """Tell whether a part of the report is left out of the public version."""
        return self.view.left_out(group)

    def share(self, share: Share | Proportion | None) -> str:
        """Write a share of children with its interval, or what the public version shows."""
        if not isinstance(share, Share):
            raise DisclosureError("the public version writes only modelled shares")
        p = share.proportion
        if p.share is None or p.n == 0:
            return "no answers yet"
        unit = "child" if p.n == 1 else "children"
        return self.view.share(share.good, dataclasses.replace(p, unit=unit), none="no answers yet")


def protected(f: PartnershipFigures, threshold: int) -> PublicView:
    """Return the public view of a review's figures, protected at ``threshold``."""
    return PublicView(f, define(f).protect(threshold))


__all__ = [
    "LEFT_OUT_BY_DESIGN",
    "PublicView",
    "define",
    "party_group",
    "protected",
]
