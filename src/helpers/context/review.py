"""The review of one team and period, computed once for a notebook (:func:`team_review`):
the core's numbers (:mod:`helpers.core.review`) for the team's managers, worded in the
report's language (:mod:`helpers.present.review`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.context.workbook import TeamContext
from helpers.core import review as core_review
from helpers.core.review import FindingRule, _targets, product_lines, select_findings
from helpers.errors import input_error
from helpers.kpis.indicators import Library, load_library
from helpers.periods import ReviewPeriod
from helpers.plan.params import resolve
from helpers.present import review as words
from helpers.present.i18n import t

__all__ = ["TeamReview", "team_review", "review_library", "vertical_for", "horizontal_for", "segments_for",
           "findings_for", "plan_for", "summary_for"]


def review_library(ctx: TeamContext, params_file: str | Path | None = None) -> Library:
    """The indicator library named by the run's params (``indicators:``, relative to the params file).

    ``params_file`` is the notebook's ``params_file`` parameter; without it the
    context's ``params_file`` attribute is used when present.
    """
    pf = params_file or getattr(ctx, "params_file", None)
    if not pf:
        raise input_error("review_library", "the params file is not known",
                          fix="pass params_file (the notebook parameter) or a loaded library")
    return load_library(resolve(pf, ctx.params.indicators))


def _owners(ctx: TeamContext) -> dict[str, str]:
    return {str(m): str(n) for m, n in zip(ctx.roster["manager_id"], ctx.roster["name"])}


def _fractions_of(ctx: TeamContext) -> pd.Series:
    return pd.Series(ctx.roster["fraction"].to_numpy(dtype=float), index=ctx.roster["manager_id"].astype(str))


def vertical_for(ctx: TeamContext, library: Library, indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`vertical_comparison` for the team's managers and period."""
    return words.vertical_comparison(ctx.actuals, library, ctx.period, indicators=indicators, managers=ctx.manager_ids,
                               language=ctx.language)


