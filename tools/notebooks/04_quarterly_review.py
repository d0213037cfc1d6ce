"""Notebook 04: quarterly (or monthly) review — scorecard, grades, pay and sign-off (per team)."""

MODULE = "helpers.notebooks.quarterly"  # declares what the run checks and prepares for this notebook

from common import PARAMS

CELLS = [
    ("md", "# 季度考核：评分、等级与绩效工资", ["zh", "remove"]),
    ("md", "# Quarterly review: scores, grades and pay", ["en", "remove"]),
    ("md", """
本报告按评分方案给团队每位客户经理打分：各指标达成率（越低越好的指标用目标 ÷ 实际）经计分曲线换算为分数，按所选权重方案加权得到业绩考核分，再与市场考核（定性评分）按比例合成总分，评定等级和排名，并按激励方案逐项计算绩效工资。最后是每人一页的签字确认页，可直接打印。
""", ["zh"]),
    ("md", """
This report scores every manager of the team with the scoring plan: each indicator's attainment (target ÷ actual when lower is better) is turned into points by a scoring curve, weighted with the chosen weight scheme into the hard-results score, combined with the soft market appraisal (qualitative ratings) into the total, graded and ranked; the variable pay is computed line by line with the incentive plan. A sign-off page per manager closes the report, ready to print.
""", ["en"]),
    ("code", PARAMS, ["parameters"]),
    ("code", '''
from helpers.present import plotting
from helpers.notebooks import quarterly
from helpers.context.workbook import open_team

plotting.setup()
ctx = open_team(params_file, team, period, workspace, language, output_dir)
qr = quarterly.build(ctx, params_file, workspace)
''', ["remove"]),
    ("md", "## 概览", ["zh"]),
    ("md", "## Overview", ["en"]),
    ("code", "quarterly.intro(qr)"),
    ("md", "### 指标、权重与计分曲线", ["zh"]),
    ("md", "### Indicators, weights and scoring curves", ["en"]),
    ("code", "quarterly.weights_table(qr)"),
    ("md", "## 考核结果", ["zh"]),
    ("md", "## Results", ["en"]),
    ("md", "同分者名次相同（如 1、2、2、4）。强制分布时同分者等级相同（先比销售达成率）；仍同分而跨越两档时，取多数名额所在的那一档（各半时取较好的一档）；没有数据的客户经理不参加排名和定级。", ["zh"]),
    ("md", "Equal totals share a rank (1, 2, 2, 4). Under forced distribution equal totals get the same grade (sales attainment decides first); a tie still straddling two grades takes the grade holding most of its places (the better one on an even split); managers without data are neither ranked nor graded.", ["en"]),
    ("code", "quarterly.summary_table(qr)"),
    ("md", "### 评分卡", ["zh"]),
    ("md", "### Scorecard", ["en"]),
    ("md", "每格为指标得分（括号内为达成率）；指标名后为权重。没有得分的指标不计入，其余权重按比例放大：无数据；无目标；目标与实际都为 0（没有要求也没有业绩，算“未考核”，绝不按 100% 计）；目标为 0 而实际不为 0；比率的样本少于方案规定的最少样本（如满意度问卷不足 5 份），一两个样本不能决定分数。", ["zh"]),
    ("md", "Each cell is the indicator's score (attainment in brackets); the weight follows the indicator's name. An indicator without a score is left out and the other weights are scaled up: no data; no target; a target of 0 and an actual of 0 (nothing asked, nothing done: “not assessed”, never 100 %); a target of 0 with a non-zero actual; a ratio on fewer cases than the plan's minimum base (e.g. fewer than 5 survey responses behind CSAT), since one or two cases cannot decide a score.", ["en"]),
    ("code", "quarterly.scorecard_table(qr)"),
    ("md", "### 总分分布", ["zh"]),
    ("md", "### Score distribution", ["en"]),
    ("code", "quarterly.distribution_chart(qr)"),
    ("md", "### 卡在门槛下", ["zh"]),
    ("md", "### Just below an edge", ["en"]),
    ("code", "quarterly.edges_table(qr)"),
    ("md", "## 个人考核", ["zh"]),
    ("md", "## Each manager", ["en"]),
    ("md", "趋势图为近几期的实际值（实线）与公司中位数（虚线）。优势、不足和改进计划由数据生成，请主管审阅后与本人沟通。", ["zh"]),
    ("md", "The trend charts show the last periods' actuals (solid) against the company median (dashed). Strengths, weaknesses and the improvement plan are drafted from the data; the supervisor reviews them with the manager.", ["en"]),
    ("code", "quarterly.manager_sections(qr)"),
    ("md", "## 附：市场考核细则", ["zh"]),
    ("md", "## Appendix: soft appraisal rubric", ["en"]),
    ("code", "quarterly.rubric_table(qr)"),
    ("md", "## 签字确认", ["zh"]),
    ("md", "## Sign-off", ["en"]),
    ("code", "quarterly.signoff_pages(qr)"),
    ("code", "quarterly.save(qr)", ["remove"]),
]
