"""Notebook 02: strategy → objectives → KPI tree, SMART and data checks, strategy shift (per team)."""

MODULE = "helpers.notebooks.decomposition"  # declares what the run checks and prepares for this notebook

from common import PARAMS

CELLS = [
    ("md", "# 战略分解与KPI体系", ["zh", "remove"]),
    ("md", "# Strategy and KPI decomposition", ["en", "remove"]),
    ("md", """
本报告把公司战略分解为客户经理可执行、可衡量的考核指标：战略 → 业绩考核与市场考核 → 战略目标 → 指标，每一层都有权重。报告还检查每项指标是否符合 SMART 原则、现有数据能否计算，并演示战略调整后权重和排名会怎样变化。
""", ["zh"]),
    ("md", """
This report breaks the company strategy down into indicators a customer manager can act on and be measured by: strategy → results and market work → objectives → indicators, with a weight at every level. It checks that each indicator is SMART and can be computed from the data, and shows how weights and ranks change when the strategy shifts.
""", ["en"]),
    ("code", PARAMS, ["parameters"]),
    ("code", '''
from helpers.notebooks import decomposition as kd
from helpers.present import plotting
from helpers.context.workbook import open_team

plotting.setup()
ctx = open_team(params_file, team, period, workspace, language, output_dir)
d = kd.prepare(ctx, params_file, workspace)
''', ["remove"]),
    ("md", "## 战略与目标", ["zh"]),
    ("md", "## Strategy and objectives", ["en"]),
    ("code", "kd.strategy_text(d)"),
    ("md", "## 本期执行的考核方案", ["zh"]),
    ("md", "## The plan in force", ["en"]),
    ("md", "季度考核实际按下面这棵树计分和发放绩效工资：业绩考核按权重方案的权重，市场考核为各项定性评分的平均。方框中的“全局”即占总分的权重。", ["zh"]),
    ("md", "The quarterly review scores and pays on this tree: the results part by the weight scheme's weights, the market-work part as the mean of the qualitative ratings. “Global” in each box is the share of the total score.", ["en"]),
    ("code", "kd.plan_tree_chart(d, params_file, workspace)"),
    ("md", "## 战略的KPI树（设计方案）", ["zh"]),
    ("md", "## The strategy's KPI tree (a design)", ["en"]),
    ("md", "从左到右逐层分解。方框中的“本级”是在上一层中所占的比例，“全局”是占总分的权重（沿路径各层权重相乘，例如 70% × 50% × 40% = 14%）。灰底红色虚线框的指标缺少数据。", ["zh"]),
    ("md", "The tree reads left to right. In each box the first figure is the share of the level above; “global” is the weight in the total score (the product of the shares down the path, e.g. 70% × 50% × 40% = 14%). Grey boxes with a red dashed border lack data.", ["en"]),
    ("code", "kd.tree_chart(d)"),
    ("md", "### 与实际计分方案的对照", ["zh"]),
    ("md", "### Against the plan the review pays on", ["en"]),
    ("code", "kd.plan_in_force_text(d, params_file, workspace)"),
    ("code", "kd.plan_in_force_table(d, params_file, workspace)"),
    ("md", "### 指标说明", ["zh"]),
    ("md", "### Indicator dictionary", ["en"]),
    ("md", "每项指标衡量什么、怎样计算、数据从哪里来、方向和统计周期，以及在总分中的权重：", ["zh"]),
    ("md", "What each indicator measures, how it is computed, where the data comes from, which direction is better, its period and its weight in the total score:", ["en"]),
    ("code", "kd.dictionary_table(d)"),
    ("md", "### 逐级落实到客户经理", ["zh"]),
    ("md", "### Cascade to the managers", ["en"]),
    ("md", "公司的KPI树先按区域、再按团队调整权重（越具体的调整优先），再落实到每位客户经理：客户经理没有某类客户时，只适用于该类客户的指标不考核。", ["zh"]),
    ("md", "The company tree is adjusted for the region, then for the team (the most specific adjustment wins), then applied to each manager: indicators for a customer segment the manager does not serve are left out.", ["en"]),
    ("code", "kd.manager_note(d)"),
    ("md", "## SMART检查", ["zh"]),
    ("md", "## SMART check", ["en"]),
    ("md", "每项指标按 SMART 原则检查：具体（有明确定义和公式）、可衡量（有数据来源）、可实现（示例目标在合理范围内）、相关（权重不低于 5%，否则对考核几乎没有影响）、有时限（统计周期不长于考核周期）。", ["zh"]),
    ("md", "Each indicator is checked against SMART: specific (a clear definition and formula), measurable (a data source), achievable (example targets within range), relevant (a weight of at least 5 %, or it hardly moves the score), time-bound (measured over no more than the review period).", ["en"]),
    ("code", "kd.smart_summary(d)"),
    ("code", "kd.smart_table(d)"),
    ("md", "## 数据可得性", ["zh"]),
    ("md", "## Data availability", ["en"]),
    ("code", "kd.availability_note(d)"),
    ("code", "kd.availability_table(d)"),
    ("md", "## 按客户类型的指标与示例目标", ["zh"]),
    ("md", "## Indicators and example targets by customer segment", ["en"]),
    ("md", "不同类型的客户用不同的指标。下表是方法论给出的示例目标（大客户、小客户、散客），供设定目标时讨论，旁边列出本期全公司客户经理的中位数作参照。", ["zh"]),
    ("md", "Different customer segments get different indicators. The table lists the methodology's example targets for key accounts, small customers and walk-in customers, as a starting point for target setting, beside the company median per manager this period.", ["en"]),
    ("code", "kd.segment_table(d)"),
    ("md", "## 战略调整的影响", ["zh"]),
    ("md", "## What changes if the strategy shifts", ["en"]),
    ("code", "kd.shift_text(d)"),
    ("code", "kd.weight_change_chart(d)"),
    ("md", "### 排名变化", ["zh"]),
    ("md", "### Rank moves", ["en"]),
    ("md", "为比较两种战略，每项指标先换算成本期在全公司客户经理中的百分位（0–100，已考虑“越低越好”的指标），再按全局权重加权平均得到得分；缺少数据的指标不计入，其余权重按比例放大。这只是比较战略的示意排名，不是正式考核结果。", ["zh"]),
    ("md", "To compare the two strategies, each indicator is turned into a percentile among all the company's managers this period (0–100, reversed where lower is better) and the percentiles are averaged with the global weights; indicators without data are left out and the other weights scaled up. These ranks only illustrate the strategies; they are not the formal review.", ["en"]),
    ("code", "kd.rank_chart(d)"),
    ("code", "kd.rank_table(d)"),
    ("code", "ctx.save_csv(kd.tree_export(d), \"kpi_tree.csv\");", ["remove"]),
]