def horizontal_for(ctx: TeamContext, library: Library, indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`horizontal_comparison` for the team (benchmarks pro-rated by the roster's fraction)."""
    return words.horizontal_comparison(ctx.actuals, ctx.company, library, ctx.period, indicators=indicators,
                                 managers=ctx.manager_ids, fractions=_fractions_of(ctx), language=ctx.language)


def segments_for(ctx: TeamContext) -> pd.DataFrame:
    """:func:`segment_breakdown` for the team."""
    return words.segment_breakdown(ctx.actuals, ctx.period, managers=ctx.manager_ids, language=ctx.language)


def findings_for(ctx: TeamContext, library: Library, targets: pd.DataFrame | None = None,
                 indicators: Sequence[str] | None = None, rule: FindingRule = FindingRule()) -> pd.DataFrame:
    """:func:`strengths_weaknesses` for the team."""
    return words.strengths_weaknesses(ctx.actuals, ctx.company, library, ctx.period, targets=targets,
                                indicators=indicators, managers=ctx.manager_ids, fractions=_fractions_of(ctx),
                                rule=rule, language=ctx.language)


def plan_for(ctx: TeamContext, library: Library, targets: pd.DataFrame | None = None,
             indicators: Sequence[str] | None = None, rule: FindingRule = FindingRule()) -> pd.DataFrame:
    """:func:`improvement_plan` for the team (owners = the roster's names)."""
    return words.improvement_plan(findings_for(ctx, library, targets, indicators, rule), ctx.period, owners=_owners(ctx),
                                  actuals=ctx.actuals, company=ctx.company, tables=ctx.tables, library=library,
                                  language=ctx.language)


def summary_for(ctx: TeamContext, manager_id: str, library: Library, targets: pd.DataFrame | None = None,
                indicators: Sequence[str] | None = None, rule: FindingRule = FindingRule()) -> str:
    """:func:`monthly_summary` for one manager of the team."""
    return team_review(ctx, library=library, targets=targets, indicators=indicators, rule=rule).summary(manager_id)


@dataclass
class TeamReview:
    """Everything of the review of one team and period, computed once (:func:`team_review`).

    Frames as returned by the pure functions: ``vertical``, ``horizontal``,
    ``segments``, ``products``, ``assessment`` (every manager × indicator judged),
    ``findings`` (strengths and weaknesses kept), ``plan``.
    """

    period: ReviewPeriod
    language: str
    names: dict[str, str]
    vertical: pd.DataFrame
    horizontal: pd.DataFrame
    segments: pd.DataFrame
    products: pd.DataFrame
    assessment: pd.DataFrame
    findings: pd.DataFrame
    plan: pd.DataFrame
    _parts: words._Parts = field(repr=False)

    def t(self, key: str, **values: Any) -> str:
        return t(key, self.language, **values)

    def summary(self, manager_id: str, top_lines: int = 3, placeholder_growth: float = 0.05,
                heading_level: int | None = None, findings: bool = True) -> str:
        """The monthly-summary draft of one manager (Markdown text; ``findings=False`` refers
        to the feedback block instead of repeating the strengths, weaknesses and actions)."""
        if manager_id not in self.names:
            raise input_error("manager_id", f"manager {manager_id!r} is not in this team",
                              fix=f"use one of: {', '.join(self.names)}")
        return words._summary(self._parts, manager_id, self.names[manager_id], top_lines, placeholder_growth,
                              heading_level, findings)


def team_review(
    ctx: TeamContext,
    *,
    library: Library | None = None,
    params_file: str | Path | None = None,
    targets: pd.DataFrame | None = None,
    indicators: Sequence[str] | None = None,
    rule: FindingRule = FindingRule(),
) -> TeamReview:
    """The whole review of ``ctx``'s team and period, for a notebook (one call).

    ``library``: the indicator library (else loaded from the params via
    :func:`review_library`); ``targets``: optional ``manager_id, indicator, period,
    target`` (user-supplied, or from the target-setting step), used for attainment and
    next period's plan.  Benchmarks are pro-rated by the roster's ``fraction``.
    """
    lib = library or review_library(ctx, params_file)
    owners = _owners(ctx)
    fr = _fractions_of(ctx)
    kw: dict[str, Any] = dict(indicators=indicators, managers=ctx.manager_ids, language=ctx.language)
    # the comparisons the assessment judges are the ones the review shows: computed once
    hz_vt = (core_review.horizontal_comparison(ctx.actuals, ctx.company, lib, ctx.period, indicators=indicators,
                                               managers=ctx.manager_ids, fractions=fr),
             core_review.vertical_comparison(ctx.actuals, lib, ctx.period, indicators=indicators,
                                             managers=ctx.manager_ids))
    assessment = words.assess(ctx.actuals, ctx.company, lib, ctx.period, targets=targets, fractions=fr, rule=rule,
                              comparisons=hz_vt, **kw)
    findings = select_findings(assessment, rule.max_items)
    plan = words.improvement_plan(findings, ctx.period, owners=owners, actuals=ctx.actuals, company=ctx.company,
                                  tables=ctx.tables, library=lib, language=ctx.language)
    orders = ctx.tables.get("orders")
    products = product_lines(orders, ctx.period, managers=ctx.manager_ids) if orders is not None else None
    hz = words.comparison_words(hz_vt[0], ctx.language)
    parts = words._Parts(ctx.period, ctx.language, lib, ctx.actuals, ctx.company, list(ctx.manager_ids), hz, findings,
                   plan, products, _targets(targets, lib), fr)
    return TeamReview(
        period=ctx.period, language=ctx.language, names=owners,
        vertical=words.comparison_words(hz_vt[1], ctx.language),
        horizontal=hz,
        segments=words.segment_breakdown(ctx.actuals, ctx.period, managers=ctx.manager_ids, language=ctx.language),
        products=products if products is not None else pd.DataFrame(),
        assessment=assessment, findings=findings, plan=plan, _parts=parts,
    )
