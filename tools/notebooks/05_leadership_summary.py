"""Notebook 05: leadership summary — the period across all teams (runs once per period)."""

MODULE = "helpers.notebooks.leadership"  # declares what the run checks and prepares for this notebook

SCOPE = "period"

PARAMS = '''
# Parameters (papermill overrides these; the defaults run on the demo data)
params_file = "../params/demo.yaml"
team = ""         # empty: the whole company (this notebook runs once per period)
period = ""       # empty: the period in the params file (e.g. 2026Q3 or 2026-09)
language = ""     # empty: the language in the params file (zh | en)
workspace = ""    # set by the runner: data prepared once per run; empty: computed here
output_dir = ""   # set by the runner: where this report's CSV files go; empty: not written
'''

CELLS = [
    ("md", "# 管理层摘要：全公司考核结果", ["zh", "remove"]),
    ("md", "# Leadership summary: the company's results", ["en", "remove"]),
    ("code", PARAMS, ["parameters"]),
    ("code", '''
from helpers.notebooks import leadership
from helpers.present import plotting
from helpers.context.workbook import open_team

plotting.setup()
ctx = open_team(params_file, team, period, workspace, language, output_dir)
ls = leadership.build(ctx, params_file, workspace)
''', ["remove"]),
    ("md", "## 本期要点", ["zh"]),
    ("md", "## Key messages", ["en"]),
    ("code", "leadership.headline(ls)"),
    ("md", "## 概览", ["zh"]),
    ("md", "## Overview", ["en"]),
    ("code", "leadership.intro(ls)"),
    ("code", "leadership.region_table(ls)"),
    ("code", "leadership.record_note(ls)"),
    ("md", "## 风险", ["zh"]),
    ("md", "## Risks", ["en"]),
    ("code", "leadership.risks_text(ls)"),
    ("md", "### 流失的大客户", ["zh"]),
    ("md", "### Key accounts lost", ["en"]),
    ("code", "leadership.losses_table(ls)"),
    ("md", "### 各团队投诉", ["zh"]),
    ("md", "### Complaints by team", ["en"]),
    ("code", "leadership.spikes_table(ls)"),
    ("md", "## 绩效工资与预算", ["zh"]),
    ("md", "## Variable pay against budget", ["en"]),
    ("code", "leadership.payout_chart(ls)"),
    ("code", "leadership.health_line(ls)"),
    ("code", "leadership.pay_table(ls)"),
    ("md", "## 目标公平性", ["zh"]),
    ("md", "## Target fairness", ["en"]),
    ("md", "把目标设定方案应用于过去几期并与实际比较：某区域或团队的达成率中位数多期持续高于 110%（目标偏松）或低于 90%（目标偏紧）即提示，发布目标前应调整其方法或权重。", ["zh"]),
    ("md", "The target plan applied to past periods and compared with what happened: a region or team whose median attainment stays above 110 % (targets too easy) or below 90 % (too hard) in most periods is flagged; adjust its method or weights before publishing targets.", ["en"]),
    ("code", "leadership.fairness_table(ls)"),
    ("md", "## 团队对比", ["zh"]),
    ("md", "## Teams compared", ["en"]),
    ("md", "销售达成率 = 团队销售额 ÷ 团队销售目标；虚线为 100% 达成和 100 分。环比、同比按本期名单上的客户经理同口径计算。", ["zh"]),
    ("md", "Sales attainment = the team's sales ÷ its sales target; the dashed lines mark 100 % and 100 points. Growth compares the same managers (this period's rosters) with the previous period and a year ago.", ["en"]),
    ("code", "leadership.team_chart(ls)"),
    ("code", "leadership.team_table(ls)"),
    ("md", "## 达成率与总分分布", ["zh"]),
    ("md", "## Attainment and score distributions", ["en"]),
    ("code", "leadership.distribution_text(ls)"),
    ("code", "leadership.distribution_chart(ls)"),
    ("md", "## 进步与退步最大的客户经理", ["zh"]),
    ("md", "## Biggest movers", ["en"]),
    ("md", "与上期总分相比（两期都有得分的客户经理）。", ["zh"]),
    ("md", "Total score against the previous period (managers scored in both).", ["en"]),
    ("code", "leadership.movers_tables(ls)"),
    ("md", "## 签字确认", ["zh"]),
    ("md", "## Sign-off", ["en"]),
    ("code", "leadership.signoff_text(ls)"),
    ("md", "## 关于本摘要", ["zh"]),
    ("md", "## About this summary", ["en"]),
    ("md", """
本摘要汇总全公司本期考核结果，只供管理层阅读。其中的得分、等级和绩效工资与各团队季度考核报告中的完全一致；环比、同比按本期名单上的客户经理同口径计算。
""", ["zh"]),
    ("md", """
This summary brings the period's results of the whole company together for leadership. Its scores, grades and pay are exactly those of the teams' quarterly reviews; growth compares the same managers (this period's rosters) with earlier periods.
""", ["en"]),
    ("code", "leadership.save(ls)", ["remove"]),
]
