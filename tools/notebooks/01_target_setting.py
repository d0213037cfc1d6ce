"""Notebook 01: target setting — methods, seasonality, fair apportionment, backtests (per team)."""

MODULE = "helpers.notebooks.targetlab"  # declares what the run checks and prepares for this notebook

from common import PARAMS

CELLS = [
    ("md", "# 目标设定", ["zh", "remove"]),
    ("md", "# Target setting", ["en", "remove"]),
    ("md", """
目标要符合 SMART 原则：具体、可衡量、可实现、相关、有时限。本报告把公司的目标设定方案落实到本团队的每位客户经理：公司或区域的总目标按历史份额、市场潜力和客户基数分解，按季节因素分到各月，新入职、离职和调岗人员按在岗时间折算；再用本人历史和全公司同事检验每个目标是否可实现，并用过去几个季度回测方案是否公平。
""", ["zh"]),
    ("md", """
Targets should be SMART: specific, measurable, achievable, relevant and time-bound. This report applies the company's target plan to every manager of the team: company or regional totals are split by historical share, market potential and customer base, spread over the months by season, and pro-rated for managers who join, leave or change team; each target is then checked against the manager's own history and all peers in the company, and the plan is backtested on past quarters to show whether it is fair.
""", ["en"]),
    ("code", PARAMS, ["parameters"]),
    ("code", '''
from IPython.display import Markdown, display

from helpers.present import plotting
from helpers.notebooks import targetlab as tl
from helpers.context.workbook import open_team

plotting.setup()
ctx = open_team(params_file, team, period, workspace, language, output_dir)
lab = tl.build(ctx, params_file, workspace)
''', ["remove"]),
    ("md", "## 概览", ["zh"]),
    ("md", "## Overview", ["en"]),
    ("code", "display(Markdown(tl.summary_text(lab)))"),
    ("md", "## 目标怎样设定", ["zh"]),
    ("md", "## How the targets are set", ["en"]),
    ("md", "每项指标的方法由目标设定方案决定，下面用方案中的实际数字说明：", ["zh"]),
    ("md", "The target plan decides the method of each indicator; here it is in plain words, with the plan's numbers:", ["en"]),
    ("code", "display(Markdown(tl.plan_text(lab)))"),
    ("md", "### 逐级分解的核对", ["zh"]),
    ("md", "### Checking the top-down split", ["en"]),
    ("md", "自上而下分解的指标：公司总目标分到区域、团队，再分到客户经理。下面逐级核对各部分之和是否等于上一级（按本期实际目标计算）：", ["zh"]),
    ("md", "Indicators split top-down: the company total goes to regions and teams, then to managers. Each level is checked against the one above, from the targets in force:", ["en"]),
    ("code", "display(Markdown(tl.split_check_text(lab)))"),
    ("code", "tl.split_table(lab)"),
    ("md", "## 本团队目标", ["zh"]),
    ("md", "## This team's targets", ["en"]),
    ("md", "### 业绩量指标", ["zh"]),
    ("md", "### Volume indicators", ["en"]),
    ("md", "季度目标如下；各月目标见下文“历史与目标”图，并随本报告发布在目标表中。期中入职或离职的客户经理已按在岗比例折算。", ["zh"]),
    ("md", "The quarter's targets; the monthly targets are in the “History and targets” chart below and in the targets table published with this report. Managers who joined or left during the period are pro-rated by their share of it.", ["en"]),
    ("code", "tl.volume_table(lab)"),
    ("md", "### 比率指标", ["zh"]),
    ("md", "### Rate indicators", ["en"]),
    ("code", "display(Markdown(tl.levels_text(lab)))"),
    ("code", "tl.rate_table(lab)"),
    ("md", "### 折算与替代说明", ["zh"]),
    ("md", "### Pro-rating and fallbacks", ["en"]),
    ("md", "凡是按在岗比例折算、缺少历史数据而用团队或公司中位数替代、或基期数据不全而推算的目标，都在这里列明。", ["zh"]),
    ("md", "Every target that was pro-rated, filled in from the team or company median for lack of history, or scaled up from an incomplete base period is listed here.", ["en"]),
    ("code", "tl.notes_table(lab)"),
    ("md", "### 历史与目标", ["zh"]),
    ("md", "### History and targets", ["en"]),
    ("md", "柱形为本期各月目标，菱形为去年同月实际，折线为过去两年的月度实际（本团队现有客户经理合计）。", ["zh"]),
    ("md", "Bars are this period's monthly targets, diamonds the same months last year, the line the monthly actuals of the past two years (the team's current managers combined).", ["en"]),
    ("code", "tl.history_chart(lab)"),
    ("md", "## SMART 检查", ["zh"]),
    ("md", "## SMART checks", ["en"]),
    ("code", "display(Markdown(tl.smart_text(lab)))"),
    ("code", "tl.growth_chart(lab)"),
    ("md", "被标记的目标（目标按全期计，便于与本人基期比较）：", ["zh"]),
    ("md", "Flagged targets (targets for the full period, to compare with the manager's own base):", ["en"]),
    ("code", "tl.smart_table(lab)"),
    ("md", "## 自下而上对账", ["zh"]),
    ("md", "## Bottom-up reconciliation", ["en"]),
    ("md", "顾问提示（报告中不显示）：在目标设定方案（params/targets.yaml）的 `sources.commitments_csv` 中指定承诺文件（manager_id, indicator, period, commitment），本节即列出承诺与分解目标的差距。", ["zh", "workshop"]),
    ("md", "Consultant's note (not shown in the report): name the commitments file (manager_id, indicator, period, commitment) in `sources.commitments_csv` of the target plan (params/targets.yaml) and this section lists each commitment against the split target.", ["en", "workshop"]),
    ("code", "tl.reconcile_table(lab)"),
    ("md", "## 回测", ["zh"]),
    ("md", "## Backtest", ["en"]),
    ("code", "display(Markdown(tl.backtest_text(lab)))"),
    ("code", "tl.backtest_chart(lab)"),
    ("md", "### 按区域和团队", ["zh"]),
    ("md", "### By region and team", ["en"]),
    ("md", "全公司、各区域和本团队的完成情况（其他团队见上图）：", ["zh"]),
    ("md", "The company, each region and this team (the other teams are in the chart above):", ["en"]),
    ("code", "tl.backtest_table(lab)"),
    ("md", "### 公平性", ["zh"]),
    ("md", "### Fairness", ["en"]),
    ("md", "某个团队或区域在最近几期中多数期的完成率中位数都明显高于或低于目标，说明方案对它系统性偏松或偏紧，发布目标前应调整权重或方法。下表列出被标记的团队和区域，以及本团队和本区域。", ["zh"]),
    ("md", "A team or region whose median attainment is well above or below target in most recent periods is systematically favoured or penalised by the plan; adjust the weights or the method before publishing the targets. The table lists the flagged teams and regions, and this team and region.", ["en"]),
    ("code", "tl.fairness_table(lab)"),
    ("md", "### 本团队", ["zh"]),
    ("md", "### This team", ["en"]),
    ("code", "tl.own_backtest_chart(lab)"),
    ("code", "ctx.save_csv(tl.export(lab), \"targets.csv\");", ["remove"]),
]
