"""Pure analysis of stored figures: metrics (a registry), bootstrap intervals, the paired diff of
two gradings, the M ablation, judge agreement, and reliability diagrams. No I/O but drawing."""

# The four figures a variant is summed up by: its table rows in the demo, the metrics on its
# MLflow run, the sentence that concludes a diff.
HEADLINE = ("accuracy", "confidence", "overconfidence", "smece")
