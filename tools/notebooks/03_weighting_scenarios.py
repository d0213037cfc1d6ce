"""Notebook 03: weighting scenarios — AHP, entropy, CRITIC, blends and rank robustness (per team)."""

MODULE = "helpers.notebooks.scenarios"  # declares what the run checks and prepares for this notebook

from common import PARAMS

CELLS = [
    ("md", "# 权重方案与排名稳健性", ["zh", "remove"]),
    ("md", "# Weighting scenarios and rank robustness", ["en", "remove"]),
    ("md", """
权重决定谁拿到奖金。本报告把现行权重与其他方案放在一起比较：领导层的两两比较判断（层次分析法，AHP）、由数据客观计算的权重（熵权法、CRITIC法）以及主客观组合，并检验排名对权重有多敏感。
""", ["zh"]),
    ("md", """
The weights decide who gets the bonus. This report puts the current weights next to the alternatives — leadership's pairwise judgements (AHP), weights computed from the data (entropy, CRITIC) and blends of both — and tests how much the ranking depends on the weights.
""", ["en"]),
    ("code", PARAMS, ["parameters"]),
    ("code", '''
from helpers.present import plotting
from helpers.notebooks import scenarios
from helpers.context.workbook import open_team

plotting.setup()
ctx = open_team(params_file, team, period, workspace, language, output_dir)
sc = scenarios.prepare(ctx, params_file, workspace)
''', ["remove"]),
    ("code", "scenarios.intro_text(sc)"),
    ("md", "## 权重方案", ["zh"]),
    ("md", "## Weight schemes", ["en"]),
    ("md", "下面是考核方案中的全部权重方案。本期无法计算或所有人取值相同的指标会被剔除，其余权重按比例放大，不会按零分计算。", ["zh"]),
    ("md", "These are all the weight schemes of the plan. Indicators that cannot be computed this period, or that are the same for everyone, are dropped and the other weights scaled back up; nothing is scored as zero.", ["en"]),
    ("md", "顾问提示（报告中不显示）：每套方案是 `params/weights/` 文件夹中的一个文件；参数文件的 `weight_scheme`（或评分规则 scoring.yaml 的 `weight_scheme`）指定计分所用的方案。", ["zh", "workshop"]),
    ("md", "Consultant's note (not shown in the report): each scheme is one file in the `params/weights/` folder; `weight_scheme` in the params file (or in the scoring plan, scoring.yaml) names the one the review pays on.", ["en", "workshop"]),
    ("code", "scenarios.scheme_list(sc)"),
    ("md", "## 专家判断矩阵", ["zh"]),
    ("md", "## Judgement matrices", ["en"]),
    ("md", """
每位专家对指标两两比较（萨蒂 1–9 标度：1 同等重要，3 稍重要，5 明显重要，7 强烈重要，9 极端重要；1/3 等表示反过来）。一致性比率 CR 衡量判断是否自相矛盾，CR ≤ 0.10 可以接受（Saaty 1980）。CR 偏高时，列出与由权重反推的比值相差最大的判断，供专家重新考虑。
""", ["zh"]),
    ("md", """
Each expert compares the indicators pair by pair on Saaty's 1–9 scale (1 equal, 3 moderately, 5 strongly, 7 very strongly, 9 extremely more important; 1/3 etc. the other way round). The consistency ratio CR measures how much the judgements contradict each other; CR ≤ 0.10 is acceptable (Saaty 1980). When it is higher, the judgements furthest from the ratios the weights imply are listed for the expert to reconsider.
""", ["en"]),
    ("code", "scenarios.show_judgements(sc)"),
    ("md", "## 各方案的权重", ["zh"]),
    ("md", "## Weights under each scheme", ["en"]),
    ("code", "scenarios.weights_chart(sc)"),
    ("code", "scenarios.weights_note(sc)"),
    ("md", "## 排名对比", ["zh"]),
    ("md", "## Ranks side by side", ["en"]),
    ("md", "每列是一套方案下的团队内名次（1 为最好），第一列是考核方案实际使用的权重，与季度考核报告的名次相同；“名次波动”是最差与最好名次之差。得分为该方案下的考核总分（满分按计分曲线可超过 100）。", ["zh"]),
    ("md", "Each column is the rank within the team under one scheme (1 = best); the first is the scheme the plan pays on, with the same ranks as the quarterly review. The spread is the worst minus the best rank. The score is the review's total score under that scheme (the scoring curve allows more than 100).", ["en"]),
    ("code", "scenarios.rank_table(sc)"),
    ("code", "scenarios.movers_text(sc)"),
    ("md", "### 方案之间的一致性", ["zh"]),
    ("md", "### Agreement between schemes", ["en"]),
    ("md", "对角线以下为 Kendall τ，以上为 Spearman ρ；1 表示排名完全相同，0 表示毫无关系，负数表示排名相反。", ["zh"]),
    ("md", "Kendall τ below the diagonal, Spearman ρ above; 1 means identical rankings, 0 no relation, a negative value reversed rankings.", ["en"]),
    ("code", "scenarios.correlation_table(sc)"),
    ("md", "## 排名稳健性", ["zh"]),
    ("md", "## Rank robustness", ["en"]),
    ("md", """
把考核方案所用权重按狄利克雷分布随机扰动数千次（平均仍为原权重，浓度 κ 越大扰动越小），每次按季度考核的同一套计算（达成率 → 计分曲线 → 加权，软性评分不变）重新打分排名。左图：黑点为现行名次，色条为 90% 抽样的名次区间，灰线为最好到最差名次；右图：进入前列和落入末位的概率。
""", ["zh"]),
    ("md", """
The weights the plan pays on are perturbed at random thousands of times (Dirichlet draws that average to the scheme's weights; a larger concentration κ means smaller changes) and the team is re-scored each time by the quarterly review's own computation (attainment → scoring curve → weights, the soft ratings unchanged) and re-ranked. Left: the black dot is the rank now, the coloured bar holds 90 % of the draws, the grey line runs from best to worst rank. Right: the chance of landing in the top and in the bottom group.
""", ["en"]),
    ("code", "scenarios.robustness_chart(sc)"),
    ("code", "scenarios.robustness_table(sc)"),
    ("md", "## 方案健康检查（全公司）", ["zh"]),
    ("md", "## Plan health check (whole company)", ["en"]),
    ("md", """
在方案付诸实施之前，用本期全公司的数据检验它：绩效工资是跟着绩效走，还是跟着辖区大小走；有多少人在某项指标上得 0 分或封顶；有没有人刚好卡在跳档点下；人人达标时要花多少钱；同样的业绩早一个月或晚一个月入账，工资会不会不同。每项检查都给出结论和理由；各团队报告中的本节相同。
""", ["zh"]),
    ("md", """
Before a plan is put to work, it is tried on this period's data for the whole company: does pay follow performance or territory size; how many managers score 0 or hit the cap on an indicator; does anyone sit just below a jump; what does it cost with everyone at target; would the same results booked a month earlier or later pay differently. Each check gives its result and why it matters; this section is the same in every team's report.
""", ["en"]),
    ("code", "scenarios.health_text(sc)"),
    ("code", "scenarios.health_table(sc)"),
    ("code", "scenarios.health_chart(sc)"),
    ("md", "### 成本与预算", ["zh"]),
    ("md", "### Cost against the budget", ["en"]),
    ("md", "假设每位客户经理的销售额恰好为目标的 80%、100%、120%（其他业绩不变），按现行方案计算的绩效工资合计，与本期预算和本期实发相比。", ["zh"]),
    ("md", "The plan's variable pay if every manager's sales were exactly 80 %, 100 % or 120 % of target (everything else as it was), against the period's budget and what was paid.", ["en"]),
    ("code", "scenarios.cost_table(sc)"),
    ("md", "### 卡在门槛下的人", ["zh"]),
    ("md", "### Just below an edge", ["en"]),
    ("md", "销售达成率、满意度等距跳档点不足 3 个百分点，或再多 1 个新客户、1 份问卷就能拿到整笔奖励的客户经理。跳档规则本身是方案的设计（例如种子文章要求新客户奖励须达标才发放），这里列出是为了让设计者知道有多少人的工资取决于一单之差。", ["zh"]),
    ("md", "Managers less than 3 points below a jump (sales attainment, CSAT), or one new customer or one survey response short of a whole bonus. A step is the plan's design (the seed article pays the new-customer bonus only when the target is met); the list shows the designer how many people's pay hangs on a single order.", ["en"]),
    ("code", "scenarios.cliffs_table(sc)"),
    ("md", "## 建议", ["zh"]),
    ("md", "## Recommendation", ["en"]),
    ("code", "scenarios.recommendation(sc)"),
    ("md", "### 研讨模式", ["zh", "workshop"]),
    ("md", "### Workshop mode", ["en", "workshop"]),
    ("md", "在 JupyterLab 中打开本笔记本并运行下一个单元，可以和领导层一起拖动滑块调整权重，实时查看得分和名次。报告中不显示此部分。", ["zh", "workshop"]),
    ("md", "Open this notebook in JupyterLab and run the next cell to move the weights with leadership and watch scores and ranks update live. The report does not show this part.", ["en", "workshop"]),
    ("code", "scenarios.workshop(sc)", ["workshop"]),
    ("code", "scenarios.save(sc)", ["remove"]),
]
