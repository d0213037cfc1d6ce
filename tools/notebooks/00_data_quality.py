"""Notebook 00: data quality and KPI actuals (per team)."""

MODULE = "helpers.notebooks.dataquality"  # declares what the run checks and prepares for this notebook

from common import PARAMS

CELLS = [
    ("md", "# 数据质量与KPI实际值", ["zh", "remove"]),
    ("md", "# Data quality and KPI actuals", ["en", "remove"]),
    ("md", """
本报告检查本团队考核期的数据是否完整、可信，并列出每位客户经理的KPI实际值。后续的目标设定、权重与季度考核都以这些数字为基础：数据有缺口时先在这里发现。
""", ["zh"]),
    ("md", """
This report checks that the team's data for the review period is complete and trustworthy, and lists every customer manager's KPI actuals. Target setting, weighting and the quarterly review all build on these numbers: gaps in the data show up here first.
""", ["en"]),
    ("code", PARAMS, ["parameters"]),
    ("code", '''
from IPython.display import Markdown, display

from helpers.notebooks import dataquality as dq
from helpers.present import plotting
from helpers.context.workbook import open_team

plotting.setup()
ctx = open_team(params_file, team, period, workspace, language, output_dir)
''', ["remove"]),
    ("md", "## 概览", ["zh"]),
    ("md", "## Overview", ["en"]),
    ("code", "display(Markdown(dq.summary_text(ctx)))"),
    ("md", "本期参加考核的客户经理（在岗比例用于新入职、离职和调岗人员的按比例折算）：", ["zh"]),
    ("md", "Managers reviewed this period (the share of the period is used to pro-rate new hires, leavers and movers):", ["en"]),
    ("code", "dq.roster_table(ctx)"),
    ("md", "## 数据覆盖", ["zh"]),
    ("md", "## Data coverage", ["en"]),
    ("md", "每个格子是某张数据表在某个月的行数。颜色突然变浅的格子意味着数据缺失或导出不完整。", ["zh"]),
    ("md", "Each cell is the number of rows of one table in one month. A cell that is suddenly pale means missing or partial data.", ["en"]),
    ("code", "dq.coverage_chart(ctx)"),
    ("code", "display(Markdown(dq.availability_note(ctx)))"),
    ("md", "## 校验结果", ["zh"]),
    ("md", "## Validation findings", ["en"]),
    ("md", "数据在加载时已按数据模型校验（缺列、格式、取值范围、重复编号、引用关系、未来日期），有错误时不会生成报告。下表列出仍需关注的情况：", ["zh"]),
    ("md", "The data was validated against the data model on load (missing columns, formats, ranges, duplicate ids, references, future dates); errors stop the run before any report is written. The table lists what still deserves a look:", ["en"]),
    ("code", "dq.findings_table(ctx)"),
    ("md", "## KPI实际值", ["zh"]),
    ("md", "## KPI actuals", ["en"]),
    ("md", "本期主要指标。“不可用”表示缺少计算所需的数据（不按零计算）。", ["zh"]),
    ("md", "Key indicators for the period. “n/a” means the data needed is missing (it is never counted as zero).", ["en"]),
    ("code", "dq.kpi_table(ctx)"),
    ("md", "虚线为全公司客户经理的中位数，便于横向比较。", ["zh"]),
    ("md", "The dashed line is the median of all managers in the company, for comparison with peers.", ["en"]),
    ("code", "dq.kpi_bars(ctx)"),
    ("md", "## 月度趋势", ["zh"]),
    ("md", "## Monthly trend", ["en"]),
    ("code", "dq.sales_trend(ctx)"),
    ("md", "## 客户结构", ["zh"]),
    ("md", "## Customer segments", ["en"]),
    ("md", "本期销售额按客户类型（大客户、小客户、散客）拆分：", ["zh"]),
    ("md", "Sales in the period split by customer segment (key accounts, small customers, walk-in):", ["en"]),
    ("code", "dq.segment_mix(ctx)"),
    ("code", "ctx.save_csv(dq.kpi_export(ctx), \"kpi_actuals.csv\");", ["remove"]),
]
